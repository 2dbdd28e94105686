"""What Messenger and Instagram share: `messaging[]` webhooks, the Send API body, HUMAN_AGENT rules."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

from helpline.channels.base import (
    DeliveryError,
    InboundContact,
    InboundEvent,
    OutboundAttachment,
    OutboundMessage,
    SentReceipt,
)
from helpline.channels.limits import SendLimits, file_problem, text_problem
from helpline.channels.meta.adapter import MetaAdapter
from helpline.channels.meta.messaging import parse_messaging
from helpline.channels.meta.webhook import Routed, entries, items

HUMAN_AGENT = "HUMAN_AGENT"


def attachment_type(content_type: str) -> str:
    major = content_type.split("/")[0].lower()
    return major if major in ("image", "video", "audio") else "file"


class PageMessagingAdapter(MetaAdapter):
    """Subclasses set `asset_setting` (the entry.id's channel setting) and `limits`."""

    asset_setting: ClassVar[str]
    limits: ClassVar[SendLimits]
    # The user profile fields this platform answers for a person who wrote to the Page / account.
    profile_fields: ClassVar[str] = "first_name,last_name"

    async def fetch_profile(self, user_id: str) -> InboundContact | None:
        """The name of the person behind a PSID / IGSID: GET /{user-id}?fields=… with the Page's token
        (Messenger's User Profile API, Instagram's user profile; both answer only for a person who wrote first,
        which they have). None when Meta withholds it (no permission, the person's privacy settings): the
        contact keeps the id as its name. Raises DeliveryError for a failure worth retrying."""
        try:
            answer = await self.graph.call("GET", user_id, params={"fields": self.profile_fields})
        except DeliveryError as exc:
            if exc.retryable:
                raise
            return None
        first, last = str(answer.get("first_name") or "").strip(), str(answer.get("last_name") or "").strip()
        name = " ".join(p for p in (first, last) if p) or str(answer.get("name") or answer.get("username") or "")
        # The profile picture is left out: its CDN link expires within days, a broken avatar later.
        return InboundContact(provider_id=user_id, name=name.strip()[:300]) if name.strip() else None

    @classmethod
    def route(cls, payload: Mapping[str, Any]) -> list[Routed]:
        return [Routed(cls.asset_setting, str(e["id"]), e) for e in entries(payload) if e.get("id")]

    def parse_entry(self, entry: dict[str, Any]) -> list[InboundEvent]:
        app_id = str(self.config.platform.get("meta_app_id") or "") or None
        events: list[InboundEvent] = []
        # `standby[]` (another app owns the thread under handover) is not ours to answer: skipped.
        for event in items(entry, "messaging"):
            events.extend(parse_messaging(event, app_id=app_id))
        return events

    @property
    def send_path(self) -> str:
        return f"{self.config.settings.get(self.asset_setting)}/messages"

    def tagging(self, message: OutboundMessage) -> dict[str, Any]:
        """RESPONSE inside 24 h; MESSAGE_TAG + HUMAN_AGENT after it, which Meta allows for people only."""
        options = message.content.get("send_options") or {}
        if options.get("message_tag") != HUMAN_AGENT:
            return {"messaging_type": "RESPONSE"}
        if message.author_kind != "operator":
            raise DeliveryError(
                "the HUMAN_AGENT tag is only for replies written by a person; the bot cannot use it",
                retryable=False,
                code="human_agent_bot",
            )
        return {"messaging_type": "MESSAGE_TAG", "tag": HUMAN_AGENT}

    def check_limits(self, message: OutboundMessage) -> None:
        """Refuse before sending anything what the provider would refuse, with a reason an operator can use."""
        problem = text_problem(self.limits, message.text) or next(
            (p for a in message.attachments if (p := file_problem(self.limits, a.filename, a.content_type, a.size))),
            None,
        )
        if problem is not None:
            raise DeliveryError(problem.message, retryable=False, code=problem.code)

    async def send(self, message: OutboundMessage) -> SentReceipt:
        self.check_limits(message)
        envelope = {"recipient": {"id": message.recipient_id}, **self.tagging(message)}
        receipts: list[SentReceipt] = []
        text = (message.text or "").strip()
        if text:
            body = {**envelope, "message": self.decorate({"text": text}, message)}
            receipts.append(await message.send_part("text", lambda: self._post(body)))
        for index, attachment in enumerate(message.attachments):
            # Each part once: a retry continues with the parts the provider has not accepted yet.
            receipts.append(
                await message.send_part(f"file:{index}", partial(self._send_file, envelope, attachment, message))
            )
        if not receipts:
            raise DeliveryError("nothing to send: no text and no files", retryable=False, code="empty")
        return receipts[0]

    async def _send_file(
        self, envelope: dict[str, Any], attachment: OutboundAttachment, message: OutboundMessage
    ) -> SentReceipt:
        payload = await self.attachment_payload(attachment)
        part = {"attachment": {"type": attachment_type(attachment.content_type), **payload}}
        return await self._post({**envelope, "message": self.decorate(part, message)})

    def decorate(self, body: dict[str, Any], message: OutboundMessage) -> dict[str, Any]:
        """The `message` object as sent; Messenger adds its metadata here."""
        return body

    async def attachment_payload(self, attachment: OutboundAttachment) -> dict[str, Any]:
        return {"payload": {"url": attachment.url}}

    async def _post(self, body: dict[str, Any]) -> SentReceipt:
        answer = await self.graph.call("POST", self.send_path, json=body)
        provider_id = answer.get("message_id")
        return SentReceipt(provider_message_id=str(provider_id) if provider_id else None)
