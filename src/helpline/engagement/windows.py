"""The single place that decides whether a reply may be sent now, by the channel's reply window."""

from __future__ import annotations

from datetime import datetime

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


def check_reply_allowed(
    window: ReplyWindow | None, last_inbound_at: datetime | None, *, author_kind: str, now: datetime
) -> dict[str, str]:
    """Raise ReplyNotAllowed when free text may not go out now; return send options (e.g. a message tag)."""
    if window is None:
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
    allowed = ["template"]
    if window.human_extension is not None and author_kind != "operator":
        allowed.append("operator reply with HUMAN_AGENT")
    raise ReplyNotAllowed(
        f"the provider's reply window is closed: free text would be dropped; send one of: {', '.join(allowed)}",
        details={
            "allowed": allowed,
            "last_inbound_at": last_inbound_at.isoformat() if last_inbound_at else None,
        },
    )
