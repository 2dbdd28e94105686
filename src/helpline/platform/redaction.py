"""Log redaction: secret-bearing query parameters never reach a log line, whichever library logs the URL.

Access logs (uvicorn), HTTP client logs (httpx) and our own messages all print URLs. A URL can carry a
credential in its query string: Meta's `hub.verify_token` on webhook verification, a signed download's `sig`,
an `access_token`. A log-record factory rewrites each record's message and arguments before any handler
formats it, so every logger and every handler is covered (OWASP Logging Cheat Sheet: "data to exclude").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"

# Query (or form) parameter names whose values are secrets. Matched case-insensitively, also when
# percent-encoded dots are used (hub%2Everify_token).
SECRET_PARAMETERS = (
    "token",
    "access_token",
    "input_token",
    "refresh_token",
    "id_token",
    "hub.verify_token",
    "verify_token",
    "ticket",
    "sig",
    "signature",
    "secret",
    "client_secret",
    "app_secret",
    "password",
    "api_key",
    "apikey",
    "key",
    "code",
    "signed_request",
    "appsecret_proof",
)

_NAMES = "|".join(re.escape(name).replace(r"\.", r"(?:\.|%2[eE])") for name in SECRET_PARAMETERS)
_PATTERN = re.compile(rf"(?i)([?&;](?:{_NAMES})=)[^&#\s\"'<>]*")


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter replaced by "[redacted]".

    "GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=s3cret" → "…&hub.verify_token=[redacted]"."""
    if "=" not in text:
        return text
    return _PATTERN.sub(lambda m: m.group(1) + REDACTED, text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    # URL objects (httpx.URL, starlette URL) are formatted with %s: redact their text form.
    text = str(value)
    cleaned = redact(text)
    return cleaned if cleaned != text else value


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite a log record in place: its message and every argument, keeping the argument structure (uvicorn's
    access formatter unpacks `record.args` as a tuple)."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_clean(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _clean(arg) for key, arg in record.args.items()}


_installed: list[Callable[..., logging.LogRecord]] = []


def install() -> None:
    """Wrap the process's log-record factory once (idempotent); every record created afterwards is redacted."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record)
        return record

    _installed.append(previous)
    logging.setLogRecordFactory(factory)
