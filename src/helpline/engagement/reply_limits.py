"""What one reply on a channel may hold — text length, files, window — combined from the adapter and the server.

The provider's numbers come from the adapter's `limits` and `window` ClassVars (through the registry); the
server's from Settings (upload size and types) and the reply API (text and file count). `check_reply` is what
`send_reply` runs up front, so an operator learns at once what the provider would refuse at delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from helpline.channels.limits import file_problem, text_problem
from helpline.channels.registry import adapter_class
from helpline.platform.errors import Invalid
from helpline.settings import Settings

# The reply API's own bounds (conversations/schemas.ReplyCreate and conversations/api).
REPLY_TEXT_MAX = 20_000
MAX_FILES_PER_REPLY = 10


class ReplyRefused(Invalid):
    """A reply the channel's provider would refuse (text too long, file type or size): 422 before queueing."""


class AttachmentRule(BaseModel):
    kind: str = Field(description="how the provider sends these files: image, video, audio, document or file")
    content_types: list[str] = Field(description='patterns such as "image/jpeg" or "audio/*"; "*/*" is any')
    max_bytes: int


class WindowLimits(BaseModel):
    after_close: Literal["templates", "human_agent", "nothing"] = Field(
        description="what may still be sent once the free-form window closes"
    )
    free_form_seconds: int = Field(description="counted from the customer's last message")
    human_seconds: int | None = Field(description="people may still reply (HUMAN_AGENT tag) until then")
    closing_warning_seconds: int = Field(description='the window state is "closing" this long before it ends')


class ChannelLimits(BaseModel):
    """What a reply on this channel may hold, before sending."""

    channel_id: int
    kind: str
    provider: str
    max_text_length: int = Field(description="characters, after trimming")
    max_files: int
    max_attachment_bytes: int = Field(description="the largest single file this channel accepts")
    accepted_content_types: list[str] = Field(description="what the server stores at all (patterns)")
    attachment_rules: list[AttachmentRule] = Field(
        description="the provider's per-type limits, first match applies; a type matching none is refused; "
        "empty: any accepted type up to max_attachment_bytes"
    )
    window_kind: Literal["none", "templates", "human_agent", "nothing"] = Field(
        description="none: no provider window; otherwise what may be sent after it closes"
    )
    window: WindowLimits | None
    templates_available: bool = Field(description="the provider keeps approved templates (sync them to list)")
    templates_required_after_window: bool


def channel_limits(channel_id: int, kind: str, settings: Settings) -> ChannelLimits:
    """The effective limits of a channel of `kind`: the provider's, capped by the server's own."""
    cls = adapter_class(kind)
    limits, window = cls.limits, cls.window
    server_max = settings.max_attachment_bytes
    rules = [
        AttachmentRule(kind=r.kind, content_types=list(r.content_types), max_bytes=min(r.max_bytes, server_max))
        for r in limits.media
    ]
    after_close: Literal["templates", "human_agent", "nothing"] = "nothing"
    window_public = None
    if window is not None:
        after_close = "templates" if window.templates else "human_agent" if window.human_extension else "nothing"
        window_public = WindowLimits(
            after_close=after_close,
            free_form_seconds=int(window.free_form.total_seconds()),
            human_seconds=int(window.human_extension.total_seconds()) if window.human_extension else None,
            closing_warning_seconds=int(window.closing_warning.total_seconds()),
        )
    return ChannelLimits(
        channel_id=channel_id,
        kind=kind,
        provider=limits.provider,
        max_text_length=min(limits.max_text_length or REPLY_TEXT_MAX, REPLY_TEXT_MAX),
        max_files=MAX_FILES_PER_REPLY,
        max_attachment_bytes=max((r.max_bytes for r in rules), default=server_max),
        accepted_content_types=list(settings.allowed_attachment_types),
        attachment_rules=rules,
        window_kind=after_close if window is not None else "none",
        window=window_public,
        templates_available=bool(window and window.templates),
        templates_required_after_window=bool(window and window.templates),
    )


def check_reply(kind: str, text: str | None, files: Sequence[tuple[str | None, str, int]]) -> None:
    """Raise ReplyRefused (422, code text_too_long / attachment_type / attachment_too_large) when the provider
    of a `kind` channel would refuse this reply; `files` are (filename, content type, size in bytes)."""
    limits = adapter_class(kind).limits
    problem = text_problem(limits, text) or next(
        (p for name, ctype, size in files if (p := file_problem(limits, name or "the file", ctype, size))), None
    )
    if problem is not None:
        details: dict[str, object] = {"provider": limits.provider}
        if problem.code == "text_too_long":
            details["max_text_length"] = limits.max_text_length
        raise ReplyRefused(problem.message, code=problem.code, details=details)
