"""What routing needs of the bot: a front line that is told about each customer message it handles."""

from __future__ import annotations

from typing import Protocol


class FrontLine(Protocol):
    async def on_inbound(self, conversation_id: int, message_id: int) -> None:
        """Decide and act (reply through send_reply, escalate); must be idempotent per message."""


class SilentFrontLine:
    """The front line until the bot exists: it answers nothing and leaves conversations to humans."""

    async def on_inbound(self, conversation_id: int, message_id: int) -> None:
        return None
