"""The bot front line: read the conversation, decide without locks, then apply under the row lock.

Safety rests on three checks made in the writing transaction, under the conversation's row lock: the bot
still handles the conversation (a takeover committed earlier wins; send_reply re-checks it too), this message
was not handled already (idempotent per message), and nobody changed the bot state since it was read
(two messages of one conversation processed at once: the loser decides again on the fresh state).

A conversation's customer messages are considered one at a time, in id order, each exactly once: the job of
message N handles every not-yet-handled message up to N, oldest first (`bot_state["last_message_id"]` is the
sequencer). Jobs of one conversation may run concurrently or out of order (two messages within a second); the
later job handling the earlier message first means no message is ever skipped as "already handled". Within one
process a per-conversation lock keeps two jobs from deciding the same message twice; across processes the
rev check above settles it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from helpline.bot import runs
from helpline.bot.engine import Engine, MatcherFactory, ScriptEntry
from helpline.bot.escalation import REPLY_LIMIT, TECHNICAL_ERROR, WINDOW_CLOSED, Trigger
from helpline.bot.flow import Context, decide
from helpline.bot.handoff import escalate, log_interaction, rule_summary
from helpline.bot.language import supported
from helpline.bot.llm import Llm
from helpline.bot.models import Script, ScriptVersion
from helpline.bot.runner import Outcome
from helpline.bot.schemas import ScriptDefinition
from helpline.channels.models import Channel
from helpline.contacts.models import Contact
from helpline.conversations.actions import BOT, BotPaused, send_reply
from helpline.conversations.models import Conversation, Direction, Handler, Message, Status
from helpline.conversations.timeline import EVENT_CONTENT_TYPE, HANDED_BACK
from helpline.engagement.reply_limits import ReplyRefused
from helpline.engagement.windows import ReplyNotAllowed
from helpline.platform.clock import utcnow
from helpline.platform.outbox import enqueue
from helpline.platform.rate_limits import RateLimited
from helpline.realtime.frames import emit_frame
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

END_ACTION_TOPIC = "bot.end_action"
MAX_RACES = 3
# A burst larger than this (a customer pasting many lines while the bot was down) is handled by later jobs.
MAX_BACKLOG = 50


@dataclass
class _Read:
    message_id: int
    rev: int
    state: dict[str, Any]
    text: str
    tags: list[str]
    running: ScriptEntry | None
    today: date
    language: str


class BotFrontLine:
    """The default FrontLine: scripts, knowledge answers, optional LLM, escalation with a per-chat pause."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        matcher_factory: MatcherFactory | None = None,
        llm: Llm | None = None,
        today: date | None = None,
    ) -> None:
        self.runtime = runtime
        self.engine = Engine(runtime.db, matcher_factory)
        self.llm = llm if llm is not None else Llm.from_settings(runtime.settings)
        self._today = today
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def local_date(self, moment: datetime | None, zone: str | None) -> date:
        """The conversation's local date at `moment` (when the customer wrote): relative dates in answers
        ("ontem", "last Monday") are read against it, so a late job or a UTC server is never a day off."""
        if self._today is not None:
            return self._today
        try:
            tz = zoneinfo.ZoneInfo(zone or self.runtime.settings.bot_time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = zoneinfo.ZoneInfo("UTC")
        return (moment or utcnow()).astimezone(tz).date()

    async def on_inbound(self, conversation_id: int, message_id: int) -> None:
        """Handle every customer message of the conversation not handled yet, up to `message_id`, in id order."""
        async with self._conversation_lock(conversation_id):
            races = 0
            for _ in range(MAX_BACKLOG + MAX_RACES):
                read = await self._read(conversation_id, message_id)
                if read is None:
                    return
                outcome = await decide_or_hand_over(
                    Context(
                        text=read.text,
                        state=read.state,
                        tags=read.tags,
                        settings=self.runtime.settings,
                        snapshot=await self.engine.current(),
                        running=read.running,
                        llm=self.llm,
                        today=read.today,
                        language=read.language,
                    ),
                    where=f"conversation {conversation_id}",
                )
                summary = await self._summary(conversation_id, outcome) if outcome.escalate else ""
                if not await self._apply(conversation_id, read.message_id, read.rev, outcome, summary):
                    races += 1
                    if races >= MAX_RACES:
                        log.warning("bot gave up on message %s after %s concurrent changes", read.message_id, races)
                        return

    def _conversation_lock(self, conversation_id: int) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    async def _read(self, conversation_id: int, up_to: int) -> _Read | None:
        """The oldest customer message of the conversation the bot has not handled, with id <= `up_to`."""
        async with self.runtime.db.reads() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None or not _bot_handles(conversation):
                return None
            state = dict(conversation.bot_state or {})
            floor = max(int(state.get("last_message_id", 0)), await _handed_back_at(session, conversation_id))
            if floor >= up_to:
                return None
            message = (
                await session.execute(
                    select(Message)
                    .where(
                        Message.conversation_id == conversation_id,
                        Message.direction == Direction.inbound.value,
                        Message.id > floor,
                        Message.id <= up_to,
                    )
                    .order_by(Message.id)
                    .limit(1)
                )
            ).scalar_one_or_none()
            if message is None:
                return None
            running = None
            script = state.get("script") if state.get("mode") == "script" else None
            if script:
                running = await load_entry(session, int(script["id"]), int(script["version"]))
            channel = await session.get(Channel, conversation.channel_id)
            contact = await session.get(Contact, conversation.contact_id)
            zone = (channel.settings or {}).get("time_zone") if channel is not None else None
            return _Read(
                message_id=message.id,
                today=self.local_date(message.provider_timestamp or message.created_at, str(zone) if zone else None),
                language=fallback_language(
                    contact.attributes if contact is not None else None,
                    message.content,
                    channel.settings if channel is not None else None,
                    self.runtime.settings.bot_default_language,
                ),
                rev=int(state.get("rev", 0)),
                state=state,
                text=message.text or "",
                tags=list(conversation.tags or []),
                running=running,
            )

    async def _summary(self, conversation_id: int, outcome: Outcome) -> str:
        assert outcome.escalate is not None
        async with self.runtime.db.reads() as session:
            rows = await session.execute(
                select(Message.direction, Message.text)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id.desc())
                .limit(20)
            )
            transcript = list(reversed(list(rows.all())))
        customer = [t for d, t in transcript if d == Direction.inbound.value and t]
        summary = rule_summary(outcome.state, outcome.escalate, customer)
        if self.llm is not None:
            lines = "\n".join(f"{'customer' if d == 'inbound' else 'us'}: {t}" for d, t in transcript if t)
            llm_summary = await self.llm.summary(f"{lines}\n(hand-off reason: {outcome.escalate.reason})")
            if llm_summary:
                summary = llm_summary
        return summary

    async def _apply(self, conversation_id: int, message_id: int, rev: int, outcome: Outcome, summary: str) -> bool:
        """True when settled (applied, or nothing to do any more); False when the state moved under us."""
        try:
            async with self.runtime.db.transaction() as session:
                conversation = await _locked(session, conversation_id)
                if conversation is None or not _bot_handles(conversation):
                    return True
                current = conversation.bot_state or {}
                if int(current.get("last_message_id", 0)) >= message_id:
                    return True
                if int(current.get("rev", 0)) != rev:
                    return False
                state = {**outcome.state, "last_message_id": message_id, "rev": rev + 1}
                await runs.sync(
                    session, conversation_id, current, state, outcome.log, escalated=outcome.escalate is not None
                )
                if outcome.replies:
                    await self.runtime.rate_limits.bot_reply.enforce(
                        str(conversation.contact_id), "the bot replied too often to this contact", len(outcome.replies)
                    )
                for reply in outcome.replies:
                    sent = await send_reply(
                        session,
                        conversation_id=conversation_id,
                        author=BOT,
                        text=reply.text,
                        content=reply.content,
                        blobs=self.runtime.blobs,
                    )
                    log_interaction(session, conversation_id, "replied", {"message_id": sent.id, **reply.content})
                for kind, details in outcome.log:
                    log_interaction(session, conversation_id, kind, details, message_id)
                if outcome.end_action is not None:
                    end_action = {**outcome.end_action, "run_id": state.get("run_id")}
                    enqueue(session, END_ACTION_TOPIC, {"conversation_id": conversation_id, **end_action})
                if outcome.progress is not None:
                    emit_frame(
                        session,
                        "bot.progress",
                        data={"conversation_id": conversation_id, **outcome.progress},
                        channel_id=conversation.channel_id,
                        conversation_id=conversation_id,
                    )
                if outcome.escalate is not None:
                    await escalate(
                        session,
                        conversation,
                        trigger=outcome.escalate,
                        summary=summary,
                        state=state,
                        blobs=self.runtime.blobs,
                        notify=outcome.notify,
                        message_id=message_id,
                        fields=outcome.fields,
                    )
                else:
                    conversation.bot_state = state
            return True
        except BotPaused:
            # A human took over between our read and this write: the bot says nothing, by design.
            return True
        except ReplyNotAllowed:
            # The provider's window is closed and the bot may not use HUMAN_AGENT: hand over silently so a
            # person can answer with a template.
            await self._silent_handoff(conversation_id, message_id, outcome, summary)
            return True
        except RateLimited as exc:
            # Over HELPLINE_BOT_REPLY_LIMIT: most likely a loop with an auto-responder. A person takes over.
            log.warning("bot reply limit reached in conversation %s; handed to a person", conversation_id)
            await self._silent_handoff(
                conversation_id, message_id, outcome, summary, forced=Trigger(REPLY_LIMIT, exc.message)
            )
            return True
        except ReplyRefused as exc:
            # The bot's answer does not fit this channel (e.g. an article longer than Instagram takes): a person
            # answers instead, and the customer is told so.
            trigger = Trigger(TECHNICAL_ERROR, exc.message)
            await self._silent_handoff(conversation_id, message_id, outcome, summary, forced=trigger)
            return True

    async def _silent_handoff(
        self, conversation_id: int, message_id: int, outcome: Outcome, summary: str, *, forced: Trigger | None = None
    ) -> None:
        """Hand over without the bot's replies: silently when the window is closed, with the usual notice when
        the replies were refused for another reason (`forced` names it)."""
        async with self.runtime.db.transaction() as session:
            conversation = await _locked(session, conversation_id)
            if conversation is None or not _bot_handles(conversation):
                return
            trigger = forced or outcome.escalate or Trigger(WINDOW_CLOSED)
            state = {**(conversation.bot_state or {}), "last_message_id": message_id}
            state["rev"] = int(state.get("rev", 0)) + 1
            await escalate(
                session,
                conversation,
                trigger=trigger
                if forced or trigger.reason == WINDOW_CLOSED
                else Trigger(WINDOW_CLOSED, trigger.reason),
                summary=summary or rule_summary(state, trigger, []),
                state=state,
                blobs=self.runtime.blobs,
                notify=forced is not None,
                message_id=message_id,
            )


