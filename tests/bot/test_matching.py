"""Matching thresholds (start / clarify / fall back), knowledge answers, and the optional LLM's fallbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import httpx2
import pytest

from helpline.bot.llm import Llm
from helpline.bot.pipeline import BotFrontLine, install_front_line
from helpline.conversations.models import Conversation
from helpline.runtime import Runtime
from helpline.sandbox.llm import FakeLlmConfig, create_fake_llm
from tests.bot.conftest import TODAY, Chat, KeywordMatcher, bot_messages
from tests.conftest import World

ARTICLE = {
    "title": "What are your opening hours?",
    "answer": "We are open Monday to Friday from 9:00 to 18:00. On Saturdays we open from 9:00 to 13:00.",
    "tags": ["hours", "opening"],
    "language": "en",
}


async def _article(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    response = await client.post("/api/v1/articles", json=ARTICLE, headers=world.admin.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_high_confidence_starts_the_script(chat: Chat, scripts: dict[str, Any]) -> None:
    replies = await chat("where is my order?")
    assert replies == ["I can help you with Order status.\nWhat is your order number?"]


async def test_middle_confidence_asks_which_script(
    chat: Chat, client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    [question] = await chat("a question about insurance and tracking")
    assert "1) Insurance claim" in question and "2) Order status" in question
    bot = (await client.get(f"/api/v1/conversations/{chat.conversation_id}/bot", headers=world.agent.headers)).json()
    assert bot["mode"] == "clarifying"
    assert [c["key"] for c in bot["candidates"]][:2] == ["claim", "order"]
    assert all(0 < c["confidence"] < 1 for c in bot["candidates"][:2])
    assert await chat("the second one") == ["I can help you with Order status.\nWhat is your order number?"]


async def test_clarification_accepts_the_script_name(chat: Chat, scripts: dict[str, Any]) -> None:
    await chat("a question about insurance and tracking")
    [reply] = await chat("insurance claim")
    assert reply.endswith("What is your policy number?")


async def test_low_confidence_falls_back_then_escalates(chat: Chat, runtime: Runtime, scripts: dict[str, Any]) -> None:
    [fallback] = await chat("purple elephants dance")
    assert "other words" in fallback
    [notice] = await chat("blue green yellow")
    assert "team" in notice
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        assert conversation is not None
        assert conversation.handler == "human" and conversation.bot_state["escalation"]["reason"] == "low_confidence"
        assert conversation.bot_state["escalation"]["params"] == {"count": 2}


async def test_the_fallback_offers_a_person_and_a_short_answer_takes_it(
    chat: Chat, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    [fallback] = await chat("do you sell tyres for tractors?")
    assert fallback.startswith("Sorry, I can't help with that here.") and "ask for a person" in fallback
    [notice] = await chat("a person please")
    assert "team" in notice
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        assert conversation is not None
        assert conversation.handler == "human" and conversation.bot_state["escalation"]["reason"] != "low_confidence"


async def test_knowledge_answer_cites_its_article(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    article = await _article(client, world)
    [answer] = await chat("what time do you open on saturday? opening hours")
    assert answer == f"{ARTICLE['title']}\n{ARTICLE['answer']}"
    [message] = (await bot_messages(runtime, chat.conversation_id))[-1:]
    assert message.content["bot"] == {
        "kind": "article",
        "article": {
            "id": article["id"],
            "title": ARTICLE["title"],
            "score": message.content["bot"]["article"]["score"],
        },
        "grounded": False,
    }
    log = (
        await client.get(f"/api/v1/conversations/{chat.conversation_id}/bot/interactions", headers=world.agent.headers)
    ).json()
    assert any(i["kind"] == "article_used" and i["details"]["article"]["id"] == article["id"] for i in log)
    suggestions = (
        await client.get(f"/api/v1/conversations/{chat.conversation_id}/suggestions", headers=world.agent.headers)
    ).json()
    assert suggestions[0] == {"text": ARTICLE["answer"], "source": "article", "article_id": article["id"]}


# ---------------------------------------------------------------- with the sandbox's fake LLM


@pytest.fixture
def llm_config() -> FakeLlmConfig:
    return FakeLlmConfig()


@pytest.fixture
async def llm(llm_config: FakeLlmConfig) -> AsyncIterator[Llm]:
    transport = httpx2.ASGITransport(app=create_fake_llm(llm_config))
    client = Llm(
        base_url="http://fake-llm/v1",
        api_key="test",
        model="fake",
        timeout=0.5,
        http_client=httpx2.AsyncClient(transport=transport),
    )
    yield client
    await client.close()


@pytest.fixture
def llm_front_line(runtime: Runtime, front_line: BotFrontLine, llm: Llm) -> BotFrontLine:
    bot = BotFrontLine(runtime, matcher_factory=KeywordMatcher, llm=llm, today=TODAY)
    install_front_line(runtime, bot)
    return bot


async def test_llm_answers_grounded_in_the_article(
    llm_front_line: BotFrontLine, chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    await _article(client, world)
    [answer] = await chat("what are the opening hours on saturday?")
    assert answer.startswith("According to our help centre: We are open Monday to Friday")
    message = (await bot_messages(runtime, chat.conversation_id))[-1]
    assert message.content["bot"]["grounded"] is True


@pytest.mark.parametrize("failure", ["error", "timeout"])
async def test_llm_failure_falls_back_to_the_article(
    failure: str,
    llm_config: FakeLlmConfig,
    llm_front_line: BotFrontLine,
    chat: Chat,
    client: httpx.AsyncClient,
    world: World,
    runtime: Runtime,
) -> None:
    await _article(client, world)
    if failure == "error":
        llm_config.fail_status = 503
    else:
        llm_config.latency_seconds = 2.0  # the client's deadline is 0.5 s
    [answer] = await chat("what are the opening hours on saturday?")
    assert answer == f"{ARTICLE['title']}\n{ARTICLE['answer']}"
    log = (
        await client.get(f"/api/v1/conversations/{chat.conversation_id}/bot/interactions", headers=world.agent.headers)
    ).json()
    assert any(i["kind"] == "llm_error" for i in log)


async def test_llm_failure_on_escalation_keeps_the_rule_summary(
    llm_config: FakeLlmConfig, llm_front_line: BotFrontLine, chat: Chat, runtime: Runtime
) -> None:
    llm_config.fail_status = 500
    assert len(await chat("let me talk to a real person")) == 1
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        assert conversation is not None
        assert "Reason: customer_request" in conversation.bot_state["escalation"]["summary"]


async def test_llm_refuses_what_the_articles_do_not_cover(
    llm_front_line: BotFrontLine, chat: Chat, client: httpx.AsyncClient, world: World
) -> None:
    await _article(client, world)
    [reply] = await chat("opening of a new bank account")  # shares letters with the article, not meaning
    assert "other words" in reply


async def test_llm_extracts_what_rules_cannot(
    llm_front_line: BotFrontLine, chat: Chat, client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    await chat("where is my order")
    assert await chat("it is order number seven") == ["Your order is on its way."]
    bot = (await client.get(f"/api/v1/conversations/{chat.conversation_id}/bot", headers=world.agent.headers)).json()
    assert bot["answers"] == {"order_no": 7}


async def test_llm_summary_and_suggestions(
    llm_front_line: BotFrontLine, chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    await chat("I want to speak to a human")
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        assert conversation is not None
        assert conversation.bot_state["escalation"]["summary"].startswith("The customer wrote")
    suggestions = (
        await client.get(f"/api/v1/conversations/{chat.conversation_id}/suggestions", headers=world.agent.headers)
    ).json()
    assert [s["source"] for s in suggestions] == ["llm", "llm"]
