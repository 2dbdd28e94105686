"""The routing worker: hand each new customer message to the front line, unless humans handle the chat."""

from __future__ import annotations

from helpline.bot.interface import FrontLine
from helpline.conversations.models import Conversation, Handler, Status
from helpline.platform.worker import Handler as JobHandler
from helpline.platform.worker import Job
from helpline.runtime import Runtime


def make_routing_handler(runtime: Runtime, front_line: FrontLine) -> JobHandler:
    async def route(job: Job) -> None:
        conversation_id = int(job.payload["conversation_id"])
        async with runtime.db.reads() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                return
            bot_handles = conversation.handler == Handler.bot.value and conversation.status != Status.resolved.value
        if bot_handles:
            # The human queue needs no work here: the conversation is already listed, and operators were
            # told by the realtime frame written with the message.
            await front_line.on_inbound(conversation_id, int(job.payload["message_id"]))

    return route