async def decide_or_hand_over(ctx: Context, *, where: str) -> Outcome:
    """`flow.decide`, except that a bug or a broken model hands over to a person (technical_error) rather
    than leaving the customer unanswered; `where` names the case in the log."""
    try:
        return await decide(ctx)
    except Exception as exc:
        log.exception("bot failed on %s", where)
        return Outcome(state=dict(ctx.state), escalate=Trigger(TECHNICAL_ERROR, type(exc).__name__))


def _bot_handles(conversation: Conversation) -> bool:
    return conversation.handler == Handler.bot.value and conversation.status != Status.resolved.value


async def _handed_back_at(session: Any, conversation_id: int) -> int:
    """The id of the latest hand-back to the bot (0 if none): what the customer wrote before it, while a person
    handled the conversation, is not the bot's to answer — even when its job runs only after the hand-back."""
    rows = await session.execute(
        select(Message.id, Message.content)
        .where(Message.conversation_id == conversation_id, Message.content_type == EVENT_CONTENT_TYPE)
        .order_by(Message.id.desc())
        .limit(20)
    )
    return next((int(i) for i, content in rows.all() if (content or {}).get("event") == HANDED_BACK), 0)


def fallback_language(
    contact_attributes: dict[str, Any] | None,
    message_content: dict[str, Any] | None,
    channel_settings: dict[str, Any] | None,
    company_default: str,
) -> str:
    """The language to answer in when the message shows none and the conversation has none yet: the contact's
    `language` attribute, else the language the widget showed the visitor (`locale` of the message), else
    the channel's `language` setting (a widget's `locale` unless "auto"), else the company default
    (HELPLINE_BOT_DEFAULT_LANGUAGE)."""
    channel = channel_settings or {}
    for value in (
        (contact_attributes or {}).get("language"),
        (message_content or {}).get("locale"),
        channel.get("language"),
        channel.get("locale"),
    ):
        if (language := supported(value)) is not None:
            return language
    return supported(company_default) or "en"


