"""What a visitor may see: their conversation's messages and events, reduced from the operators' shapes.

Operators' frames and message records carry internals (timeline events, failed sends, provider ids, error
reasons, bot state). A visitor sees only their own messages and replies that were handed to them, each with
the few fields the widget shows; everything else is dropped here, in one place, for history and live frames.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from helpline.realtime.frames import TYPING_FRAME

SHOWN_STATES = frozenset({"sent", "delivered", "read"})

# Live frame types the visitor socket sends (docs/channels/widget.md).
MESSAGE = "message"
ESCALATION = "escalation"
JOINED = "joined"
READ = "read"
TYPING = "typing"
HANDLER = "handler"


def visible(data: Mapping[str, Any]) -> bool:
    """A visitor's own message, or a reply already handed to their session (never a timeline event)."""
    if data.get("direction") == "inbound":
        return data.get("author_kind") == "contact"
    return data.get("direction") == "outbound" and data.get("delivery_state") in SHOWN_STATES


def _progress(content: Mapping[str, Any]) -> dict[str, Any] | None:
    total = content.get("steps_total")
    if not isinstance(total, int) or total <= 0:
        return None
    done = int(content.get("steps_done") or 0)
    completed = bool(content.get("completed"))
    return {
        "step": min(done + 1, total) if not completed else total,
        "total": total,
        "final": bool(content.get("is_final_step")),
        "completed": completed,
    }


def _choices(content: Mapping[str, Any]) -> list[str]:
    """The buttons a bot message offers: a choice step's answers, or the menu of what the bot can do (the
    `quick_replies` a greeting or a clarification carries, bot/flow.py)."""
    bot = content.get("bot")
    choices: Any = None
    if isinstance(bot, Mapping) and bot.get("kind") in ("question", "retry"):
        choices = bot.get("choices")
    if not choices:
        choices = content.get("quick_replies")
    return [str(c)[:100] for c in choices][:10] if isinstance(choices, list) else []


def message_view(data: Mapping[str, Any], attachment_url: Callable[[int], str]) -> dict[str, Any] | None:
    """`data` is a message as operators get it (conversations.schemas.MessagePublic as JSON); returns what the
    widget shows, or None when the visitor must not see it. `attachment_url(id)` signs a download link."""
    if not visible(data):
        return None
    content: Mapping[str, Any] = data.get("content") or {}
    author_kind = str(data.get("author_kind"))
    operator = data.get("operator") or {}
    return {
        "id": data["id"],
        "conversation_id": data.get("conversation_id"),
        "from": "visitor" if author_kind == "contact" else author_kind,
        "author": operator.get("name") if author_kind == "operator" else None,
        "text": data.get("text") or "",
        "attachments": [
            {
                "filename": a["filename"],
                "content_type": a["content_type"],
                "size": a["size"],
                "url": attachment_url(int(a["id"])),
            }
            for a in data.get("attachments") or []
            if a.get("state") == "stored"
        ],
        "state": data.get("delivery_state"),
        "at": data.get("created_at"),
        "progress": _progress(content) if author_kind == "bot" else None,
        "quick_replies": _choices(content) if author_kind == "bot" else [],
    }


class FrameProjection:
    """Turns the operators' frames about one visitor's conversations into the visitor's frames; remembers the
    assignee, handler and unread count of each conversation to tell "an operator joined", "who answers now"
    (the widget hides its "Talk to a person" button while a person handles the chat) and "your messages were
    read"."""

    def __init__(self, attachment_url: Callable[[int], str]) -> None:
        self.attachment_url = attachment_url
        self.assignees: dict[int, int | None] = {}
        self.handlers: dict[int, str | None] = {}
        self.unread: dict[int, int] = {}

    def remember(self, conversation: Mapping[str, Any]) -> None:
        """Record a conversation's current state without announcing anything (on connect)."""
        conversation_id = int(conversation["id"])
        assignee = conversation.get("assignee") or {}
        self.assignees[conversation_id] = assignee.get("id")
        self.handlers[conversation_id] = _handler(conversation)
        self.unread[conversation_id] = int(conversation.get("unread_count") or 0)

    def project(self, frame: Mapping[str, Any]) -> list[dict[str, Any]]:
        kind = frame.get("type")
        data: Mapping[str, Any] = frame.get("data") or {}
        if kind in ("message.created", "message.updated"):
            view = message_view(data, self.attachment_url)
            return [{"type": MESSAGE, "message": view}] if view else []
        if kind == TYPING_FRAME and data.get("who") == "operator":
            return [{"type": TYPING, "conversation_id": frame.get("conversation_id")}]
        if kind == "conversation.escalated":
            return [{"type": ESCALATION, "conversation_id": frame.get("conversation_id")}]
        if kind in ("conversation.created", "conversation.updated") and "id" in data:
            return self._conversation(data)
        return []

    def _conversation(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        conversation_id = int(data["id"])
        out: list[dict[str, Any]] = []
        assignee = data.get("assignee") or {}
        if assignee.get("id") and self.assignees.get(conversation_id) != assignee["id"]:
            out.append({"type": JOINED, "conversation_id": conversation_id, "name": assignee.get("name")})
        handler = _handler(data)
        if handler != self.handlers.get(conversation_id, handler):
            out.append({"type": HANDLER, "conversation_id": conversation_id, "handler": handler})
        unread = int(data.get("unread_count") or 0)
        if unread == 0 and self.unread.get(conversation_id, 0) > 0:
            out.append({"type": READ, "conversation_id": conversation_id})
        self.remember(data)
        return out


def _handler(conversation: Mapping[str, Any]) -> str | None:
    """Who answers the visitor: "bot" or "human", or None once the conversation is resolved (a new message
    starts a new one, with the bot)."""
    if conversation.get("status") == "resolved":
        return None
    handler = conversation.get("handler")
    return str(handler) if handler in ("bot", "human") else None
