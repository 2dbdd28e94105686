"""The demo's simulated customers against the real bot and the seeded scripts: most conversations complete."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import select

from helpline.bot.seeds import load_seeds
from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.conversations.models import Conversation
from helpline.runtime import Runtime
from helpline.sandbox.scenarios import FLOWS, CustomerPool, SimulatedCustomer, conversation
from helpline.sandbox.simulator import ApiChannelSimulator
from tests.conftest import drain

CUSTOMERS = 40


def outcome(state: dict[str, Any]) -> str:
    escalation = state.get("escalation") or {}
    if escalation.get("reason") == "case":
        return "case"  # the script completed and handed its answers to a person, as it is meant to
    if escalation:
        return "escalated"
    if state.get("completed"):
        return "completed"
    if state.get("mode") == "script":
        return "in_script"
    return "answered"  # an article or a fallback, no script running


async def test_simulated_customers_follow_the_seeded_scripts(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        await load_seeds(session, box=runtime.box)
        channel, reveal = await create_channel(
            session,
            ChannelCreate(kind="api", name="Demo line", settings={"bot_enabled": True}),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
    # The workers are drained after each message, so nobody needs to wait for an answer here.
    pool = CustomerPool(rng=random.Random(7), max_active=3, min_gap=0)
    simulator = ApiChannelSimulator(
        inbound_url=f"/api/v1/channels/{channel.id}/inbound", secret=reveal["secret"], http=client, pool=pool
    )
    plans: Counter[str] = Counter()
    messages = 0
    while pool.started < CUSTOMERS or pool.active:
        if pool.started >= CUSTOMERS:
            pool.max_active = 0  # no newcomers: let the ones talking finish
        response = await simulator.send_one()
        assert response is not None and response.status_code == 200, response
        messages += 1
        await drain(runtime)
    plans.update(plan for plan in pool.plans)

    async with runtime.db.sessions() as session:
        rows = (await session.execute(select(Conversation).order_by(Conversation.id))).scalars().all()
    assert len(rows) == CUSTOMERS
    outcomes = Counter(outcome(c.bot_state or {}) for c in rows)
    print(f"{messages} messages; plans {dict(plans)} → outcomes {dict(outcomes)}")
    # Those who follow a script (straight, or after one correction) finish it; those who ask for a person get
    # one; questions are answered by the opening-hours script or an article.
    finished = outcomes["completed"] + outcomes["case"]
    assert finished >= plans["complete"] + plans["correct"]
    assert outcomes["escalated"] == plans["person"]
    assert finished >= 0.6 * CUSTOMERS and outcomes["in_script"] == 0


def test_every_flow_step_answer_is_accepted_and_every_wrong_one_refused() -> None:
    # Checked against the seeded step definitions with the bot's own extraction.
    from datetime import date

    from helpline.bot.extract import extract
    from helpline.bot.schemas import ScriptDefinition
    from helpline.bot.scripts import parse_definitions
    from helpline.bot.seeds import seed_documents

    scripts: dict[str, ScriptDefinition] = {
        d.key: d for document in seed_documents() for d in parse_definitions(document)
    }
    for language, flows in FLOWS.items():
        for key, (_openers, answers, wrong) in flows.items():
            steps = scripts[key].steps
            assert len(answers) == len(wrong) == len(steps), key
            for step, accepted, refused in zip(steps, answers, wrong, strict=True):
                for text in accepted:
                    assert extract(step, text, region="US", today=date(2026, 7, 1)) is not None, (key, text)
                if refused is not None:
                    assert extract(step, refused, region="US", today=date(2026, 7, 1)) is None, (key, refused)
        assert language in ("en", "pt", "es")
    rng = random.Random(3)
    for language in ("en", "pt", "es"):
        kinds = Counter(conversation(rng, language)[0] for _ in range(2000))
        assert 0.57 < kinds["complete"] / 2000 < 0.67 and 0.05 < kinds["person"] / 2000 < 0.11, language
    # Spanish customers follow their scripts too, not only ask for a person.
    assert set(FLOWS["es"]) == {"insurance-claim-es", "order-status-es", "appointment-es", "cancellation-es"}


def test_a_customer_waits_before_writing_again() -> None:
    now = [10.0]
    pool = CustomerPool(rng=random.Random(1), max_active=1, min_gap=3.0, clock=lambda: now[0])
    ana = SimulatedCustomer("k", "Ana Souza", "pt", "complete", "order-status-pt", ["Onde está meu pedido?", "48213"])
    pool.active.append(ana)
    assert pool.next_message() == (ana, "Onde está meu pedido?")
    assert pool.next_message() is None  # Ana waits for the bot; no room for anyone else
    now[0] = 13.0
    assert pool.next_message() == (ana, "48213")
    assert pool.active == []
