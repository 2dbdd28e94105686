"""The demo's Meta part: the sandbox mounted at /sandbox/meta, three channels on it, customers writing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select

from helpline.platform.errors import HelplineError
from helpline.runtime import Runtime
from helpline.sandbox.meta.core import MetaSandbox
from helpline.sandbox.meta.standalone import ASSETS, SANDBOX_APP_SECRET, populate
from helpline.sandbox.scenarios import CustomerPool
from helpline.settings import Settings

log = logging.getLogger(__name__)

MOUNT = "/sandbox/meta"
META_KINDS = ("whatsapp", "messenger", "instagram")

# Channel set-ups pointing at the sandbox's assets. The key names follow provider-contracts and DESIGN; if the
# adapters name them differently, create_channel refuses and the demo says so in the log (nothing crashes).
DEMO_CHANNELS: list[dict[str, Any]] = [
    {
        "kind": "whatsapp",
        "name": "WhatsApp +1 555 078 3881 (demo)",
        "settings": {"phone_number_id": ASSETS.phone_number_id, "waba_id": ASSETS.waba_id},
        "credentials": {"access_token": ASSETS.whatsapp_token},
        "asset": ASSETS.phone_number_id,
    },
    {
        "kind": "messenger",
        "name": "Facebook Page Segurozinho (demo)",
        "settings": {"page_id": ASSETS.page_id},
        "credentials": {"access_token": ASSETS.page_token},
        "asset": ASSETS.page_id,
    },
    {
        "kind": "instagram",
        "name": "Instagram @segurozinho (demo)",
        "settings": {"instagram_account_id": ASSETS.instagram_id, "page_id": ASSETS.page_id},
        "credentials": {"access_token": ASSETS.instagram_token},
        "asset": ASSETS.instagram_id,
    },
]


def adapters_available() -> bool:
    from helpline.channels.registry import ADAPTERS

    return all(kind in ADAPTERS for kind in META_KINDS)


def prepare_settings(settings: Settings) -> None:
    """Point Helpline's Graph calls at the mounted sandbox unless the operator configured a real Meta app."""
    if settings.meta_graph_url == Settings.model_fields["meta_graph_url"].default:
        settings.meta_graph_url = settings.base_url + MOUNT
    if not settings.meta_app_secret:
        settings.meta_app_secret = SANDBOX_APP_SECRET


def build_sandbox(settings: Settings) -> MetaSandbox:
    return populate(
        MetaSandbox(
            app_secret=settings.meta_app_secret or SANDBOX_APP_SECRET,
            callback_url=f"{settings.base_url}/webhooks/meta",
            public_url=settings.base_url + MOUNT,
            status_delay=1.0,
        )
    )


async def seed_channels(runtime: Runtime, profile_id: int | None, event_id: int | None) -> list[tuple[str, str]]:
    """Create the three demo channels once; returns (kind, asset id) of those that exist."""
    from helpline.channels.actions import create_channel
    from helpline.channels.models import Channel
    from helpline.channels.schemas import ChannelCreate

    ready: list[tuple[str, str]] = []
    for spec in DEMO_CHANNELS:
        async with runtime.db.transaction() as session:
            found = (await session.execute(select(Channel).where(Channel.name == spec["name"]))).scalar_one_or_none()
            if found is None:
                try:
                    await create_channel(
                        session,
                        ChannelCreate(
                            kind=spec["kind"],
                            name=spec["name"],
                            profile_id=profile_id,
                            default_event_id=event_id,
                            settings={**spec["settings"], "bot_enabled": True},
                            credentials=spec["credentials"],
                        ),
                        box=runtime.box,
                        actor_id=None,
                        allow_private=True,
                    )
                except HelplineError as exc:
                    log.warning("demo: could not create the %s channel: %s", spec["kind"], exc.message)
                    continue
        ready.append((spec["kind"], spec["asset"]))
    return ready


async def customers(
    sandbox: MetaSandbox, assets: list[tuple[str, str]], interval: float, pool: CustomerPool | None = None
) -> None:
    """Simulated people (sandbox/scenarios.py) write on WhatsApp, Messenger and Instagram through signed webhooks."""
    pool = pool or CustomerPool()
    rng = pool.rng
    where: dict[str, tuple[str, str]] = {}  # customer key → (asset, provider user id)
    while True:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * interval)
        picked = pool.next_message()
        if picked is None:
            continue
        customer, text = picked
        if customer.key not in where:
            kind, asset = rng.choice(assets)
            user = f"55119{rng.randrange(10**7, 10**8)}" if kind == "whatsapp" else str(rng.randrange(10**15, 10**16))
            where[customer.key] = (asset, user)
        asset, user = where[customer.key] if customer.pending else where.pop(customer.key)
        try:
            await sandbox.customer_says(asset, user, text, name=customer.name)
        except Exception as exc:
            log.warning("demo: Meta sandbox customer could not write: %s", exc)


async def start(runtime: Runtime, sandbox: MetaSandbox, profile_id: int | None, event_id: int | None) -> bool:
    """Seed the Meta channels and start the customers; False (and a log line) while the adapters are missing."""
    if not adapters_available():
        log.info("demo: Meta sandbox mounted at %s; WhatsApp/Messenger/Instagram adapters are not installed yet", MOUNT)
        return False
    assets = await seed_channels(runtime, profile_id, event_id)
    if not assets:
        return False
    runtime.spawn(customers(sandbox, assets, runtime.settings.demo_interval_seconds), "demo-meta-customers")
    log.info("demo: simulated customers write on %s via the Meta sandbox", ", ".join(k for k, _ in assets))
    return True
