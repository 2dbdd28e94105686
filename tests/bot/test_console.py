"""The try-it console: the bot's real decision for a message, on saved scripts or an unsaved draft, step by step."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from helpline.bot.pipeline import BotFrontLine
from helpline.runtime import Runtime
from tests.bot.conftest import BOOKING, CLAIM, Chat
from tests.bot.test_matching import ARTICLE
from tests.conftest import World

TRY = "/api/v1/bot/try"


@pytest.fixture(autouse=True)
def _keyword_matcher(front_line: BotFrontLine) -> BotFrontLine:
    """The console uses the runtime's front line: here the deterministic test matcher, as the pipeline does."""
    return front_line


async def try_it(client: httpx.AsyncClient, world: World, **body: Any) -> dict[str, Any]:
    response = await client.post(TRY, json=body, headers=world.supervisor.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_matched_script_starts_and_steps_through_its_questions(
    client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    first = await try_it(client, world, message="file an insurance claim")
    assert first["action"] == "start_script"
    assert first["match"] == {
        "script_id": scripts["claim"]["id"],
        "script_key": "claim",
        "script_name": "Insurance claim",
        "confidence": 1.0,
        "method": "test-keywords",
        "draft": False,
    }
    assert {a["script_key"] for a in first["alternatives"]} == {"order", "booking"}
    assert first["reply"] == {
        "kind": "question",
        "text": "I can help you with Insurance claim.\nWhat is your policy number?",
        "quick_replies": [],
    }
    assert first["progress"]["steps_done"] == 0 and first["progress"]["steps_total"] == 3
    assert (first["state"]["mode"], first["state"]["step"]) == ("script", 0)

    wrong = await try_it(client, world, message="I lost it", state=first["state"])
    assert wrong["action"] == "retry_step"
    assert wrong["match"]["method"] == "running" and wrong["match"]["script_key"] == "claim"
    assert wrong["reply"]["text"] == "Policy numbers look like POL-1234.\nWhat is your policy number?"

    second = await try_it(client, world, message="it is POL-1234", state=wrong["state"])
    assert second["action"] == "next_step"
    assert second["answers"] == {"policy": "POL-1234"}
    assert second["reply"]["text"] == "When did it happen?"
    assert second["alternatives"] == [] and second["out_of_scope"] is None  # no matching while a script runs

    # An answer to a later step given early is noted; a correction replaces an earlier answer (tests/bot/
    # test_dialogue_edges.py has the dialogues): the console says so as the pipeline would.
    noted = await try_it(client, world, message="my number is +55 11 98765-4321", state=second["state"])
    assert noted["action"] == "next_step" and noted["answers"]["phone"] == "+5511987654321"
    assert noted["reply"]["text"].startswith('Noted: +5511987654321 for "Which phone number can we call?".')
    changed = await try_it(client, world, message="sorry, it is POL-4321", state=noted["state"])
    assert changed["action"] == "next_step" and changed["answers"]["policy"] == "POL-4321"
    assert changed["reply"]["text"] == 'I changed "What is your policy number?" to POL-4321.\nWhen did it happen?'


async def test_the_console_says_what_the_pipeline_sends(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    state: dict[str, Any] | None = None
    for message in ("book an appointment", "3", "Afternoon", "yes"):
        console = await try_it(client, world, message=message, **({"state": state} if state else {}))
        state = console["state"]
        sent = await chat(message)
        assert [r["text"] for r in console["replies"]] == sent, message
    assert console["action"] == "complete_script" and console["answers"] == {"slot": "Afternoon", "confirm": True}


async def test_choice_steps_offer_their_choices_and_nothing_is_stored(
    client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    result = await try_it(client, world, message="book an appointment")
    assert result["reply"]["quick_replies"] == ["Morning", "Afternoon"]
    assert result["reply"]["text"].endswith("Which time suits you?\n1) Morning\n2) Afternoon")
    listed = (await client.get("/api/v1/conversations", headers=world.supervisor.headers)).json()
    assert listed["items"] == []


async def test_an_unsaved_draft_is_matched_and_stepped_through(
    client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    draft = {
        "key": "refund",
        "name": "Refund request",
        "examples": ["refund my money", "give me my money back"],
        "steps": [{"key": "reason", "question": "Why do you want a refund?", "type": "choice",
                   "choices": ["Damaged", "Late", "Other"]}],
        "closing_message": "We will refund you.",
    }  # fmt: skip
    first = await try_it(client, world, message="please refund my money", script=draft)
    assert first["match"]["script_key"] == "refund" and first["match"]["draft"] is True
    assert first["match"]["script_id"] is None and first["state"]["script"]["version"] == 0
    assert first["reply"]["quick_replies"] == ["Damaged", "Late", "Other"]
    done = await try_it(client, world, message="2", script=draft, state=first["state"])
    assert done["action"] == "complete_script" and done["answers"] == {"reason": "Late"}
    assert done["reply"]["text"] == "We will refund you."
    missing = await client.post(TRY, json={"message": "2", "state": first["state"]}, headers=world.supervisor.headers)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "draft_missing"
    saved = (await client.get("/api/v1/scripts", headers=world.supervisor.headers)).json()
    assert "refund" not in {s["key"] for s in saved}


async def test_a_draft_replaces_its_saved_version_or_stands_alone(
    client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    edited = {**CLAIM, "steps": [{"key": "plate", "question": "What is the car's plate?", "type": "text"}]}
    result = await try_it(client, world, message="file an insurance claim", script=edited)
    assert result["match"]["script_id"] == scripts["claim"]["id"] and result["match"]["draft"] is True
    assert result["reply"]["text"].endswith("What is the car's plate?")
    alone = await try_it(client, world, message="where is my order", script=BOOKING, script_only=True)
    # Only the draft is known: the saved order script is not even a candidate.
    assert alone["match"] is None and alone["action"] == "fallback"
    assert alone["alternatives"] == [{"script_key": "booking", "script_name": "Appointment booking", "confidence": 0.0}]
    with_saved = await try_it(client, world, message="where is my order", script=BOOKING)
    assert with_saved["match"]["script_key"] == "order" and with_saved["match"]["draft"] is False


async def test_a_request_for_a_person_escalates_with_the_notice(
    client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    result = await try_it(client, world, message="Quero falar com um atendente, por favor")
    assert result["action"] == "escalate"
    assert result["escalation"]["reason"] == "customer_request"
    assert result["replies"][-1]["kind"] == "handoff" and "equipe" in result["reply"]["text"]
    assert result["state"]["mode"] == "paused"


async def test_an_article_answer_and_a_fallback(
    client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    article = (await client.post("/api/v1/articles", json=ARTICLE, headers=world.admin.headers)).json()
    answered = await try_it(client, world, message="what are your opening hours?", language="en")
    assert answered["action"] == "article"
    assert answered["article"]["id"] == article["id"] and answered["article"]["title"] == ARTICLE["title"]
    assert answered["reply"]["text"] == f"{ARTICLE['title']}\n{ARTICLE['answer']}"
    unclear = await try_it(client, world, message="xyzzy plugh", language="en")
    assert unclear["action"] == "fallback" and unclear["match"] is None and unclear["article"] is None


async def test_channel_limits_apply_to_the_replies(client: httpx.AsyncClient, world: World) -> None:
    draft = {**CLAIM, "steps": [{"key": "story", "question": "Tell me everything. " * 60, "type": "text"}]}
    fits = await try_it(client, world, message="file an insurance claim", script=draft, channel_kind="whatsapp")
    assert fits["action"] == "start_script"
    refused = await try_it(client, world, message="file an insurance claim", script=draft, channel_kind="instagram")
    assert refused["action"] == "escalate" and refused["escalation"]["reason"] == "technical_error"
    assert refused["escalation"]["detail"].startswith("Instagram accepts at most 999 characters")
    assert [r["kind"] for r in refused["replies"]] == ["handoff"]


async def test_bad_requests_and_permissions(client: httpx.AsyncClient, world: World) -> None:
    agent = await client.post(TRY, json={"message": "hi"}, headers=world.agent.headers)
    assert agent.status_code == 403
    unknown = await client.post(TRY, json={"message": "hi", "channel_kind": "fax"}, headers=world.supervisor.headers)
    assert unknown.status_code == 422 and "unknown channel kind" in unknown.json()["error"]["message"]
    bad_state = await client.post(
        TRY, json={"message": "hi", "state": {"mode": "script", "step": "x"}}, headers=world.supervisor.headers
    )
    assert bad_state.status_code == 422
    gone = await client.post(
        TRY,
        json={
            "message": "hi",
            "state": {"mode": "script", "script": {"id": 99, "key": "k", "name": "n", "version": 3}},
        },
        headers=world.supervisor.headers,
    )
    assert gone.status_code == 422 and "does not exist" in gone.json()["error"]["message"]
    empty = await client.post(TRY, json={"message": ""}, headers=world.supervisor.headers)
    assert empty.status_code == 422


async def test_small_talk_offers_the_scripts_and_a_pick_starts_one(
    client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    hello = await try_it(client, world, message="Good morning!")
    assert hello["action"] == "small_talk" and hello["escalation"] is None
    assert hello["reply"]["kind"] == "small_talk"
    assert hello["reply"]["quick_replies"] == ["Insurance claim", "Order status", "Appointment booking"]
    picked = await try_it(client, world, message="the first one", state=hello["state"])
    assert picked["action"] == "start_script" and picked["match"]["script_key"] == "claim"
    # The opening words fill what they already hold: the date is not asked.
    filled = await try_it(client, world, message="I need to file an insurance claim, it was yesterday, POL-4321")
    assert filled["answers"] == {"policy": "POL-4321", "date": "2026-11-22"}
    assert filled["reply"]["text"] == "I can help you with Insurance claim.\nWhich phone number can we call?"
