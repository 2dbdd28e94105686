"""Matching fixtures: a tiny bilingual (English and Portuguese) set of scripts with example phrasings."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

EXAMPLES: list[tuple[str, str]] = [
    ("I want to file an insurance claim", "claim"),
    ("my car was damaged in an accident, I need to claim", "claim"),
    ("how do I report a claim for my policy", "claim"),
    ("quero abrir um sinistro do meu seguro", "claim"),
    ("bati o carro e preciso acionar o seguro", "claim"),
    ("como faço para registrar um sinistro", "claim"),
    ("where is my order", "order"),
    ("my package has not arrived yet", "order"),
    ("track my order status please", "order"),
    ("onde está o meu pedido", "order"),
    ("minha encomenda ainda não chegou", "order"),
    ("quero rastrear o meu pedido", "order"),
    ("I would like to book an appointment", "appointment"),
    ("can I schedule a visit for next week", "appointment"),
    ("book me a slot with the doctor", "appointment"),
    ("quero marcar uma consulta", "appointment"),
    ("posso agendar um horário para amanhã", "appointment"),
    ("gostaria de agendar uma visita", "appointment"),
    ("I want to cancel my subscription", "cancel"),
    ("please cancel my contract", "cancel"),
    ("how do I terminate my plan", "cancel"),
    ("quero cancelar minha assinatura", "cancel"),
    ("cancelar o meu contrato por favor", "cancel"),
    ("como cancelo o meu plano", "cancel"),
    ("what are your opening hours", "hours"),
    ("when do you open on saturday", "hours"),
    ("what time does the store close", "hours"),
    ("qual o horário de funcionamento", "hours"),
    ("vocês abrem no sábado", "hours"),
    ("a que horas a loja fecha", "hours"),
]


@pytest.fixture
def examples() -> list[tuple[str, str]]:
    return list(EXAMPLES)
