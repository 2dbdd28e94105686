"""Imports every domain's tables so that Base.metadata is complete (for Alembic and tests)."""

from helpline.attachments.models import Attachment
from helpline.audit.models import AuditEntry
from helpline.auth.models import AuthSession, LoginThrottle, Operator
from helpline.channels.models import Channel, ChannelMember
from helpline.contacts.models import Contact, ContactIdentity
from helpline.conversations.models import Conversation, Message
from helpline.platform.db import Base
from helpline.platform.outbox import OutboxRow
from helpline.profiles.models import Event, Profile
from helpline.webhooks.models import Webhook, WebhookDelivery

metadata = Base.metadata

__all__ = [
    "Attachment",
    "AuditEntry",
    "AuthSession",
    "Channel",
    "ChannelMember",
    "Contact",
    "ContactIdentity",
    "Conversation",
    "Event",
    "LoginThrottle",
    "Message",
    "Operator",
    "OutboxRow",
    "Profile",
    "Webhook",
    "WebhookDelivery",
    "metadata",
]
