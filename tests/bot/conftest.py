"""Bot test fixtures: a tiny keyword matcher (tests only), scripts made through the API, a bot channel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpline.bot.pipeline import BotFrontLine, install_front_line
from helpline.conversations.models import Message
from helpline.runtime import Runtime
from tests.conftest import World
from tests.conversations.conftest import Line, add_api_channel, say

TODAY = date(2026, 11, 23)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    ["i", "a", "an", "the", "to", "my", "me", "is", "it", "of", "for", "and", "please", "want", "need", "would", "like"]
)


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


class KeywordMatcher:
    """Confidence = the best share of an example's words found in the message; deterministic for tests."""

    method = "test-keywords"

    def __init__(self) -> None:
        self.examples: list[tuple[set[str], str]] = []

    def fit(self, examples: Sequence[tuple[str, str]]) -> None:
        self.examples = [(_terms(text), key) for text, key in examples if _terms(text)]

    def rank(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        words = _terms(text)
        best: dict[str, float] = {}
        for terms, key in self.examples:
            best[key] = max(best.get(key, 0.0), len(words & terms) / len(terms))
        return sorted(best.items(), key=lambda kv: -kv[1])[:k]

    def is_out_of_scope(self, text: str) -> bool:
        ranked = self.rank(text, 1)
        return not ranked or ranked[0][1] < 0.2


CLAIM = {
    "key": "claim",
    "name": "Insurance claim",
    "examples": ["file an insurance claim", "report car accident"],
    "languages": ["en"],
    "steps": [
        {
            "key": "policy",
            "question": "What is your policy number?",
            "type": "pattern",
            "pattern": r"POL-\d{4}",
            "retry_message": "Policy numbers look like POL-1234.",
            "max_attempts": 2,
        },
        {"key": "date", "question": "When did it happen?", "type": "date"},
        {"key": "phone", "question": "Which phone number can we call?", "type": "phone", "region": "BR"},
    ],
    "closing_message": "Thank you, your claim is registered.",
    "end": "case",
}
ORDER = {
    "key": "order",
    "name": "Order status",
    "examples": ["where is my order", "order status tracking"],
    "steps": [{"key": "order_no", "question": "What is your order number?", "type": "number"}],
    "closing_message": "Your order is on its way.",
}
BOOKING = {
    "key": "booking",
    "name": "Appointment booking",
    "examples": ["book an appointment", "schedule a visit"],
    "steps": [
        {"key": "slot", "question": "Which time suits you?", "type": "choice", "choices": ["Morning", "Afternoon"]},
        {"key": "confirm", "question": "Shall I confirm?", "type": "yes_no"},
    ],
    "closing_message": "Booked.",
}


async def create_script(client: httpx.AsyncClient, world: World, definition: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/scripts", json=definition, headers=world.admin.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def bot_messages(runtime: Runtime, conversation_id: int) -> list[Message]:
    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == "outbound",
                # Timeline events (took over, escalated…) are for operators, not replies to the customer.
                Message.content_type != "event",
            )
            .order_by(Message.id)
        )
        return list(rows.scalars())


class Chat:
    """One customer on the bot line: `await chat("text")` posts, runs the workers, returns new bot texts."""

    def __init__(self, client: httpx.AsyncClient, runtime: Runtime, line: Line, contact_id: str = "cust") -> None:
        self.client, self.runtime, self.line, self.contact_id = client, runtime, line, contact_id
        self.conversation_id = 0
        self._count = 0
        self._seen = 0

    async def send(self, text: str) -> int:
        self._count += 1
        self.conversation_id = await say(
            self.client,
            self.runtime,
            self.line,
            contact_id=self.contact_id,
            text=text,
            message_id=f"{self.contact_id}-{self._count}",
        )
        return self.conversation_id

    async def new_replies(self) -> list[Message]:
        messages = await bot_messages(self.runtime, self.conversation_id)
        fresh = messages[self._seen :]
        self._seen = len(messages)
        return fresh

    async def __call__(self, text: str) -> list[str]:
        from tests.conftest import drain

        await self.send(text)
        await drain(self.runtime)
        return [m.text or "" for m in await self.new_replies()]


@pytest.fixture
def front_line(runtime: Runtime) -> BotFrontLine:
    bot = BotFrontLine(runtime, matcher_factory=KeywordMatcher, today=TODAY)
    install_front_line(runtime, bot)
    return bot


@pytest.fixture
async def bot_line(client: httpx.AsyncClient, world: World, front_line: BotFrontLine) -> Line:
    return await add_api_channel(client, world.admin, name="Bot line", member_ids=[world.agent.id], bot=True)


@pytest.fixture
async def scripts(client: httpx.AsyncClient, world: World) -> dict[str, dict[str, Any]]:
    return {d["key"]: await create_script(client, world, d) for d in (CLAIM, ORDER, BOOKING)}


@pytest.fixture
def chat(client: httpx.AsyncClient, runtime: Runtime, bot_line: Line) -> Chat:
    return Chat(client, runtime, bot_line)


@pytest.fixture
async def seeded(runtime: Runtime, front_line: BotFrontLine) -> None:
    """The shipped scripts and articles (bot/seeds), with the bot front line installed."""
    from helpline.bot.seeds import load_seeds

    async with runtime.db.transaction() as session:
        await load_seeds(session, box=runtime.box)


async def bot_view(client: httpx.AsyncClient, world: World, conversation_id: int) -> dict[str, Any]:
    """The operator's Bot panel data (`GET /conversations/{id}/bot`), as an agent sees it."""
    response = await client.get(f"/api/v1/conversations/{conversation_id}/bot", headers=world.agent.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
