"""Helpers for the Meta channel tests: settings, signed webhooks, fixtures, and a world with one Meta channel."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from helpline.auth.actions import create_operator
from helpline.auth.models import Role
from helpline.auth.schemas import OperatorCreate
from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.conversations.models import Conversation
from helpline.platform.clock import utcnow
from helpline.runtime import Runtime
from tests.conftest import PASSWORD, Persona, login, make_settings

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-please"
APP_ID = "999000111222333"
GRAPH = "https://graph.example.test"
VERSION = "v21.0"
TOKEN = "EAAG-test-token-0123456789"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
WA_ID = "16505551234"
PAGE_ID = "112233445566778"
PSID = "6543210987654321"
IG_ID = "17841400000000001"
IGSID = "1122334455667788"

CHANNELS: dict[str, dict[str, Any]] = {
    "whatsapp": {"phone_number_id": PHONE_NUMBER_ID, "waba_id": WABA_ID, "bot_enabled": False},
    "messenger": {"page_id": PAGE_ID, "bot_enabled": False},
    "instagram": {"ig_account_id": IG_ID, "bot_enabled": False},
}


def meta_settings(tmp_path: Path, db_url: str, **overrides: Any) -> Any:
    return make_settings(
        tmp_path,
        db_url,
        meta_app_secret=APP_SECRET,
        meta_verify_token=VERIFY_TOKEN,
        meta_app_id=APP_ID,
        meta_graph_url=GRAPH,
        meta_graph_version=VERSION,
        **overrides,
    )


def fixture(kind: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(__file__).parent / kind / "fixtures" / f"{name}.json").read_text())
    return data


def raw(payload: dict[str, Any]) -> bytes:
    """What Meta sends: ASCII-escaped JSON (\\u00e7), signed exactly as sent."""
    return json.dumps(payload, ensure_ascii=True).encode()


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(
    client: httpx.AsyncClient, payload: dict[str, Any] | bytes, *, secret: str = APP_SECRET
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else raw(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, secret)}
    return await client.post("/webhooks/meta", content=body, headers=headers)


@dataclass
class MetaWorld:
    """An admin, an agent who is a member of one Meta channel, and an outsider who is not (with --outsider)."""

    admin: Persona
    agent: Persona
    outsider: Persona | None
    channel_id: int

    @property
    def world(self) -> MetaWorld:
        return self


async def meta_world(
    runtime: Runtime, client: httpx.AsyncClient, kind: str, *, outsider: bool = False, **settings: Any
) -> MetaWorld:
    # Fewer operators than make_world: password hashing dominates these tests' time.
    people: dict[str, tuple[int, str, Role]] = {}
    names = [("admin", Role.admin), ("agent", Role.agent)] + ([("outsider", Role.agent)] if outsider else [])
    async with runtime.db.transaction() as session:
        for name, role in names:
            email = f"{name}@example.com"
            operator = await create_operator(
                session, OperatorCreate(email=email, name=name.title(), password=PASSWORD, role=role), actor_id=None
            )
            people[name] = (operator.id, email, role)
        channel, _ = await create_channel(
            session,
            ChannelCreate(
                kind=kind,
                name=f"Test {kind}",
                settings={**CHANNELS[kind], **settings},
                credentials={"access_token": TOKEN},
                member_ids=[people["agent"][0]],
            ),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
    personas = {
        name: Persona(id=oid, email=email, role=role, token=await login(client, email))
        for name, (oid, email, role) in people.items()
    }
    return MetaWorld(
        admin=personas["admin"], agent=personas["agent"], outsider=personas.get("outsider"), channel_id=channel.id
    )


async def age_conversation(runtime: Runtime, conversation_id: int, hours: float) -> None:
    """Pretend the customer's last message was `hours` ago."""
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_inbound_at=utcnow() - timedelta(hours=hours))
        )


async def only_conversation(client: httpx.AsyncClient, world: MetaWorld) -> dict[str, Any]:
    items: list[dict[str, Any]] = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()[
        "items"
    ]
    assert len(items) == 1, items
    return items[0]


async def messages_of(client: httpx.AsyncClient, world: MetaWorld, conversation_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=world.admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return sorted(items, key=lambda m: m["id"])


def graph_reply(body: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def graph_error(
    code: int, message: str, *, status: int = 400, subcode: int | None = None, **extra: Any
) -> httpx.Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Az8or2yhq"}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return httpx.Response(status, json={"error": error})


def fresh(payload: dict[str, Any], *, ago: timedelta = timedelta(0)) -> dict[str, Any]:
    """The payload with every timestamp moved to now (minus `ago`): recorded times would close the window."""
    moment = utcnow() - ago

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key == "timestamp" and isinstance(item, str):
                    out[key] = str(int(moment.timestamp()))
                elif key in ("timestamp", "watermark") and isinstance(item, int):
                    out[key] = int(moment.timestamp() * 1000)
                else:
                    out[key] = walk(item)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    result: dict[str, Any] = walk(payload)
    return result


def wa_text(wamid: str, text: str, *, name: str = "Sheena Nelson") -> dict[str, Any]:
    payload = fresh(fixture("whatsapp", "text"))
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0].update(id=wamid, text={"body": text})
    value["contacts"][0]["profile"]["name"] = name
    return payload
