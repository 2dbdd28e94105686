"""Real dialogues with the scripts as they ship (bot/seeds), in English and Portuguese: small talk, slot
filling from what the customer already said, confirmations, retries with an example, and scripts that end
in a case for a person with the answers kept per run."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from helpline.bot.models import ScriptRun
from helpline.bot.pipeline import BotFrontLine
from helpline.conversations.models import Conversation
from helpline.runtime import Runtime
from tests.bot.conftest import TODAY, Chat, bot_messages, bot_view
from tests.conftest import World


async def _conversation(runtime: Runtime, conversation_id: int) -> Conversation:
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation


async def test_english_greetings_offer_the_scripts_and_never_escalate(
    chat: Chat, runtime: Runtime, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [hello] = await chat("Hi")
    assert hello.startswith("Hello! I am the virtual assistant. I can help you with:\n1) Insurance claim\n")
    assert "Abertura de sinistro" not in hello  # the menu is in the customer's language
    [message] = (await bot_messages(runtime, chat.conversation_id))[-1:]
    assert message.content["quick_replies"][:2] == ["Insurance claim", "Order status"]
    # Two greetings and a "hello?" in a row: answered, not unclear, not handed over.
    assert (await chat("hello"))[0].startswith("Hello!")
    assert (await chat("hello?"))[0].startswith("Yes, I am here!")
    [bot] = await chat("are you a bot?")
    assert "virtual assistant (a bot)" in bot
    assert (await _conversation(runtime, chat.conversation_id)).handler == "bot"
    state = (await _conversation(runtime, chat.conversation_id)).bot_state
    assert state.get("low_confidence", 0) == 0
    # Picking from the menu by number starts that script.
    [start] = await chat("1")
    assert start == "I can help you with Insurance claim.\nWhat is your policy number? (it looks like POL-123456)"
    # Thanks mid-script: no "anything else?" over the pending question.
    assert await chat("thank you!") == ["You're welcome!\nWhat is your policy number? (it looks like POL-123456)"]


async def test_english_claim_takes_what_the_opening_message_said_and_creates_a_case(
    chat: Chat, runtime: Runtime, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("I had a car accident yesterday, my policy is POL 771203")
    # Neither the policy number nor the date is asked again.
    assert start == "I can help you with Insurance claim.\nIn a few words, what happened?"
    assert await chat("Someone hit my car in the parking lot") == [
        "Which phone number can our claims team call you on?"
    ]
    # A wrong answer is re-asked with an example of a valid one.
    [retry] = await chat("call me anytime")
    assert retry.startswith("Sorry, I could not read that answer. For example: +1 ")
    [closing] = await chat("+1 212 736 5000")
    assert closing.startswith("Thank you. Your claim is registered")

    bot = await bot_view(client, world, chat.conversation_id)
    answers = {"policy_number": "POL-771203", "incident_date": "2026-11-22"}
    assert {k: bot["answers"][k] for k in answers} == answers
    # The case: with a person now, the answers structured at the top of the operator's view.
    assert bot["handler"] == "human" and bot["escalation"]["reason"] == "case"
    assert [f["key"] for f in bot["escalation"]["fields"]] == [
        "policy_number",
        "incident_date",
        "description",
        "phone",
    ]
    assert bot["escalation"]["script"]["key"] == "insurance-claim-en"
    [run] = bot["runs"]
    assert (run["status"], run["end"], run["answers"]["phone"]) == ("completed", "case", "+12127365000")
    # The customer was told by the closing message; no second "passing you to a person" notice.
    texts = [m.text for m in await bot_messages(runtime, chat.conversation_id)]
    assert not any(t and "passing you to a member" in t for t in texts)


async def test_portuguese_claim_reads_anteontem_and_confirms_an_unsure_date(
    chat: Chat, runtime: Runtime, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [hello] = await chat("Olá, bom dia")
    assert hello.startswith("Olá! Eu sou o assistente virtual. Posso ajudar com:\n1) Abertura de sinistro")
    [start] = await chat("Bateram no meu carro anteontem")
    assert start == "Posso ajudar com Abertura de sinistro.\nQual é o número da sua apólice? (algo como POL-123456)"
    # "pol 482913" (space, lower case) is read and written the company's way; "Quando aconteceu?" is not asked.
    assert await chat("minha apólice é pol 482913") == ["Em poucas palavras, o que aconteceu?"]
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["answers"] == {"policy_number": "POL-482913", "incident_date": "2026-11-21"}
    assert await chat("Um carro bateu na minha traseira no semáforo") == [
        "Em qual telefone nossa equipe de sinistros pode ligar para você?"
    ]
    [retry] = await chat("qualquer hora")
    assert retry.startswith("Desculpe, não consegui entender essa resposta. Por exemplo: +55 11 9")
    assert (await chat("Pode ligar no (11) 98765-4321"))[0].startswith("Obrigado. Seu sinistro foi registrado")


async def test_portuguese_unsure_values_are_confirmed_and_corrections_taken(
    chat: Chat, runtime: Runtime, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("Tive um acidente de carro no dia 05/06, apólice POL-334455")
    assert start == (
        'Posso ajudar com Abertura de sinistro.\nEntendi 05/06/2026 para "Quando aconteceu?" — está certo? (sim ou não)'
    )
    # "não" → the question itself; the correction is taken as the answer.
    assert await chat("não") == ["Quando aconteceu?"]
    assert await chat("foi dia 6 de maio") == ["Em poucas palavras, o que aconteceu?"]
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["answers"]["incident_date"] == "2026-05-06"


async def test_answers_are_kept_per_script_run(
    chat: Chat, runtime: Runtime, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    await chat("I want to cancel my policy POL-334455")
    await chat("I found a cheaper offer")
    await chat("yes")  # the cancellation is a case: a person has the conversation now
    api = f"/api/v1/conversations/{chat.conversation_id}"
    assert (await client.post(f"{api}/handback", headers=world.agent.headers)).status_code == 200
    [start] = await chat("my car was stolen last night, policy POL-771204")
    assert start.endswith("In a few words, what happened?")
    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(ScriptRun).where(ScriptRun.conversation_id == chat.conversation_id).order_by(ScriptRun.id)
        )
        runs = [(r.script_key, r.status, r.answers) for r in rows.scalars()]
    assert runs == [
        (
            "cancellation-en",
            "completed",
            {"policy_number": "POL-334455", "reason": "I found a cheaper offer", "confirm": True},
        ),
        ("insurance-claim-en", "running", {"policy_number": "POL-771204", "incident_date": "2026-11-22"}),
    ]


async def test_relative_dates_use_the_conversation_time_zone(runtime: Runtime) -> None:
    bot = BotFrontLine(runtime)
    late_evening_in_sao_paulo = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    assert bot.local_date(late_evening_in_sao_paulo, "America/Sao_Paulo") == TODAY
    assert bot.local_date(late_evening_in_sao_paulo, "Europe/Lisbon").isoformat() == "2026-11-24"
    assert bot.local_date(late_evening_in_sao_paulo, "Not/AZone").isoformat() == "2026-11-24"


async def test_an_off_topic_question_in_a_script_is_declined_and_the_step_asked_again(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("I had a car accident and want to file a claim")
    question = start.splitlines()[-1]
    assert "policy number" in question
    # Not an answer attempt: declined, the pending question again, no format hint, no failed answer counted.
    [declined] = await chat("do you sell tyres?")
    assert declined.startswith("Sorry, I can't help with that here.") and declined.endswith(question)
    [again] = await chat("Can I pay by card?")
    assert again.startswith("Sorry, I can't help with that here. If you would rather talk to a person, just ask.")
    [third] = await chat("what are your opening hours?")
    assert third.endswith(question)
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["mode"] == "script" and bot["escalation"] is None
    # The script goes on with a real answer.
    [next_question] = await chat("POL-482913")
    assert "policy" not in next_question.lower()
    assert (await bot_view(client, world, chat.conversation_id))["answers"]["policy_number"] == "POL-482913"


async def test_uma_pergunta_fora_do_assunto_no_roteiro_e_recusada_e_a_pergunta_repetida(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [start] = await chat("Bateram no meu carro anteontem")
    question = start.splitlines()[-1]
    assert question.startswith("Qual é o número da sua apólice?")
    [declined] = await chat("vocês vendem pneus?")
    assert declined.startswith("Desculpe, não consigo ajudar com isso por aqui.") and declined.endswith(question)
    [again] = await chat("Qual o horário de atendimento?")
    assert "Se preferir falar com uma pessoa, é só pedir." in again and again.endswith(question)
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["mode"] == "script" and bot["escalation"] is None
    assert await chat("minha apólice é pol 482913") == ["Em poucas palavras, o que aconteceu?"]


async def test_spanish_greeting_gets_the_menu_and_a_claim_starts_the_claim_script(
    chat: Chat, client: httpx.AsyncClient, world: World, seeded: None
) -> None:
    [hello] = await chat("Hola")
    assert hello.startswith("¡Hola! Soy el asistente virtual.") and "\n1) " in hello, hello
    [start] = await chat("Quiero reclamar, póliza AB-111222, me chocaron el lunes pasado")
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["mode"] == "script" and bot["escalation"] is None, (start, bot)
    # AB-111222 is not the company's policy format (POL-123456): asked for, in Spanish.
    assert "póliza" in start.splitlines()[-1], start
