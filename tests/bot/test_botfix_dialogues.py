"""Breaker's bot findings, as real dialogues through the engine with the shipped scripts (bot/seeds), EN and PT:
a reply that resolves the clarifying question also answers steps (#13), and a value pasted with a zero-width
space still reads (#9)."""

from __future__ import annotations

import httpx
import pytest

from tests.bot.conftest import Chat, bot_view
from tests.conftest import World

# ------------------------------------------------------------------ #13 the reply that resolves a clarification


async def test_the_reply_to_which_one_do_you_mean_also_answers_steps(chat: Chat, seeded: None) -> None:
    [menu] = await chat("I have a question about a claim or an order")
    assert menu.startswith("I can help with a few things. Which one do you mean?"), menu
    assert "Insurance claim" in menu
    [reply] = await chat("my insurance claim, policy POL-482913, car hit yesterday")
    # Policy number and date were in the reply that picked the script: neither is asked.
    assert reply.endswith("In a few words, what happened?"), reply
    assert "policy number" not in reply


async def test_a_resposta_ao_qual_delas_tambem_preenche_etapas(chat: Chat, seeded: None) -> None:
    [menu] = await chat("tenho uma dúvida sobre sinistro ou pedido")
    assert menu.startswith("Posso ajudar com algumas coisas. Qual delas você quer?"), menu
    assert "Abertura de sinistro" in menu
    [reply] = await chat("abertura de sinistro, apólice POL-482913, bateram no carro ontem")
    assert reply.endswith("Em poucas palavras, o que aconteceu?"), reply
    assert "apólice" not in reply


# ------------------------------------------------------------------ #9 invisible characters in a pasted value


async def test_a_zero_width_space_inside_a_policy_number_is_ignored(chat: Chat, seeded: None) -> None:
    [start] = await chat("I had a car accident and want to file a claim")
    assert start.endswith("What is your policy number? (it looks like POL-123456)")
    assert await chat("POL\u200b-482913") == ["When did it happen?"]


async def test_um_espaco_invisivel_no_numero_da_apolice_e_ignorado(chat: Chat, seeded: None) -> None:
    [start] = await chat("Bateram no meu carro, quero abrir um sinistro")
    assert start.endswith("Qual é o número da sua apólice? (algo como POL-123456)")
    assert await chat("\ufeffPOL-48\u200d2913\u2060") == ["Quando aconteceu?"]


# ------------------------------------------------------------------ #7 a date step's direction


async def test_an_appointment_cannot_be_booked_for_yesterday(chat: Chat, seeded: None) -> None:
    [start] = await chat("I want to book an appointment")
    assert start.endswith("Which day suits you?")
    assert await chat("yesterday") == ["That day has already passed.\nWhich day suits you?"]
    assert await chat("tomorrow") == ["Morning or afternoon?\n1) Morning\n2) Afternoon"]


async def test_um_agendamento_para_ontem_e_pedido_de_novo(chat: Chat, seeded: None) -> None:
    [start] = await chat("quero agendar um atendimento")
    assert start.endswith("Qual dia é melhor para você?")
    assert await chat("ontem") == ["Esse dia já passou.\nQual dia é melhor para você?"]
    assert await chat("amanhã") == ["Manhã ou tarde?\n1) Manhã\n2) Tarde"]


async def test_a_booking_for_yesterday_said_up_front_is_not_taken(chat: Chat, seeded: None) -> None:
    [start] = await chat("I want to book an appointment for yesterday")
    assert start.endswith("Which day suits you?"), start


async def test_a_claim_cannot_have_happened_tomorrow(chat: Chat, seeded: None) -> None:
    [start] = await chat("I had a car accident and want to file a claim")
    assert start.endswith("What is your policy number? (it looks like POL-123456)")
    assert await chat("POL-771203") == ["When did it happen?"]
    assert await chat("tomorrow") == ["That day is still to come; I need the day it happened.\nWhen did it happen?"]
    assert await chat("yesterday") == ["In a few words, what happened?"]


async def test_el_siniestro_no_puede_ser_manana(chat: Chat, seeded: None) -> None:
    [start] = await chat("quiero abrir un siniestro, me chocaron el coche")
    assert start.endswith("¿Cuál es el número de su póliza? (algo como POL-123456)"), start
    assert await chat("POL-771203") == ["¿Cuándo ocurrió?"]
    assert await chat("pasado mañana") == [
        "Ese día aún no ha llegado; necesito el día en que ocurrió.\n¿Cuándo ocurrió?"
    ]


# ------------------------------------------------------------------ #1 an article asked by its own title


@pytest.mark.parametrize(
    "question",
    [
        "How long does a claim take?",
        "how long does a claim take?",
        "HOW LONG DOES A CLAIM TAKE",
        "Quanto tempo demora um sinistro?",
        "quanto tempo demora um sinistro",
        "¿cuánto tarda un siniestro?",
        "Cuanto tarda un siniestro",
    ],
)
async def test_an_article_is_given_for_its_own_title_whatever_the_case(chat: Chat, seeded: None, question: str) -> None:
    [reply] = await chat(question)
    assert reply.startswith(
        ("How long does a claim take?\n", "Quanto tempo demora um sinistro?\n", "¿Cuánto tarda un siniestro?\n")
    ), reply


# ------------------------------------------------------------------ #8 / #16 the confirmation says what it confirms


async def test_shall_i_book_restates_the_day_and_the_period(chat: Chat, seeded: None) -> None:
    [start] = await chat("I want to book an appointment")
    assert start.endswith("Which day suits you?")
    # "ok" acknowledges the question: asked again kindly, no "could not read that answer".
    assert await chat("ok") == ["Sure, take your time.\nWhich day suits you?"]
    assert await chat("tomorrow") == ["Morning or afternoon?\n1) Morning\n2) Afternoon"]
    assert await chat("afternoon") == ["Shall I book 24 November 2026, Afternoon?"]


async def test_tudo_de_uma_vez_confirma_o_que_entendeu(chat: Chat, seeded: None) -> None:
    [reply] = await chat("quero agendar um atendimento para amanhã à tarde")
    assert reply.endswith("Posso confirmar o agendamento para 24/11/2026, Tarde?"), reply


async def test_a_customer_typed_brace_is_not_read_as_a_placeholder(chat: Chat, seeded: None) -> None:
    [start] = await chat("I want to book an appointment")
    assert start.endswith("Which day suits you?")
    assert await chat("tomorrow") == ["Morning or afternoon?\n1) Morning\n2) Afternoon"]
    # A choice answer is one of the choices, so only a known value can ever be put in the question.
    assert await chat("{period} morning") == ["Shall I book 24 November 2026, Morning?"]


async def test_the_case_shows_the_confirmation_as_the_customer_read_it(
    chat: Chat, seeded: None, client: httpx.AsyncClient, world: World
) -> None:
    # The operator's case lists each question as it was sent, not the script's "{day}, {period}" template.
    await chat("I want to book an appointment")
    await chat("tomorrow")
    assert await chat("afternoon") == ["Shall I book 24 November 2026, Afternoon?"]
    await chat("yes")
    bot = await bot_view(client, world, chat.conversation_id)
    fields = {f["key"]: f["question"] for f in bot["escalation"]["fields"]}
    assert fields["confirm"] == "Shall I book 24 November 2026, Afternoon?"
    assert fields["period"] == "Morning or afternoon?"
