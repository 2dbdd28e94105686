"""Property tests of the Meta webhook: any text, any JSON in an event → never a 5xx, never a lost sibling.

Hypothesis drives the real app (signed webhooks through the ASGI client) on SQLite and PostgreSQL. Its
examples run in a worker thread that hands each request to the test's event loop, where the app lives.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpline.conversations.models import EarlyChange, Message
from helpline.platform.outbox import OutboxRow
from helpline.platform.sanitize import clean_inbound_text
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.channels.meta_support import fixture, fresh, meta_settings, meta_world, post_webhook, wa_text

EXAMPLES = 25
_ids = itertools.count()

# Text as clients really break it: ordinary text with lone surrogates and NUL mixed in.
BAD_CHARACTERS = st.sampled_from(["\ud83d", "\ude00", "\udfff\ud800", "\x00", "\ufffd", "😀", "\u202e"])
ANY_TEXT = st.lists(st.one_of(st.text(max_size=20), BAD_CHARACTERS), max_size=8).map("".join)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    result: Settings = meta_settings(tmp_path, db_url)
    return result


async def run_property(strategy: st.SearchStrategy[Any], check: Callable[[Any], Awaitable[None]]) -> None:
    """Run `check` on EXAMPLES values of `strategy`; Hypothesis shrinks a failure to its smallest form."""
    loop = asyncio.get_running_loop()
    runs: list[Any] = []

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def prop(value: Any) -> None:
        runs.append(value)
        asyncio.run_coroutine_threadsafe(check(value), loop).result(timeout=120)

    await asyncio.to_thread(prop)
    assert len(runs) >= EXAMPLES // 2, f"only {len(runs)} examples ran"


async def stored(runtime: Runtime, provider_id: str) -> Message | None:
    async with runtime.db.reads() as session:
        return (
            await session.execute(select(Message).where(Message.provider_message_id == provider_id))
        ).scalar_one_or_none()


async def test_any_text_in_a_whatsapp_batch_is_stored_cleaned_with_its_siblings(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await meta_world(runtime, client, "whatsapp")

    async def check(text: str) -> None:
        n = next(_ids)
        payload = wa_text(f"wamid.P{n}-a", "before")
        value = payload["entry"][0]["changes"][0]["value"]
        first = value["messages"][0]
        value["messages"] = [
            first,
            {**first, "id": f"wamid.P{n}-b", "text": {"body": text}},
            {**first, "id": f"wamid.P{n}-c", "text": {"body": "after"}},
        ]
        value["contacts"][0]["profile"]["name"] = text
        response = await post_webhook(client, payload)
        assert response.status_code == 200, response.text
        for suffix in "abc":
            assert await stored(runtime, f"wamid.P{n}-{suffix}") is not None
        middle = await stored(runtime, f"wamid.P{n}-b")
        # What JSON carries: two escaped halves that happen to form a pair decode as one character.
        assert middle is not None and middle.text == clean_inbound_text(json.loads(json.dumps(text)))

    await run_property(ANY_TEXT, check)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


# Real events of every type, each mutated inside the event only (routing stays intact), with a good sibling.
EVENTS = {
    "whatsapp": [
        fixture("whatsapp", name)["entry"][0]["changes"][0]["value"]["messages"][0]
        for name in (
            *("text", "image", "document", "audio", "location", "contacts", "interactive_button", "button"),
            *("reaction", "system", "unsupported", "sticker", "reply", "referral"),
        )
    ],
    "messenger": [
        fixture("messenger", name)["entry"][0]["messaging"][0]
        for name in ("text", "attachments", "postback", "quick_reply", "reply_to", "read", "delivery")
    ],
    "instagram": [
        fixture("instagram", name)["entry"][0]["messaging"][0]
        for name in ("text", "image", "reaction", "story_mention", "story_reply", "referral", "seen")
    ],
}


def _mutated(kind: str) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    @st.composite
    def build(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
        n = next(_ids)
        event = copy.deepcopy(draw(st.sampled_from(EVENTS[kind])))
        path = draw(st.sampled_from(_paths(event) or [("extra",)]))
        _set(event, path, draw(ANY_JSON))
        sibling = f"sib-{kind}-{n}"
        if kind == "whatsapp":
            payload = wa_text(sibling, "sibling")
            value = payload["entry"][0]["changes"][0]["value"]
            value["messages"] = [event, value["messages"][0]]
        else:
            payload = fresh(fixture(kind, "text"))
            good = payload["entry"][0]["messaging"][0]
            good["message"]["mid"] = sibling
            payload["entry"][0]["messaging"] = [event, good]
        return payload, sibling

    return build()


@pytest.mark.parametrize("kind", ["whatsapp", "messenger", "instagram"])
async def test_any_json_in_an_event_never_fails_the_delivery_or_its_sibling(
    client: httpx.AsyncClient, runtime: Runtime, kind: str
) -> None:
    await meta_world(runtime, client, kind)

    async def check(drawn: tuple[dict[str, Any], str]) -> None:
        payload, sibling = drawn
        body = json.dumps(payload, ensure_ascii=True).encode()
        response = await post_webhook(client, body)
        assert response.status_code == 200, response.text
        assert await stored(runtime, sibling) is not None

    await run_property(_mutated(kind), check)


# ---------------------------------------------------------------- a message, its edits and its unsend in any order


@st.composite
def _deliveries(draw: st.DrawFn) -> tuple[list[str], bool]:
    """The order Meta delivers a message (m), two edits (e1, e2) and maybe an unsend (u) in, one of them twice."""
    names = ["m", "e1", "e2"] + (["u"] if draw(st.booleans()) else [])
    order = list(draw(st.permutations(names)))
    order.insert(draw(st.integers(0, len(order))), draw(st.sampled_from(names)))
    return order, "u" in names


async def test_a_message_its_edits_and_its_unsend_end_the_same_in_any_delivery_order(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await meta_world(runtime, client, "instagram")

    async def check(drawn: tuple[list[str], bool]) -> None:
        order, unsent = drawn
        n = next(_ids)
        mid, words = f"order-mid-{n}", {"m": f"original {n}", "e1": f"first edit {n}", "e2": f"second edit {n}"}
        sent = fresh(fixture("instagram", "text"), ago=timedelta(minutes=5))
        base = sent["entry"][0]["messaging"][0]
        base["sender"]["id"] = f"customer-{n}"
        at = int(base["timestamp"])

        def event(name: str) -> dict[str, Any]:
            payload = copy.deepcopy(sent)
            item = payload["entry"][0]["messaging"][0]
            if name == "m":
                item["message"] = {"mid": mid, "text": words["m"]}
            elif name == "u":
                item["message"] = {"mid": mid, "is_deleted": True}
                item["timestamp"] = at + 3000
            else:
                item.pop("message")
                item["message_edit"] = {"mid": mid, "text": words[name], "num_edit": int(name[1])}
                item["timestamp"] = at + int(name[1]) * 1000
            return payload

        for name in order:
            assert (await post_webhook(client, event(name))).status_code == 200
        async with runtime.db.reads() as session:
            [message] = list(
                (await session.execute(select(Message).where(Message.provider_message_id == mid))).scalars()
            )
            early = list(
                (await session.execute(select(EarlyChange).where(EarlyChange.provider_message_id == mid))).scalars()
            )
            copies = json.dumps([r.payload for r in (await session.execute(select(OutboxRow))).scalars()])
        assert early == []
        if unsent:
            assert (message.text, message.content_type) == (None, "deleted"), order
            # No copy waiting to go out still holds any version of what the customer withdrew.
            assert not [w for w in words.values() if w in copies], order
        else:
            assert message.text == words["e2"], order
            assert words["m"] in [e["text"] for e in message.content["edits"]], order

    await run_property(_deliveries(), check)
