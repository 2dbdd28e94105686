"""Writes that change who handles a conversation and where it stands: take over, hand back, assign,
status (resolve, reopen, snooze), labels, read marks. Every one is audited, recorded in the timeline
(conversations/timeline.py) and announced after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.auth.models import Operator, Role
from helpline.auth.permissions import Principal
from helpline.channels.models import ChannelMember
from helpline.conversations import timeline, waiting
from helpline.conversations.actions import hand_to_human, lock_conversation
from helpline.conversations.events import conversation_changed
from helpline.conversations.models import Conversation, Handler, Priority, Status
from helpline.conversations.schemas import ConversationUpdate
from helpline.conversations.timeline import operator_brief, record_event
from helpline.platform.clock import utcnow
from helpline.platform.errors import Conflict, Invalid
from helpline.profiles.models import Event


async def _audited_change(
    session: AsyncSession,
    conversation: Conversation,
    *,
    operator_id: int | None,
    action: str,
    details: dict[str, Any] | None = None,
    touch: bool = True,
    webhook_event: str | None = None,
) -> Conversation:
    """The tail every handling action shares: audit who did it, bump the inbox order, tell operators."""
    if touch:
        conversation.last_activity_at = utcnow()
    record(
        session,
        operator_id=operator_id,
        action=action,
        target_type="conversation",
        target_id=conversation.id,
        details=details,
    )
    await conversation_changed(session, conversation, webhook_event=webhook_event)
    return conversation


async def takeover(session: AsyncSession, conversation_id: int, *, principal: Principal) -> Conversation:
    """Handler → human, assignee → me: the bot is paused for this conversation until it is handed back."""
    conversation = await lock_conversation(session, conversation_id)
    conversation.assignee_id = principal.operator_id
    await hand_to_human(session, conversation, principal.operator_id, reason="operator took over")
    conversation.last_activity_at = utcnow()
    await conversation_changed(session, conversation)
    return conversation


async def handback(session: AsyncSession, conversation_id: int, *, principal: Principal) -> Conversation:
    conversation = await lock_conversation(session, conversation_id)
    if conversation.status == Status.resolved.value:
        raise Conflict("reopen the conversation before handing it back to the bot", code="reopen_first")
    conversation.handler = Handler.bot.value
    conversation.status = Status.pending.value
    conversation.assignee_id = None
    # The bot answers the customer's next message; nobody owes them an answer before that.
    waiting.answered(conversation)
    await record_event(session, conversation, timeline.HANDED_BACK, actor_id=principal.operator_id)
    return await _audited_change(
        session, conversation, operator_id=principal.operator_id, action="conversation.handback"
    )


async def assign(
    session: AsyncSession, conversation_id: int, operator_id: int | None, *, principal: Principal
) -> Conversation:
    conversation = await lock_conversation(session, conversation_id)
    if operator_id is not None:
        operator = await session.get(Operator, operator_id)
        if operator is None or not operator.active:
            raise Invalid("no such active operator", code="unknown_operator")
        if (
            not Role(operator.role).at_least(Role.supervisor)
            and (await session.get(ChannelMember, (conversation.channel_id, operator_id))) is None
        ):
            raise Invalid("that operator is not a member of this conversation's channel", code="not_a_member")
    previous = conversation.assignee_id
    conversation.assignee_id = operator_id
    if previous != operator_id:
        before = await operator_brief(session, previous)
        if operator_id is None:
            await record_event(
                session, conversation, timeline.UNASSIGNED, actor_id=principal.operator_id, previous=before
            )
        else:
            await record_event(
                session,
                conversation,
                timeline.ASSIGNED,
                actor_id=principal.operator_id,
                assignee=await operator_brief(session, operator_id),
                previous=before,
            )
    return await _audited_change(
        session,
        conversation,
        operator_id=principal.operator_id,
        action="conversation.assigned",
        details={"from": previous, "to": operator_id},
    )


_STATUS_AUDIT_ACTIONS = {
    Status.open: "conversation.reopened",
    Status.pending: "conversation.reopened",
    Status.resolved: "conversation.resolved",
    Status.snoozed: "conversation.snoozed",
}


async def set_status(
    session: AsyncSession,
    conversation_id: int,
    status: Status,
    *,
    principal: Principal | None,
    snoozed_until: datetime | None = None,
) -> Conversation:
    conversation = await lock_conversation(session, conversation_id)
    if status == Status.snoozed:
        if snoozed_until is None or snoozed_until <= utcnow():
            raise Invalid("snooze needs a time in the future", code="bad_snooze")
        conversation.snoozed_until = snoozed_until
    else:
        conversation.snoozed_until = None
    if status == Status.open and conversation.handler == Handler.bot.value:
        status = Status.pending
    previous = conversation.status
    conversation.status = status.value
    actor_id = principal.operator_id if principal else None
    if status == Status.resolved:
        waiting.answered(conversation)
        if previous != status.value:
            await record_event(session, conversation, timeline.RESOLVED, actor_id=actor_id)
    elif status == Status.snoozed:
        assert snoozed_until is not None
        await record_event(session, conversation, timeline.SNOOZED, actor_id=actor_id, until=snoozed_until.isoformat())
    elif previous != status.value:
        await record_event(session, conversation, timeline.REOPENED, actor_id=actor_id, previous_status=previous)
    return await _audited_change(
        session,
        conversation,
        operator_id=principal.operator_id if principal else None,
        action=_STATUS_AUDIT_ACTIONS[status],
        details={"from": previous, "until": snoozed_until.isoformat() if snoozed_until else None},
        webhook_event="conversation.resolved" if status == Status.resolved else None,
    )


async def update_conversation(
    session: AsyncSession, conversation_id: int, data: ConversationUpdate, *, principal: Principal
) -> Conversation:
    conversation = await lock_conversation(session, conversation_id)
    changes = data.model_dump(exclude_unset=True)
    if (
        "event_id" in changes
        and changes["event_id"] is not None
        and await session.get(Event, changes["event_id"]) is None
    ):
        raise Invalid("no such event", code="unknown_event")
    actor_id = principal.operator_id
    if "event_id" in changes and changes["event_id"] != conversation.event_id:
        before = await _event_brief(session, conversation.event_id)
        conversation.event_id = changes["event_id"]
        await record_event(
            session,
            conversation,
            timeline.EVENT_CHANGED,
            actor_id=actor_id,
            to=await _event_brief(session, conversation.event_id),
            previous=before,
        )
    if changes.get("priority") is not None and Priority(changes["priority"]).value != conversation.priority:
        before_priority = conversation.priority
        conversation.priority = Priority(changes["priority"]).value
        await record_event(
            session,
            conversation,
            timeline.PRIORITY_CHANGED,
            actor_id=actor_id,
            to=conversation.priority,
            previous=before_priority,
        )
    if changes.get("tags") is not None:
        before_tags = set(conversation.tags or [])
        conversation.tags = sorted({t.strip().lower() for t in changes["tags"] if t.strip()})
        if set(conversation.tags) != before_tags:
            await record_event(
                session,
                conversation,
                timeline.TAGS_CHANGED,
                actor_id=actor_id,
                added=sorted(set(conversation.tags) - before_tags),
                removed=sorted(before_tags - set(conversation.tags)),
            )
    return await _audited_change(
        session,
        conversation,
        operator_id=principal.operator_id,
        action="conversation.updated",
        details={k: (v if not isinstance(v, Priority) else v.value) for k, v in changes.items()},
        touch=False,
    )


async def _event_brief(session: AsyncSession, event_id: int | None) -> dict[str, Any] | None:
    event = await session.get(Event, event_id) if event_id is not None else None
    return {"id": event.id, "name": event.name} if event else None


async def mark_read(session: AsyncSession, conversation_id: int) -> Conversation:
    conversation = await lock_conversation(session, conversation_id)
    if conversation.unread_count:
        conversation.unread_count = 0
        await conversation_changed(session, conversation)
    return conversation


async def wake_snoozed(session: AsyncSession, now: datetime) -> int:
    """Snoozed conversations whose time has come go back to open (called periodically by the worker)."""
    due = list(
        (
            await session.execute(
                select(Conversation)
                .where(Conversation.status == Status.snoozed.value, Conversation.snoozed_until <= now)
                .limit(200)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    for conversation in due:
        conversation.status = (Status.pending if conversation.handler == Handler.bot.value else Status.open).value
        conversation.snoozed_until = None
        conversation.last_activity_at = now
        await conversation_changed(session, conversation)
    return len(due)
