"""WhatsApp webhook parsing from recorded payloads: every message type, statuses, templates (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from helpline.channels.base import (
    ChannelConfig,
    DeliveryStatusChanged,
    IdentityChanged,
    InboundEvent,
    InboundMessage,
    InboundReaction,
    TemplateStatusChanged,
)
from helpline.channels.meta.webhook import Routed
from helpline.channels.whatsapp.adapter import WhatsAppAdapter
from tests.channels.meta_support import PHONE_NUMBER_ID, TOKEN, WA_ID, WABA_ID, fixture, raw

CONFIG = ChannelConfig(
    id=1,
    kind="whatsapp",
    name="wa",
    credentials={"access_token": TOKEN},
    settings={"phone_number_id": PHONE_NUMBER_ID, "waba_id": WABA_ID},
)


def parse(name: str) -> list[InboundEvent]:
    return WhatsAppAdapter(CONFIG, httpx.AsyncClient()).parse_webhook(raw(fixture("whatsapp", name)))


def one_message(name: str) -> InboundMessage:
    events = parse(name)
    assert len(events) == 1 and isinstance(events[0], InboundMessage), events
    return events[0]


def test_text_names_the_contact_and_keeps_the_provider_time() -> None:
    message = one_message("text")
    assert message.contact.provider_id == WA_ID and message.contact.name == "Sheena Nelson"
    assert message.contact.phone == "+" + WA_ID
    assert message.provider_message_id == "wamid.TEXT1"
    assert message.text == "Olá, preciso de ajuda"
    assert message.timestamp == datetime.fromtimestamp(1739321024, tz=UTC)
    assert message.content_type == "text" and not message.echo


@pytest.mark.parametrize(
    ("name", "kind", "mime", "filename", "caption"),
    [
        ("image", "image", "image/jpeg", "image-1479537139650973.jpg", "my car"),
        ("document", "document", "application/pdf", "apolice.pdf", "the policy"),
        ("audio", "audio", "audio/ogg", "voice-2002.ogg", None),
        ("video", "video", "video/mp4", "video-2003.mp4", None),
        ("sticker", "sticker", "image/webp", "sticker-2004.webp", None),
    ],
)
def test_media_become_pending_attachments_by_media_id(
    name: str, kind: str, mime: str, filename: str, caption: str | None
) -> None:
    message = one_message(name)
    assert message.content_type == kind
    assert message.text == caption
    [attachment] = message.attachments
    assert attachment.data is None
    assert attachment.source_url == "meta-media:" + message.content["media"]["id"]
    assert (attachment.content_type, attachment.filename) == (mime, filename)


def test_voice_note_is_flagged() -> None:
    assert one_message("audio").content["media"]["voice"] is True


def test_location_contacts_and_replies_to_buttons_and_lists() -> None:
    location = one_message("location")
    assert location.text == "📍 MASP — Av. Paulista, 1578"
    assert location.content["location"]["latitude"] == -23.5614
    contacts = one_message("contacts")
    assert contacts.text == "👤 Maria Silva"
    assert contacts.content["contacts"][0]["phones"][0]["wa_id"] == "5511912345678"
    button = one_message("interactive_button")
    assert button.text == "Sim" and button.content["interactive"] == {
        "type": "button_reply",
        "id": "yes",
        "title": "Sim",
    }
    assert button.reply_to_provider_id == "wamid.OUT1"
    listed = one_message("interactive_list")
    assert listed.content["interactive"]["description"] == "Carros e motos"
    template_button = one_message("button")
    assert template_button.text == "Parar promoções"
    assert template_button.content["button"] == {"payload": "STOP", "text": "Parar promoções"}


def test_reaction_targets_the_message_it_reacts_to_and_an_empty_emoji_removes_it() -> None:
    [reaction] = parse("reaction")
    assert isinstance(reaction, InboundReaction)
    assert (reaction.target_provider_id, reaction.emoji, reaction.contact.provider_id) == ("wamid.OUT1", "👍", WA_ID)
    [removed] = parse("unreaction")
    assert isinstance(removed, InboundReaction) and removed.emoji is None


def test_unsupported_system_reply_forward_and_referral() -> None:
    unsupported = one_message("unsupported")
    assert unsupported.content_type == "unsupported"
    assert unsupported.content["unsupported"]["errors"][0]["code"] == 131051
    # A number change is a system event that re-keys the identity (tests/conversations/test_customer_changes.py).
    [system] = parse("system")
    assert isinstance(system, IdentityChanged)
    assert (system.contact.provider_id, system.new_provider_id) == (WA_ID, "16505559999")
    assert one_message("reply").reply_to_provider_id == "wamid.OUT1"
    assert one_message("forwarded").content["forwarded"] is True
    referral = one_message("referral")
    assert referral.referral_id == "120208871234560123"
    assert referral.content["referral"]["headline"] == "Feira do Seguro 2026"


@pytest.mark.parametrize("state", ["sent", "delivered", "read"])
def test_statuses(state: str) -> None:
    [status] = parse(f"status_{state}")
    assert isinstance(status, DeliveryStatusChanged)
    assert (status.provider_message_id, status.state, status.error_code) == ("wamid.OUT1", state, None)


def test_failed_status_carries_a_readable_reason() -> None:
    [status] = parse("status_failed")
    assert isinstance(status, DeliveryStatusChanged) and status.state == "failed"
    assert status.error_code == "131047"
    assert status.error_reason is not None
    assert "24 hours" in status.error_reason and "template" in status.error_reason
    assert "more than 24 hours have passed since the customer last replied" in status.error_reason


def test_template_status_update_is_routed_by_waba() -> None:
    payload = fixture("whatsapp", "template_status")
    assert WhatsAppAdapter.route(payload)[0].setting == "waba_id"
    [change] = parse("template_status")
    assert change == TemplateStatusChanged(
        name="order_update",
        language="en_US",
        status="PAUSED",
        provider_template_id="1000000000000001",
        reason="LOW_QUALITY",
        category="UTILITY",
    )


def test_value_level_errors_make_no_event() -> None:
    assert parse("value_errors") == []


def test_batch_walks_every_entry_and_message() -> None:
    events = parse("batch")
    assert [e.provider_message_id for e in events if isinstance(e, InboundMessage)] == [
        "wamid.B1",
        "wamid.B2",
        "wamid.B3",
    ]
    routed = WhatsAppAdapter.route(fixture("whatsapp", "batch"))
    assert {(r.setting, r.value) for r in routed} == {("phone_number_id", PHONE_NUMBER_ID)}


def test_parts_for_another_number_are_not_this_channels() -> None:
    payload = fixture("whatsapp", "text")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert WhatsAppAdapter(CONFIG, httpx.AsyncClient()).parse_webhook(raw(payload)) == []
    assert WhatsAppAdapter.route(payload) == [Routed("phone_number_id", "999", WhatsAppAdapter.route(payload)[0].entry)]


def test_garbage_inside_a_valid_envelope_is_skipped_not_fatal() -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            "nonsense",
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                            "messages": [{"type": "text"}, 7],
                            "contacts": "x",
                        },
                    }
                ],
            },
        ],
    }
    assert WhatsAppAdapter(CONFIG, httpx.AsyncClient()).parse_webhook(raw(payload)) == []
