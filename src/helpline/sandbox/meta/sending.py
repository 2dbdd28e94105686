"""The fake's send endpoints: WhatsApp Cloud API and the Messenger/Instagram Send API, with Meta's window rules."""

from __future__ import annotations

import re
from typing import Any

from helpline.sandbox.meta import payloads
from helpline.sandbox.meta.core import HUMAN_AGENT_WINDOW, WINDOW, MetaSandbox
from helpline.sandbox.meta.errors import GraphError, invalid_parameter, whatsapp_error
from helpline.sandbox.meta.state import Injection, Page, Sent, WhatsAppNumber

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
WHATSAPP_OUT_TYPES = ("text", "template", "interactive", "location", "contacts", "reaction", *MEDIA_TYPES)
PAGE_TEXT_LIMIT = {"messenger": 2000, "instagram": 1000}
WINDOW_MESSAGE = (
    "(#10) This message is sent outside of allowed window. Learn more about the new policy here: "
    "https://developers.facebook.com/docs/messenger-platform/policy-overview"
)
RE_ENGAGEMENT = "More than 24 hours have passed since the recipient last replied to the sender number."


def _wa_error_object(code: int, title: str, details: str) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


# ---------------------------------------------------------------- WhatsApp


async def whatsapp_send(
    sandbox: MetaSandbox, number: WhatsAppNumber, body: dict[str, Any], injection: Injection | None
) -> dict[str, Any]:
    if body.get("messaging_product") != "whatsapp":
        raise whatsapp_error(100, "Invalid parameter", "The parameter messaging_product is required.")
    if body.get("status") == "read":
        if body.get("message_id") not in sandbox.inbound_ids:
            raise whatsapp_error(100, "Invalid parameter", "Invalid message_id for mark as read.")
        sandbox.sent.append(
            Sent(
                "whatsapp",
                number.phone_number_id,
                "",
                str(body["message_id"]),
                body,
                sandbox.clock.now(),
                outcome="read",
            )
        )
        return {"success": True}
    to = str(body.get("to") or "")
    wa_id = re.sub(r"\D", "", to)
    if not wa_id:
        raise whatsapp_error(100, "Invalid parameter", "The parameter to is required.")
    kind = body.get("type", "text")
    if kind not in WHATSAPP_OUT_TYPES:
        raise whatsapp_error(100, "Invalid parameter", f"Unsupported message type {kind!r}.")
    _check_whatsapp_content(sandbox, number, kind, body)
    if injection is not None and not injection.asynchronous:
        raise GraphError(
            code=injection.code,
            message=injection.message,
            status=injection.status,
            subcode=injection.subcode,
            error_data={"messaging_product": "whatsapp", "details": injection.message},
        )
    failure: dict[str, Any] | None = None
    if injection is not None:
        failure = _wa_error_object(injection.code, injection.message, injection.message)
    elif kind != "template" and not sandbox.in_window(number.phone_number_id, wa_id):
        if sandbox.whatsapp_window_errors == "sync":
            raise whatsapp_error(131047, "Re-engagement message", RE_ENGAGEMENT)
        failure = _wa_error_object(131047, "Re-engagement message", RE_ENGAGEMENT)
    elif wa_id in sandbox.not_on_whatsapp:
        failure = _wa_error_object(131026, "Message undeliverable", "Message Undeliverable.")
    message_id = payloads.wamid()
    sent = Sent(
        "whatsapp",
        number.phone_number_id,
        wa_id,
        message_id,
        body,
        sandbox.clock.now(),
        outcome="failed" if failure else "accepted",
    )
    sandbox.sent.append(sent)
    await _whatsapp_statuses(sandbox, number, sent, failure)
    message: dict[str, Any] = {"id": message_id}
    if kind == "template":
        message["message_status"] = "accepted"
    return {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": wa_id}], "messages": [message]}


def _check_whatsapp_content(sandbox: MetaSandbox, number: WhatsAppNumber, kind: str, body: dict[str, Any]) -> None:
    content = body.get(kind)
    if not isinstance(content, dict) and kind != "contacts":
        raise whatsapp_error(100, "Invalid parameter", f"The parameter {kind} is required.")
    if kind == "text":
        text = str(content.get("body") or "") if isinstance(content, dict) else ""
        if not text or len(text) > 4096:
            raise whatsapp_error(100, "Invalid parameter", "Param text['body'] must be 1 to 4096 characters long.")
    elif kind in MEDIA_TYPES:
        assert isinstance(content, dict)
        media_id, link = content.get("id"), content.get("link")
        if not media_id and not link:
            raise whatsapp_error(100, "Invalid parameter", f"Either {kind}['id'] or {kind}['link'] is required.")
        if media_id and str(media_id) not in sandbox.media:
            raise whatsapp_error(131053, "Media upload error", f"Unknown media id {media_id}.")
    elif kind == "template":
        assert isinstance(content, dict)
        _check_template(sandbox, number, content)


def _check_template(sandbox: MetaSandbox, number: WhatsAppNumber, template: dict[str, Any]) -> None:
    name, language = template.get("name"), (template.get("language") or {}).get("code")
    found = next(
        (t for t in sandbox.templates.get(number.waba_id, []) if t["name"] == name and t["language"] == language),
        None,
    )
    if found is None:
        raise whatsapp_error(
            132001,
            "Template name does not exist in the translation",
            f"template name ({name}) does not exist in {language}",
        )
    if found["status"] == "PAUSED":
        raise whatsapp_error(132015, "Template is Paused", f"Template {name} is paused due to low quality.")
    if found["status"] != "APPROVED":
        raise whatsapp_error(
            132001,
            "Template name does not exist in the translation",
            f"template name ({name}) is not approved ({found['status']})",
        )
    for part in ("BODY", "HEADER"):
        expected = sum(
            len(re.findall(r"\{\{\d+\}\}", c.get("text", ""))) for c in found["components"] if c["type"] == part
        )
        given = sum(
            len(c.get("parameters", []))
            for c in template.get("components", [])
            if str(c.get("type", "")).upper() == part
        )
        if expected != given:
            raise whatsapp_error(
                132000,
                "Number of parameters does not match the expected number of params",
                f"{part.lower()}: number of localizable_params ({given}) does not match the "
                f"expected number of params ({expected})",
            )


async def _whatsapp_statuses(
    sandbox: MetaSandbox, number: WhatsAppNumber, sent: Sent, failure: dict[str, Any] | None
) -> None:
    """sent → delivered → read after each send, or one `failed` status (how Cloud API reports 131047)."""
    steps = ["failed"] if failure else ["sent", "delivered", *(["read"] if sandbox.auto_read else [])]
    for i, status in enumerate(steps):
        item = payloads.whatsapp_status(
            sent.message_id,
            status,
            recipient_id=sent.recipient,
            timestamp=sandbox.clock.timestamp(),
            error=failure,
            first=i == 0,
        )
        entry = payloads.whatsapp_envelope(
            number.waba_id, number.phone_number_id, number.display_phone_number, {"statuses": [item]}
        )
        await sandbox.webhooks.emit("whatsapp_business_account", [entry], delay=sandbox.status_delay)


# ---------------------------------------------------------------- Messenger and Instagram


async def page_send(
    sandbox: MetaSandbox, page: Page, body: dict[str, Any], injection: Injection | None
) -> dict[str, Any]:
    recipient = str((body.get("recipient") or {}).get("id") or "")
    if not recipient:
        raise invalid_parameter("param recipient must be non-empty.")
    if injection is not None:
        raise GraphError(
            code=injection.code, message=injection.message, status=injection.status, subcode=injection.subcode
        )
    message = body.get("message")
    if message is None:
        if body.get("sender_action") in ("mark_seen", "typing_on", "typing_off", "react", "unreact"):
            return {"recipient_id": recipient}
        raise invalid_parameter("param message must be non-empty.")
    if not isinstance(message, dict) or not (message.get("text") or message.get("attachment")):
        raise invalid_parameter("param message must have text or an attachment.")
    text = message.get("text")
    if text is not None and len(str(text)) > PAGE_TEXT_LIMIT[page.kind]:
        raise invalid_parameter(
            f"Length of param message[text] must be less than or equal to {PAGE_TEXT_LIMIT[page.kind]}"
        )
    attachment = message.get("attachment")
    if attachment is not None:
        payload = attachment.get("payload") or {}
        if payload.get("attachment_id") and str(payload["attachment_id"]) not in sandbox.attachments:
            raise invalid_parameter("Upload attachment failure.", subcode=2018047)
    _check_page_window(sandbox, page, recipient, body)
    message_id = payloads.mid()
    sent = Sent(page.kind, page.id, recipient, message_id, body, sandbox.clock.now())
    sandbox.sent.append(sent)
    await _page_follow_ups(sandbox, page, sent, message)
    return {"recipient_id": recipient, "message_id": message_id}


def _check_page_window(sandbox: MetaSandbox, page: Page, recipient: str, body: dict[str, Any]) -> None:
    """Inside 24 h anything goes; up to 7 days only MESSAGE_TAG + HUMAN_AGENT (other tags: Messenger only)."""
    messaging_type = body.get("messaging_type", "RESPONSE")
    tag = body.get("tag")
    if messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY"):
        raise invalid_parameter(f"param messaging_type must be one of RESPONSE, UPDATE, MESSAGE_TAG: {messaging_type}")
    if messaging_type == "MESSAGE_TAG" and not tag:
        raise invalid_parameter("param tag must be non-empty when messaging_type is MESSAGE_TAG.")
    if sandbox.in_window(page.id, recipient, WINDOW):
        return
    if (
        messaging_type == "MESSAGE_TAG"
        and tag == "HUMAN_AGENT"
        and sandbox.in_window(page.id, recipient, HUMAN_AGENT_WINDOW)
    ):
        return
    if messaging_type == "MESSAGE_TAG" and tag != "HUMAN_AGENT" and page.kind == "messenger":
        return
    subcode = 2018278 if page.kind == "messenger" else sandbox.instagram_window_subcode
    raise GraphError(code=10, message=WINDOW_MESSAGE, status=400, subcode=subcode)


async def _page_follow_ups(sandbox: MetaSandbox, page: Page, sent: Sent, message: dict[str, Any]) -> None:
    """The echo (is_echo + app_id) Meta sends for every Page send, then delivery and read receipts."""
    now_ms = int(sandbox.clock.now().timestamp() * 1000)
    echo: dict[str, Any] = {"is_echo": True, "app_id": int(sandbox.app_id), "mid": sent.message_id}
    if message.get("text") is not None:
        echo["text"] = message["text"]
    if message.get("attachment"):
        echo["attachments"] = [message["attachment"]]
    if message.get("metadata"):
        echo["metadata"] = message["metadata"]
    obj = "page" if page.kind == "messenger" else "instagram"
    events = [payloads.messaging_event(page.id, sent.recipient, now_ms, message=echo)]
    if page.kind == "messenger":
        events.append(
            payloads.messaging_event(
                sent.recipient, page.id, now_ms, delivery={"mids": [sent.message_id], "watermark": now_ms}
            )
        )
        if sandbox.auto_read:
            events.append(payloads.messaging_event(sent.recipient, page.id, now_ms, read={"watermark": now_ms}))
    elif sandbox.auto_read:
        events.append(payloads.messaging_event(sent.recipient, page.id, now_ms, read={"mid": sent.message_id}))
    for event in events:
        await sandbox.webhooks.emit(
            obj, [payloads.messaging_entry(page.id, now_ms, [event])], delay=sandbox.status_delay
        )
