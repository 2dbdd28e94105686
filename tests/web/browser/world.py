"""The browser tests' world: operators per role and simulated customers who write only when a test says so.

On top of the demo seed (profile, event, API channel, WhatsApp/Messenger/Instagram on the Meta sandbox) this adds
known operators — `agent` works WhatsApp and the API channel, `outsider` only Messenger — a second event, and a
fixed cast of customers, so screens and screenshots show the same inbox on every run.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from helpline.auth.actions import create_operator
from helpline.auth.models import Role
from helpline.auth.schemas import OperatorCreate
from helpline.channels.actions import channel_config
from helpline.channels.models import Channel
from helpline.platform.crypto import sign_header
from helpline.sandbox.meta.standalone import ASSETS
from tests.conftest import PASSWORD
from tests.web.browser.server import LiveServer, Operator

ASSET_OF_KIND = {"whatsapp": ASSETS.phone_number_id, "messenger": ASSETS.page_id, "instagram": ASSETS.instagram_id}
PEOPLE = {
    "admin": ("Ada Admin", Role.admin),
    "supervisor": ("Sam Supervisor", Role.supervisor),
    "agent": ("Alex Agent", Role.agent),
    "outsider": ("Olga Outsider", Role.agent),
}


@dataclass
class World:
    """What the tests refer to by name: operators, channel ids by kind, event ids by name."""

    server: LiveServer
    operators: dict[str, Operator]
    channels: dict[str, int]
    events: dict[str, int]
    api_secret: str
    _users: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> Operator:
        return self.operators["admin"]

    @property
    def agent(self) -> Operator:
        return self.operators["agent"]

    @property
    def outsider(self) -> Operator:
        return self.operators["outsider"]

    def user_id(self, kind: str, name: str) -> str:
        """A stable provider user id per (kind, name): the same person writes into the same conversation."""
        key = f"{kind}:{name}"
        if key not in self._users:
            number = 10**7 + len(self._users)
            self._users[key] = f"55119{number}" if kind == "whatsapp" else str(10**15 + number)
        return self._users[key]

    def customer_says(
        self,
        kind: str,
        name: str,
        text: str,
        *,
        at: datetime | None = None,
        wait: bool = True,
        share_profile: bool = True,
        **fields: Any,
    ) -> dict[str, Any]:
        """`name` writes `text` on `kind` (whatsapp, messenger, instagram or api) over the real signed webhook path;
        returns the conversation once the admin can see the message in it (bounded wait; `wait=False` returns {}).
        `share_profile=False`: Graph withholds the person's profile (Messenger/Instagram), so Helpline never
        learns the name. `fields` go to the sandbox (e.g. `type="document", document={...}`)."""
        if kind == "api":
            contact = f"api-{name.encode().hex()[:24]}"
            body = json.dumps(
                {"contact": {"id": contact, "name": name}, "message": {"id": uuid.uuid4().hex, "text": text}},
                ensure_ascii=False,
            ).encode()
            headers = {"Content-Type": "application/json", "X-Helpline-Signature": sign_header(self.api_secret, body)}
            response = self.server.http.post(
                f"/api/v1/channels/{self.channels['api']}/inbound", content=body, headers=headers
            )
            assert response.status_code < 300, response.text
        else:
            asset, user = ASSET_OF_KIND[kind], self.user_id(kind, name)
            if not share_profile:
                self.server.sandbox.withheld_profiles.add(user)
            self.server.call(lambda: self.server.sandbox.customer_says(asset, user, text, name=name, at=at, **fields))
        return self.conversation_with(kind, text) if wait else {}

    def conversation_with(self, kind: str, text: str) -> dict[str, Any]:
        """The conversation on the `kind` channel whose messages include `text` (names are not searched: Messenger
        and Instagram contacts are known by their page-scoped id until a profile is fetched)."""

        def find() -> dict[str, Any] | None:
            params = {"channel_id": self.channels[kind], "limit": 200}
            for item in self.server.ok(self.admin, "GET", "/conversations", params=params)["items"]:
                if any(m.get("text") == text for m in self.messages(item["id"])):
                    return dict(item)
            return None

        return self.server.until(find, what=f"the message {text!r} to arrive on {kind}")

    def bot_answered(self, conversation_id: int) -> None:
        """Wait until the newest message of the conversation is the bot's, handed to the provider."""

        def done() -> bool:
            newest = max(self.messages(conversation_id), key=lambda m: (m["created_at"], m["id"]))
            return newest["author_kind"] == "bot" and newest.get("delivery_state") in ("sent", "delivered", "read")

        self.server.until(done, what=f"the bot's answer in conversation {conversation_id}")

    def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        page = self.server.ok(self.admin, "GET", f"/conversations/{conversation_id}/messages", params={"limit": 200})
        return list(page["items"])


