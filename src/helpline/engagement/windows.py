"""The single place that decides whether a reply may be sent now, by the channel's reply window."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from helpline.channels.base import ReplyWindow
from helpline.conversations.schemas import WindowState
from helpline.platform.errors import Conflict


class ReplyNotAllowed(Conflict):
    code = "reply_window_closed"


def window_state(window: ReplyWindow | None, last_inbound_at: datetime | None, now: datetime) -> WindowState | None:
    """open / closing / closed with its expiry, or None for channels that have no window."""
    if window is None:
        return None
    if last_inbound_at is None:
        return WindowState(state="closed", expires_at=None)
    expires = last_inbound_at + window.free_form
    human_expires = last_inbound_at + window.human_extension if window.human_extension else None
    if now >= expires:
        state = "closed"
    elif expires - now <= window.closing_warning:
        state = "closing"
    else:
        state = "open"
    return WindowState(state=state, expires_at=expires, human_expires_at=human_expires)


WindowName = Literal["open", "closing", "closed"]


def inbound_bounds(window: ReplyWindow, state: WindowName, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The range of `last_inbound_at` that puts a conversation in `state` at `now`, for SQL filters:
    (after, until) means after < last_inbound_at <= until, None leaving that side open. "closed" also holds
    for a conversation with no inbound message (NULL), which the caller adds. Same thresholds as
    `window_state`: closed once free_form has passed, closing within closing_warning of that."""
    closes = now - window.free_form
    warns = closes + window.closing_warning
    if state == "closed":
        return None, closes
    if state == "closing":
        return closes, warns
    return warns, None


def check_reply_allowed(
    window: ReplyWindow | None,
    last_inbound_at: datetime | None,
    *,
    author_kind: str,
    now: datetime,
    template: bool = False,
) -> dict[str, str]:
    """Raise ReplyNotAllowed when free text may not go out now; return send options (e.g. a message tag).

    An approved template may go out at any time where the provider has templates: it is how a closed
    WhatsApp window is reopened."""
    if window is None:
        return {}
    if template:
        if not window.templates:
            raise ReplyNotAllowed("this channel has no provider templates", code="no_templates")
        return {}
    if last_inbound_at is not None and now < last_inbound_at + window.free_form:
        return {}
    human_ok = (
        window.human_extension is not None
        and author_kind == "operator"
        and last_inbound_at is not None
        and now < last_inbound_at + window.human_extension
    )
    if human_ok:
        return {"message_tag": "HUMAN_AGENT"}
    allowed = ["template"] if window.templates else []
    if (
        window.human_extension is not None
        and author_kind != "operator"
        and last_inbound_at is not None
        and now < last_inbound_at + window.human_extension
    ):
        allowed.append("operator reply with HUMAN_AGENT")
    remedy = f"send one of: {', '.join(allowed)}" if allowed else "nothing can be sent until the customer writes again"
    raise ReplyNotAllowed(
        f"the provider's reply window is closed: free text would be dropped; {remedy}",
        details={
            "allowed": allowed,
            "last_inbound_at": last_inbound_at.isoformat() if last_inbound_at else None,
        },
    )
