"""A local fake of Meta's Graph API (WhatsApp Cloud API, Messenger, Instagram) that also plays the customers."""

from helpline.sandbox.meta.app import create_sandbox_app
from helpline.sandbox.meta.core import MetaSandbox
from helpline.sandbox.meta.errors import GraphError
from helpline.sandbox.meta.webhooks import encode_body, signature_headers

__all__ = ["GraphError", "MetaSandbox", "create_sandbox_app", "encode_body", "signature_headers"]
