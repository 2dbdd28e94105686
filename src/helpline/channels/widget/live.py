"""Route: the visitor's websocket — live replies, escalation, an operator joining, read receipts; typing both ways.

The socket joins the same relay as the operators' (realtime/hub.py), so it works across API processes through
Redis. Its subscriber takes only frames about its own conversations and the projection (view.py) turns them into
the visitor's frames. The token comes as the first message, not in the URL (URLs land in access logs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy import select

from helpline.auth.dependencies import get_runtime
from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.channels.base import DeliveryStatusChanged
from helpline.channels.models import Channel
from helpline.channels.widget.adapter import provider_message_id
from helpline.channels.widget.guard import origin_allowed
from helpline.channels.widget.identity import BadToken, SessionSigner, VisitorSession
from helpline.channels.widget.sessions import contact_id_of, conversations_of, widget_channel
from helpline.channels.widget.view import FrameProjection
from helpline.conversations.ingest import ingest_events
from helpline.conversations.models import DeliveryState, Direction, Message
from helpline.delivery.handlers import signed_attachment_url
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import HelplineError
from helpline.realtime.frames import TYPING_FRAME
from helpline.realtime.hub import Subscriber
from helpline.realtime.sockets import run_until_first_ends
from helpline.runtime import Runtime

router = APIRouter()

AUTH_SECONDS = 10.0
PING_SECONDS = 25.0
# At most one typing frame to operators per socket in this many seconds: a guard against a flooding client,
# shorter than the widget's own 2 s so a burst right after a sent message (which ends the last one) is relayed.
TYPING_EVERY = 0.5
BAD_ORIGIN = 4403
BAD_SESSION = 4404
_NOBODY = Principal(operator_id=0, role=Role.agent, channel_ids=frozenset())


@dataclass(eq=False)
class VisitorSubscriber(Subscriber):
    """Takes only frames about this visitor's conversations. A new conversation is theirs when its contact is:
    until the visitor's first message created that contact, every frame of the widget is taken and the pump
    sorts them out once it learned the contact (the frames arrive before the pump can ask the database)."""

    channel_id: int = 0
    contact_id: int | None = None
    conversation_ids: set[int] = field(default_factory=set)
    unresolved: bool = False

    def may_see(self, frame: dict[str, Any]) -> bool:
        audience = frame.get("audience") or {}
        if audience.get("channel_id") != self.channel_id:
            return False
        if frame.get("type") == TYPING_FRAME and (frame.get("data") or {}).get("who") != "operator":
            return False  # the visitor's own typing, relayed to operators
        if frame.get("type") == "conversation.created":
            if self.contact_id is None:
                self.unresolved = True
                return True
            contact = (frame.get("data") or {}).get("contact") or {}
            if contact.get("id") == self.contact_id:
                self.conversation_ids.add(int(frame["conversation_id"]))
                return True
            return False
        return frame.get("conversation_id") in self.conversation_ids or self.unresolved

    def owns(self, frame: dict[str, Any]) -> bool:
        return frame.get("conversation_id") in self.conversation_ids


async def _authenticate(websocket: WebSocket, runtime: Runtime, channel: Channel) -> VisitorSession | None:
    try:
        first = json.loads(await asyncio.wait_for(websocket.receive_text(), AUTH_SECONDS))
        token = str(first.get("token") or "") if isinstance(first, dict) and first.get("type") == "auth" else ""
        return SessionSigner(runtime.settings.secret_key).read(token, channel_id=channel.id)
    except (TimeoutError, ValueError, BadToken):
        return None


async def _mark_read(runtime: Runtime, channel: Channel, subscriber: VisitorSubscriber, up_to: int) -> None:
    """The visitor saw every reply up to message `up_to`: each becomes `read` through the common status path."""
    if not subscriber.conversation_ids:
        return
    async with runtime.db.reads() as session:
        ids = list(
            (
                await session.execute(
                    select(Message.id).where(
                        Message.conversation_id.in_(sorted(subscriber.conversation_ids)),
                        Message.direction == Direction.outbound.value,
                        Message.delivery_state.in_([DeliveryState.sent.value, DeliveryState.delivered.value]),
                        Message.id <= up_to,
                    )
                )
            ).scalars()
        )
    if ids:
        events = [DeliveryStatusChanged(provider_message_id(i), "read") for i in ids]
        await ingest_events(runtime, channel, list(events))


@router.websocket("/api/v1/widget/{channel_id}/socket")
async def visitor_socket(websocket: WebSocket, channel_id: BoundedInt) -> None:
    """Send `{"type": "auth", "token": …}` first. Frames: `hello`, `message`, `escalation`, `joined`, `read`,
    `ping`, `resync`; the visitor may send `typing` and `{"type": "read", "message_id": n}`. Closes with 4403
    for a page whose origin the widget does not allow and 4404 for a missing or invalid session."""
    runtime = get_runtime(websocket)
    await websocket.accept()
    try:
        async with runtime.db.reads() as session:
            channel, widget = await widget_channel(session, channel_id)
    except HelplineError:
        await websocket.close(code=BAD_SESSION, reason="no such chat widget")
        return
    if not origin_allowed(websocket.headers.get("origin"), widget, runtime.settings):
        await websocket.close(code=BAD_ORIGIN, reason="this website may not use this chat widget")
        return
    visitor = await _authenticate(websocket, runtime, channel)
    if visitor is None:
        await websocket.close(code=BAD_SESSION, reason="no such session")
        return
    projection = FrameProjection(lambda attachment_id: signed_attachment_url(runtime, attachment_id))
    subscriber = VisitorSubscriber(_NOBODY, channel_id=channel.id)
    runtime.hub.add_subscriber(subscriber)
    try:
        async with runtime.db.reads() as session:
            subscriber.contact_id = await contact_id_of(session, visitor)
            for conversation in await conversations_of(session, channel.id, subscriber.contact_id):
                subscriber.conversation_ids.add(conversation.id)
                projection.remember(
                    {
                        "id": conversation.id,
                        "unread_count": conversation.unread_count,
                        "assignee": {"id": conversation.assignee_id},
                        "handler": conversation.handler,
                        "status": conversation.status,
                    }
                )
        await websocket.send_json({"type": "hello", "session_id": visitor.session_id})
        await _serve(websocket, runtime, channel, visitor, subscriber, projection)
    finally:
        runtime.hub.unsubscribe(subscriber)
        with contextlib.suppress(Exception):
            await websocket.close()


async def _serve(
    websocket: WebSocket,
    runtime: Runtime,
    channel: Channel,
    visitor: VisitorSession,
    subscriber: VisitorSubscriber,
    projection: FrameProjection,
) -> None:
    async def pump() -> None:
        while True:
            try:
                frame = await asyncio.wait_for(subscriber.queue.get(), timeout=PING_SECONDS)
            except TimeoutError:
                await websocket.send_json({"type": "ping"})
                continue
            if frame.get("type") == "conversation.created" and subscriber.contact_id is None:
                await _claim(frame)
            if not subscriber.owns(frame):
                continue
            for out in projection.project(frame):
                await websocket.send_json(out)
            if subscriber.overflowed and subscriber.queue.empty():
                await websocket.send_json({"type": "resync"})
                return

    async def _claim(frame: dict[str, Any]) -> None:
        """A new conversation appeared before we knew the visitor's contact: look it up now."""
        async with runtime.db.reads() as session:
            found = await contact_id_of(session, visitor)
        if found is None:
            return
        contact = (frame.get("data") or {}).get("contact") or {}
        if contact.get("id") == found:
            subscriber.conversation_ids.add(int(frame["conversation_id"]))
        subscriber.contact_id = found
        subscriber.unresolved = False

    async def listen() -> None:
        last_typing = 0.0
        while True:
            try:
                incoming = json.loads(await websocket.receive_text())
            except ValueError:
                continue
            if not isinstance(incoming, dict):
                continue
            if incoming.get("type") == "typing" and subscriber.conversation_ids:
                now = time.monotonic()
                if now - last_typing >= TYPING_EVERY:
                    last_typing = now
                    conversation_id = max(subscriber.conversation_ids)
                    await runtime.broker.publish(
                        {
                            "type": TYPING_FRAME,
                            "audience": {"channel_id": channel.id},
                            "conversation_id": conversation_id,
                            "data": {"conversation_id": conversation_id, "who": "contact"},
                        }
                    )
            elif incoming.get("type") == "read" and isinstance(incoming.get("message_id"), int):
                await _mark_read(runtime, channel, subscriber, int(incoming["message_id"]))

    await run_until_first_ends(pump(), listen())