def build_world(server: LiveServer) -> World:
    """Operators, a second event and the API channel's secret, on top of the demo seed (which start-up ran)."""
    runtime = server.runtime

    async def seed() -> tuple[dict[str, int], dict[str, int], str]:
        async with runtime.db.transaction() as session:
            channels = {c.kind: c.id for c in (await session.execute(select(Channel).order_by(Channel.id))).scalars()}
            api = (await session.execute(select(Channel).where(Channel.kind == "api"))).scalar_one()
            secret = str(channel_config(api, runtime.box).credentials["secret"])
            memberships = {
                "admin": [],
                "supervisor": [],
                "agent": [channels["whatsapp"], channels["api"]],
                "outsider": [channels["messenger"]],
            }
            ids: dict[str, int] = {}
            for key, (name, role) in PEOPLE.items():
                operator = await create_operator(
                    session,
                    OperatorCreate(
                        email=f"{key}@example.com",
                        name=name,
                        password=PASSWORD,
                        role=role,
                        channel_ids=memberships[key],
                    ),
                    actor_id=None,
                )
                ids[key] = operator.id
        return channels, ids, secret

    channels, ids, secret = server.call(seed)
    operators = {
        key: Operator(
            id=ids[key],
            email=f"{key}@example.com",
            name=PEOPLE[key][0],
            role=PEOPLE[key][1].value,
            token=server.login(f"{key}@example.com"),
        )
        for key in PEOPLE
    }
    world = World(server=server, operators=operators, channels=channels, events={}, api_secret=secret)
    for event in server.ok(world.admin, "GET", "/events"):
        world.events[event["name"]] = event["id"]
    today = datetime.now(UTC).date()
    home = server.ok(
        world.admin,
        "POST",
        "/events",
        json={
            "name": "Home Expo",
            "starts_on": str(today - timedelta(days=1)),
            "ends_on": str(today + timedelta(days=3)),
        },
    )
    world.events[home["name"]] = home["id"]
    # The sandbox's WhatsApp Business Account has approved templates; fetch them as an admin's "Sync now" would.
    server.ok(world.admin, "POST", f"/channels/{channels['whatsapp']}/templates/sync")
    return world


def populate(world: World) -> dict[str, dict[str, Any]]:
    """The fixed cast: a few conversations per channel, one in the second event, one with a closed window."""
    cast = {
        "ana": world.customer_says("whatsapp", "Ana Souza", "Olá, preciso abrir um sinistro do meu carro"),
        "emma": world.customer_says("whatsapp", "Emma Wilson", "Where is my order #48213?"),
        "liam": world.customer_says(
            "whatsapp",
            "Liam Carter",
            "Can I book an appointment for next week?",
            at=datetime.now(UTC) - timedelta(hours=30),
        ),
        "chloe": world.customer_says(
            "messenger", "Chloé Martin", "Bonjour, je voudrais déclarer un sinistre", share_profile=False
        ),
        "giulia": world.customer_says("instagram", "Giulia Rossi", "Vorrei parlare con un operatore"),
        "noah": world.customer_says("api", "Noah Davis", "What are your opening hours on Saturday?"),
    }
    world.server.ok(
        world.admin, "PATCH", f"/conversations/{cast['emma']['id']}", json={"event_id": world.events["Home Expo"]}
    )
    return cast
