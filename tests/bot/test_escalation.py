"""Escalation triggers: asking for a person in five languages, keywords, frustration, tags."""

from __future__ import annotations

import pytest

from helpline.bot.escalation import frustrated, keyword_hit, message_trigger, tag_trigger, wants_human
from helpline.bot.language import detect_language


@pytest.mark.parametrize(
    "text",
    [
        # English
        "I want to talk to a human",
        "can I speak with someone please",
        "Let me talk to a real person",
        "get me an agent",
        "connect me to customer service",
        "AGENT",
        "I need a representative",
        "you're a bot, I want a person",
        # Portuguese
        "Quero falar com um atendente",
        "preciso falar com uma pessoa de verdade",
        "me passe para um humano",
        "Posso falar com alguém?",
        "atendente",
        # Spanish
        "Quiero hablar con una persona",
        "necesito hablar con un agente por favor",
        "pásame con alguien",
        # Italian
        "Vorrei parlare con un operatore",
        "voglio parlare con una persona",
        "passami un operatore",
        # French
        "Je veux parler à un conseiller",
        "je voudrais parler à quelqu'un",
        "passez-moi un opérateur",
        # The short answer to the fallback's offer of a person
        "a person please",
        "Person.",
        "uma pessoa",
        "una persona, por favor",
        "someone please",
    ],
)
def test_asking_for_a_person(text: str) -> None:
    assert wants_human(text), text


@pytest.mark.parametrize(
    "text",
    [
        "I want to file an insurance claim",
        "where is my order",
        "Quero marcar uma consulta",
        "my policy number is POL-1234",
        "yes",
        "personal details updated",
        "the manager said my refund was ok",
        "people",
        "a person called about my order",
    ],
)
def test_ordinary_messages_are_not_requests_for_a_person(text: str) -> None:
    assert not wants_human(text), text


def test_frustration_and_keywords() -> None:
    assert frustrated("this is useless")
    assert frustrated("Isso é um absurdo")
    assert frustrated("WHY IS NOTHING WORKING FOR ME!!!")
    assert not frustrated("Thanks, that was helpful")
    assert keyword_hit("Quero cancelar o SEGURO", ["seguro"]) == "seguro"
    assert keyword_hit("insurance", ["seguro"]) is None
    trigger = message_trigger("I will call my lawyer", keywords=[])
    assert trigger is not None and trigger.reason == "frustration"
    trigger = message_trigger("please cancel", keywords=["cancel"])
    assert trigger is not None and (trigger.reason, trigger.detail) == ("keyword", "cancel")
    assert message_trigger("what are your opening hours", keywords=["cancel"]) is None


def test_tag_rule() -> None:
    trigger = tag_trigger(["VIP", "auto"], ["vip"])
    assert trigger is not None and (trigger.reason, trigger.detail) == ("tag_rule", "vip")
    assert tag_trigger(["auto"], ["vip"]) is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I want to file a claim", "en"),
        ("Quero abrir um sinistro do meu carro", "pt"),
        ("Quiero hablar de mi pedido", "es"),
        ("Je veux annuler mon rendez-vous", "fr"),
        ("Voglio prenotare un appuntamento", "it"),
        ("POL-1234", "en"),
    ],
)
def test_language_guess(text: str, lang: str) -> None:
    assert detect_language(text) == lang
