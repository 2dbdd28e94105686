"""What real customers do inside a script, in English and Portuguese, with the shipped scripts (bot/seeds):
the answer to a later question given first, a correction of an earlier answer ("no, it was Tuesday"),
"I don't know" to a required step, a "no" to a confirmation that must stop the script, a language switch,
emoji-only messages, and a message while the end-action webhook is failing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from helpline.app import create_app
from helpline.bot.models import ScriptRun
from helpline.bot.pipeline import END_ACTION_TOPIC, BotFrontLine, install_front_line
from helpline.conversations.models import Conversation
from helpline.platform.clock import utcnow
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.bot.conftest import ORDER, TODAY, Chat, KeywordMatcher, bot_view, create_script
from tests.conftest import World, drain, make_settings, make_world
from tests.conversations.conftest import add_api_channel


async def _runs(runtime: Runtime, conversation_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(ScriptRun).where(ScriptRun.conversation_id == conversation_id).order_by(ScriptRun.id)
        )
        return [(r.script_key, r.status, r.answers) for r in rows.scalars()]


# ------------------------------------------------------------------ an answer before its question


async def test_an_answer_given_before_its_question_is_noted_and_not_asked_again(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("I had a car accident and want to file a claim")
    assert start.endswith("What is your policy number? (it looks like POL-123456)")
    # The date, while the policy number is asked: kept, said back, the pending question again — no retry.
    assert await chat("it happened yesterday") == [
        'Noted: 22 November 2026 for "When did it happen?".\nWhat is your policy number? (it looks like POL-123456)'
    ]
    # The policy number now; the date noted before is not asked.
    assert await chat("POL-771203") == ["In a few words, what happened?"]
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["answers"] == {"policy_number": "POL-771203", "incident_date": "2026-11-22"}


async def test_uma_resposta_dada_antes_da_pergunta_e_anotada(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("Bateram no meu carro, quero abrir um sinistro")
    assert start.endswith("Qual é o número da sua apólice? (algo como POL-123456)")
    assert await chat("foi anteontem") == [
        'Anotado: 21/11/2026 para "Quando aconteceu?".\nQual é o número da sua apólice? (algo como POL-123456)'
    ]
    # Two values in one message after that: nothing left to ask but the description.
    assert await chat("pol 771203, me liga no (11) 98765-4321") == ["Em poucas palavras, o que aconteceu?"]
    assert await chat("Um carro bateu na minha traseira") == [
        "Obrigado. Seu sinistro foi registrado e nossa equipe vai ligar em até um dia útil."
    ]
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["runs"][0]["answers"] == {
        "policy_number": "POL-771203",
        "incident_date": "2026-11-21",
        "phone": "+5511987654321",
        "description": "Um carro bateu na minha traseira",
    }
    assert bot["escalation"]["reason"] == "case"


# ------------------------------------------------------------------ corrections


async def test_a_correction_replaces_the_earlier_answer_and_is_not_taken_as_the_next_one(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("I had a car accident yesterday, my policy is POL-771203")
    assert start.endswith("In a few words, what happened?")
    # Not the description: the date said before is corrected (Tuesday before Monday 23 November: the 17th).
    assert await chat("no, it was Tuesday") == [
        'I changed "When did it happen?" to 17 November 2026.\nIn a few words, what happened?'
    ]
    assert await chat("A van hit my car at a roundabout") == ["Which phone number can our claims team call you on?"]
    assert await chat("sorry, the policy is POL-771204") == [
        'I changed "What is your policy number? (it looks like POL-123456)" to POL-771204.\n'
        "Which phone number can our claims team call you on?"
    ]
    assert (await chat("+1 212 736 5000"))[0].startswith("Thank you. Your claim is registered")
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["runs"][0]["answers"] == {
        "policy_number": "POL-771204",
        "incident_date": "2026-11-17",
        "description": "A van hit my car at a roundabout",
        "phone": "+12127365000",
    }
    assert [(f["key"], f["value"]) for f in bot["escalation"]["fields"]][:2] == [
        ("policy_number", "POL-771204"),
        ("incident_date", "2026-11-17"),
    ]


async def test_uma_correcao_troca_a_resposta_anterior(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("Bateram no meu carro ontem, apólice POL-771203")
    assert start.endswith("Em poucas palavras, o que aconteceu?")
    assert await chat("não, foi na terça") == [
        'Corrigi "Quando aconteceu?" para 17/11/2026.\nEm poucas palavras, o que aconteceu?'
    ]
    # The reply to a confirmation may be the corrected value itself ("não, foi dia 20").
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["answers"] == {"policy_number": "POL-771203", "incident_date": "2026-11-17"}


async def test_a_confirmation_answered_with_another_value_takes_that_value(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("Tive um acidente de carro no dia 05/06, apólice POL-334455")
    assert start.endswith('Entendi 05/06/2026 para "Quando aconteceu?" — está certo? (sim ou não)')
    assert await chat("não, foi dia 20") == ["Em poucas palavras, o que aconteceu?"]
    assert (await bot_view(client, world, chat.conversation_id))["answers"]["incident_date"] == "2026-11-20"


# ------------------------------------------------------------------ "I don't know"


async def test_i_dont_know_gets_the_offer_of_a_person_and_hands_over_at_the_step_limit(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, seeded: None
) -> None:
    await chat("I had a car accident and want to file a claim")
    offer = (
        "No problem. I need it to go on here; if you don't have it to hand, just ask for a person and our team "
        "will help.\nWhat is your policy number? (it looks like POL-123456)"
    )
    assert await chat("I don't know") == [offer]
    assert await chat("no idea, sorry") == [offer]
    [handed] = await chat("I don't know")
    assert handed.startswith("I am passing you to a member of our team")
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["handler"] == "human" and bot["escalation"]["reason"] == "failed_answers"
    assert bot["escalation"]["params"]["step"] == "policy_number"


async def test_nao_sei_oferece_uma_pessoa_e_nao_e_um_nao(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    await chat("quero cancelar minha apólice POL-334455")
    await chat("muito caro")
    # "não sei" holds "não", but it is no "no": the confirmation is asked again with the offer of a person.
    [reply] = await chat("não sei")
    assert reply.startswith("Sem problema. Preciso dessa informação") and reply.endswith(
        "Confirma o cancelamento (sim ou não)?"
    )
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["mode"] == "script" and "confirm" not in bot["answers"]


# ------------------------------------------------------------------ "no" to a confirmation


async def test_no_to_the_cancellation_stops_it_without_a_case(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, seeded: None
) -> None:
    await chat("I want to cancel my policy POL-334455")
    await chat("I found a cheaper offer")
    assert await chat("no") == ["Alright, I have not cancelled anything; your policy stays as it is."]
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["handler"] == "bot" and bot["escalation"] is None
    assert [(r["status"], r["end_status"]) for r in bot["runs"]] == [("stopped", None)]
    # The bot goes on: a greeting gets the menu.
    assert (await chat("hi"))[0].startswith("Hello!")


async def test_nao_ao_agendamento_nao_promete_nada(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, seeded: None
) -> None:
    await chat("quero marcar um horário")
    await chat("próxima sexta de manhã")
    assert await chat("não") == ["Sem problema, não agendei nada. Escreva quando quiser marcar uma visita."]
    conversation_id = chat.conversation_id
    assert [(key, status) for key, status, _ in await _runs(runtime, conversation_id)] == [
        ("appointment-pt", "stopped")
    ]
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.handler == "bot"


async def test_a_stop_message_may_not_promise_anything(client: httpx.AsyncClient, world: World) -> None:
    confirm = {"key": "ok", "question": "Shall I cancel it?", "type": "yes_no"}
    promising = {**ORDER, "key": "stop", "steps": [{**confirm, "stop_if_no": "Fine, our team will call you."}]}
    refused = await client.post("/api/v1/scripts", json=promising, headers=world.admin.headers)
    assert refused.status_code == 422 and "our team" in refused.json()["error"]["message"]
    not_yes_no = {**ORDER, "key": "stop2", "steps": [{**confirm, "type": "text", "stop_if_no": "Fine."}]}
    assert (await client.post("/api/v1/scripts", json=not_yes_no, headers=world.admin.headers)).status_code == 422


# ------------------------------------------------------------------ language switch, emoji


async def test_a_language_switch_mid_script_keeps_the_answers(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    await chat("I had a car accident and want to file a claim")
    assert await chat("POL-771203") == ["When did it happen?"]
    # Portuguese answers to the English script are read; the script keeps its own language.
    assert await chat("foi anteontem") == ["In a few words, what happened?"]
    assert await chat("bateram no meu carro no estacionamento") == [
        "Which phone number can our claims team call you on?"
    ]
    # A request for a person in Portuguese is answered in Portuguese, with the answers handed over.
    [handed] = await chat("quero falar com uma pessoa")
    assert handed.startswith("Vou transferir você")
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["handler"] == "human" and bot["escalation"]["reason"] == "customer_request"
    assert {f["key"]: f["value"] for f in bot["escalation"]["fields"]} == {
        "policy_number": "POL-771203",
        "incident_date": "2026-11-21",
        "description": "bateram no meu carro no estacionamento",
    }


async def test_emoji_only_messages_are_never_unclear(
    chat: Chat, runtime: Runtime, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    assert (await chat("👋"))[0].startswith("Hello! I am the virtual assistant.")
    assert await chat("👍") == ["You're welcome! Is there anything else I can help with?"]
    assert await chat("😡") == ["How can I help you today?"]
    assert await chat("🚗💥") == ["How can I help you today?"]
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["handler"] == "bot" and bot["escalation"] is None
    # In a script: an emoji is no description, a thumbs up is a yes.
    await chat("I want to cancel my policy POL-334455")
    assert await chat("😢") == ["May I ask why you are leaving?"]
    assert await chat("moving abroad") == ["Please confirm you want to cancel it (yes or no)."]
    assert (await chat("👍"))[0].startswith("Your cancellation request is registered")


async def test_emoji_em_portugues(chat: Chat, client: httpx.AsyncClient, world: World, seeded: None) -> None:
    await chat("Olá")
    assert await chat("🙏") == ["Por nada! Posso ajudar em mais alguma coisa?"]
    assert await chat("🤔") == ["Como posso ajudar hoje?"]
    assert (await bot_view(client, world, chat.conversation_id))["handler"] == "bot"


# ------------------------------------------------------------------ the end action failing


@pytest.fixture
async def failing_app(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[FastAPI, list[httpx.Request]]]:
    """The app whose end-action receiver is down (503 to every call) and whose retries wait an hour, so the
    customer can write between them; the test makes each retry due by hand."""
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(503)

    settings: Settings = make_settings(
        tmp_path, db_url, outbox_backoff_base_seconds=3600.0, outbox_backoff_max_seconds=3600.0
    )
    application = create_app(settings, migrate=False, http=httpx.AsyncClient(transport=httpx.MockTransport(handle)))
    async with application.router.lifespan_context(application):
        yield application, received


async def test_a_message_while_the_end_action_is_failing_is_answered(
    failing_app: tuple[FastAPI, list[httpx.Request]],
) -> None:
    application, received = failing_app
    runtime: Runtime = application.state.runtime
    install_front_line(runtime, BotFrontLine(runtime, matcher_factory=KeywordMatcher, today=TODAY))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as c:
        world = await make_world(runtime, c)
        await create_script(c, world, {**ORDER, "end_action": {"url": "http://crm.example/hooks/orders"}})
        line = await add_api_channel(c, world.admin, name="Bot line", member_ids=[world.agent.id], bot=True)
        chat = Chat(c, runtime, line)
        await chat("where is my order")
        assert await chat("12345") == ["Your order is on its way."]
        assert len(received) == 1  # failed once; the retry waits
        api = f"/api/v1/conversations/{chat.conversation_id}/bot"
        # The customer writes while the company's system is down: answered, nothing lost, the run still pending.
        assert await chat("thank you!") == ["You're welcome! Is there anything else I can help with?"]
        assert await chat("where is my order") == ["I can help you with Order status.\nWhat is your order number?"]
        bot = (await c.get(api, headers=world.agent.headers)).json()
        assert bot["handler"] == "bot" and [r["end_status"] for r in bot["runs"]] == [None, None]
        # The last retry fails too: a person takes over with the answers of the run that was not delivered.
        for _ in range(5):
            async with runtime.db.transaction() as session:
                await session.execute(
                    update(OutboxRow).where(OutboxRow.topic == END_ACTION_TOPIC).values(available_at=utcnow())
                )
            await drain(runtime)
            if len(received) >= 3:
                break
        bot = (await c.get(api, headers=world.agent.headers)).json()
    assert len(received) == 3
    assert all(json.loads(r.content)["answers"] == {"order_no": 12345} for r in received)
    assert bot["handler"] == "human" and bot["escalation"]["reason"] == "end_action_failed"
    assert bot["escalation"]["detail"] == "HTTP 503"
    assert bot["escalation"]["fields"] == [
        {"key": "order_no", "question": "What is your order number?", "value": 12345}
    ]
    assert [(r["status"], r["end_status"]) for r in bot["runs"]] == [("completed", "failed"), ("escalated", None)]
