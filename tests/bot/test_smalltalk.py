"""Small-talk recognition: whole messages that are greetings, thanks, goodbyes, "are you a bot?", "hello?"."""

from __future__ import annotations

import pytest

from helpline.bot.smalltalk import classify


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Hi", "greeting"),
        ("Hello there!", "greeting"),
        ("good morning team", "greeting"),
        ("Olá, bom dia", "greeting"),
        ("oi, tudo bem?", "greeting"),
        ("Buenas tardes", "greeting"),
        ("hola, ¿qué tal?", "greeting"),
        ("thank you!", "thanks"),
        ("Muito obrigada pela ajuda", "thanks"),
        ("muchas gracias", "thanks"),
        ("ok thanks, bye", "goodbye"),
        ("tchau, até logo", "goodbye"),
        ("adiós", "goodbye"),
        ("are you a bot?", "are_you_a_bot"),
        ("hi, am I talking to a human?", "are_you_a_bot"),
        ("você é um robô?", "are_you_a_bot"),
        ("¿eres un bot?", "are_you_a_bot"),
        ("hello?", "anyone_there"),
        ("oi?", "anyone_there"),
        ("tem alguém aí?", "anyone_there"),
        ("is anyone there?", "anyone_there"),
        ("¿hay alguien ahí?", "anyone_there"),
        # Emoji only: a wave says hello, thumbs up / folded hands / smiles say thanks, others ask what is needed.
        ("👋", "greeting"),
        ("👍🏽", "thanks"),
        ("🙏", "thanks"),
        ("❤️", "thanks"),
        ("😡", "emoji"),
        ("🚗💥", "emoji"),
    ],
)
def test_small_talk(text: str, kind: str) -> None:
    assert classify(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "Hi, I need to file a claim",
        "Olá, bateram no meu carro ontem",
        "thanks, and where is my order?",
        "hola, quiero cancelar mi póliza",
        "POL-771203",
        "yesterday",
        "",
    ],
)
def test_requests_are_not_small_talk(text: str) -> None:
    assert classify(text) is None
