"""The routing worker: hand each new customer message to the front line, unless humans handle the chat."""

from __future__ import annotations

import logging

from helpline.bot.interface import FrontLine
from helpline.conversations.models import Conversation, Handler, Status
from helpline.platform.worker import Handler as JobHandler
from helpline.platform.worker import Job
from helpline.runtime import Runtime

log = logging.getLogger(__name__)


def make_routing_handler(runtime: Runtime, front_line: FrontLine) -> JobHandler:
    async def route(job: Job) -> None:
        conversation_id = int(job.payload["conversation_id"])
        async with runtime.db.reads() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                return
            bot_handles = conversation.handler == Handler.bot.value and conversation.status != Status.resolved.value
            contact_id = conversation.contact_id
        if bot_handles and await bot_may_answer(runtime, contact_id, int(job.payload["message_id"])):
            # The human queue needs no work here: the conversation is already listed, and operators were
            # told by the realtime frame written with the message.
            await front_line.on_inbound(conversation_id, int(job.payload["message_id"]))

    return route


async def bot_may_answer(runtime: Runtime, contact_id: int, message_id: int) -> bool:
    """Counts the message against HELPLINE_INBOUND_CONTACT_LIMIT; False when over it. The message is already
    stored and shown to people; only the bot skips it, so one contact's flood (or a loop with an
    auto-responder) costs no bot work and no replies."""
    if await runtime.rate_limits.inbound_contact.hit(str(contact_id)) is None:
        return True
    log.info("contact %s over the inbound limit: message %s kept, not given to the bot", contact_id, message_id)
    return False
