"""Writing realtime frames to the outbox; the frame names its audience, the relay only obeys it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.platform.outbox import enqueue

TOPIC = "realtime.publish"
# Someone is typing in a conversation (`data.who`: operator, or contact from the website chat). Ephemeral: such
# frames go straight to the broker, never through the outbox.
TYPING_FRAME = "conversation.typing"


def emit_frame(
    session: AsyncSession,
    frame_type: str,
    *,
    data: dict[str, Any],
    channel_id: int | None = None,
    operator_id: int | None = None,
    conversation_id: int | None = None,
) -> None:
    """Queue a frame for the operators of `channel_id` (supervisors and admins see every channel), or
    for one operator; it is published only after the caller's transaction commits."""
    audience: dict[str, int] = {}
    if operator_id is not None:
        audience["operator_id"] = operator_id
    elif channel_id is not None:
        audience["channel_id"] = channel_id
    frame: dict[str, Any] = {"type": frame_type, "audience": audience, "data": data}
    if conversation_id is not None:
        frame["conversation_id"] = conversation_id
    enqueue(session, TOPIC, frame)
