"""Reads for a visitor's session: which widget, which conversations, which messages they may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.auth.models import Operator
from helpline.channels.models import Channel
from helpline.channels.widget.adapter import KIND, WidgetAdapter
from helpline.channels.widget.identity import VisitorSession
from helpline.channels.widget.settings import WidgetSettings
from helpline.channels.widget.view import SHOWN_STATES, message_view
from helpline.contacts.models import ContactIdentity
from helpline.conversations.models import Conversation, Message
from helpline.conversations.queries import present_message
from helpline.platform.errors import NotFound

HISTORY_PAGE = 100


async def widget_channel(session: AsyncSession, channel_id: int) -> tuple[Channel, WidgetSettings]:
    """The active widget channel `channel_id`; NotFound for any other channel, or a disabled one."""
    channel = await session.get(Channel, channel_id)
    if channel is None or channel.kind != KIND or channel.status == "disabled":
        raise NotFound("no such chat widget")
    return channel, WidgetSettings.model_validate(dict(channel.settings or {}))


async def contact_id_of(session: AsyncSession, visitor: VisitorSession) -> int | None:
    """The contact the visitor writes as, once their first message created it."""
    return (
        await session.execute(
            select(ContactIdentity.contact_id).where(
                ContactIdentity.kind == WidgetAdapter.identity_kind(visitor.channel_id),
                ContactIdentity.provider_id == visitor.provider_id,
            )
        )
    ).scalar_one_or_none()


async def conversations_of(session: AsyncSession, channel_id: int, contact_id: int | None) -> list[Conversation]:
    """The contact's conversations on this widget, oldest first."""
    if contact_id is None:
        return []
    return list(
        (
            await session.execute(
                select(Conversation)
                .where(Conversation.channel_id == channel_id, Conversation.contact_id == contact_id)
                .order_by(Conversation.id)
            )
        ).scalars()
    )


def _visible_clause() -> Any:
    return or_(
        and_(Message.direction == "inbound", Message.author_kind == "contact"),
        and_(Message.direction == "outbound", Message.delivery_state.in_(sorted(SHOWN_STATES))),
    )


async def message_views(
    session: AsyncSession, messages: list[Message], attachment_url: Callable[[int], str]
) -> list[dict[str, Any]]:
    """The widget's view of `messages` (in their order), with attachments and operators in one query each."""
    ids = [m.id for m in messages]
    attachments: dict[int, list[Attachment]] = {i: [] for i in ids}
    if ids:
        for attachment in (
            await session.execute(select(Attachment).where(Attachment.message_id.in_(ids)).order_by(Attachment.id))
        ).scalars():
            assert attachment.message_id is not None
            attachments[attachment.message_id].append(attachment)
    operator_ids = sorted({m.operator_id for m in messages if m.operator_id})
    operators = (
        {o.id: o for o in (await session.execute(select(Operator).where(Operator.id.in_(operator_ids)))).scalars()}
        if operator_ids
        else {}
    )
    views = []
    for message in messages:
        operator = operators.get(message.operator_id) if message.operator_id else None
        data = present_message(message, operator, attachments[message.id]).model_dump(mode="json")
        view = message_view(data, attachment_url)
        if view is not None:
            views.append(view)
    return views


async def history(
    session: AsyncSession,
    visitor: VisitorSession,
    attachment_url: Callable[[int], str],
    *,
    before: int | None = None,
    limit: int = HISTORY_PAGE,
) -> tuple[list[dict[str, Any]], bool, Conversation | None]:
    """(messages oldest first, whether older ones exist, the latest conversation) for the visitor's identity:
    every conversation the identity had on this widget, so a returning visitor sees the earlier ones too."""
    contact_id = await contact_id_of(session, visitor)
    conversations = await conversations_of(session, visitor.channel_id, contact_id)
    if not conversations:
        return [], False, None
    query = (
        select(Message)
        .where(Message.conversation_id.in_([c.id for c in conversations]), _visible_clause())
        .order_by(Message.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(Message.id < before)
    rows = list((await session.execute(query)).scalars())
    has_more = len(rows) > limit
    rows = rows[:limit][::-1]
    return await message_views(session, rows, attachment_url), has_more, conversations[-1]