async def _locked(session: Any, conversation_id: int) -> Conversation | None:
    result = await session.execute(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
    conversation: Conversation | None = result.scalar_one_or_none()
    return conversation


async def load_entry(session: Any, script_id: int, version: int) -> ScriptEntry | None:
    """A script as of one version: a conversation finishes the version it started with."""
    row = (
        await session.execute(
            select(Script, ScriptVersion)
            .join(ScriptVersion, ScriptVersion.script_id == Script.id)
            .where(Script.id == script_id, ScriptVersion.version == version)
        )
    ).one_or_none()
    if row is None:
        return None
    script, snapshot = row
    definition = ScriptDefinition.model_validate(snapshot.definition)
    return ScriptEntry(script.id, script.key, definition.name, snapshot.version, definition)


_ATTRIBUTE = "_bot_front_line"


def front_line_for(runtime: Runtime) -> BotFrontLine:
    """One front line per runtime, so the worker and the API share the fitted models. It rides on the
    runtime object itself, so it lives and dies with it."""
    front_line = getattr(runtime, _ATTRIBUTE, None)
    if not isinstance(front_line, BotFrontLine):
        front_line = BotFrontLine(runtime)
        install_front_line(runtime, front_line)
    return front_line


def install_front_line(runtime: Runtime, front_line: BotFrontLine) -> None:
    """Use this front line for `runtime` (tests inject a matcher or an LLM this way)."""
    setattr(runtime, _ATTRIBUTE, front_line)
