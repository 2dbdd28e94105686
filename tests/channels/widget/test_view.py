"""What the widget shows of a bot message (the buttons of a choice step, or of the bot's menu) and which live frames."""

from __future__ import annotations

from typing import Any

from helpline.channels.widget.view import FrameProjection, message_view


def bot_message(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": 7,
        "conversation_id": 3,
        "direction": "outbound",
        "author_kind": "bot",
        "delivery_state": "sent",
        "text": "Hello! I am the virtual assistant.\nI can help you with:\n1) Insurance claim\n2) Order status",
        "content": content,
        "attachments": [],
    }


def test_the_greeting_menu_becomes_buttons() -> None:
    view = message_view(bot_message({"quick_replies": ["Insurance claim", "Order status"]}), str)
    assert view is not None and view["quick_replies"] == ["Insurance claim", "Order status"]


def test_a_choice_step_offers_its_answers_first() -> None:
    content = {"bot": {"kind": "question", "choices": ["Car", "Home"]}, "quick_replies": ["Insurance claim"]}
    view = message_view(bot_message(content), str)
    assert view is not None and view["quick_replies"] == ["Car", "Home"]


def test_a_visitor_message_has_no_buttons() -> None:
    data = {**bot_message({"quick_replies": ["x"]}), "direction": "inbound", "author_kind": "contact"}
    view = message_view(data, str)
    assert view is not None and view["quick_replies"] == []


def test_a_change_of_handler_is_told_once() -> None:
    projection = FrameProjection(lambda attachment_id: f"/f/{attachment_id}")
    projection.remember({"id": 5, "unread_count": 0, "assignee": {"id": None}, "handler": "bot", "status": "open"})

    def updated(**data: object) -> list[dict[str, object]]:
        frame = {"type": "conversation.updated", "data": {"id": 5, "unread_count": 0, "assignee": None, **data}}
        return [f for f in projection.project(frame) if f["type"] == "handler"]

    assert updated(handler="bot", status="open") == []
    assert updated(handler="human", status="open") == [{"type": "handler", "conversation_id": 5, "handler": "human"}]
    assert updated(handler="human", status="open") == []  # no news, no frame
    assert updated(handler="bot", status="open") == [{"type": "handler", "conversation_id": 5, "handler": "bot"}]
    # Resolved: nobody handles it any more; the visitor's next message starts a new conversation with the bot.
    assert updated(handler="bot", status="resolved") == [{"type": "handler", "conversation_id": 5, "handler": None}]
