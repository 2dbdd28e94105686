"""The demo: seed a profile, an event with a logo and an API channel, then let simulated customers write."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import httpx
from sqlalchemy import select

from helpline.channels.actions import channel_config, create_channel
from helpline.channels.models import Channel
from helpline.channels.schemas import ChannelCreate
from helpline.profiles.actions import create_event, create_profile, set_logo
from helpline.profiles.models import Event, Profile
from helpline.runtime import Runtime
from helpline.sandbox.logo import disc_png
from helpline.sandbox.meta import demo as meta_demo
from helpline.sandbox.meta.core import MetaSandbox
from helpline.sandbox.simulator import ApiChannelSimulator

log = logging.getLogger(__name__)

DEMO_PROFILE = "Segurozinho Seguros"
DEMO_CHANNEL = "Website contact API (demo)"


async def seed(runtime: Runtime) -> Channel:
    """Idempotent: a second start finds what the first created."""
    base = runtime.settings.base_url
    async with runtime.db.transaction() as session:
        channel = (await session.execute(select(Channel).where(Channel.name == DEMO_CHANNEL))).scalar_one_or_none()
        if channel is not None:
            return channel
        profile = (await session.execute(select(Profile).where(Profile.name == DEMO_PROFILE))).scalar_one_or_none()
        if profile is None:
            profile = await create_profile(
                session, name=DEMO_PROFILE, description="Car and home insurance", actor_id=None
            )
            await set_logo(
                session,
                runtime.blobs,
                Profile,
                profile.id,
                data=disc_png((0, 122, 204)),
                filename="segurozinho.png",
                content_type="image/png",
                actor_id=None,
            )
        today = date.today()
        event = await create_event(
            session,
            {
                "name": "Auto Show 2026",
                "profile_id": profile.id,
                "description": "Our stand at the auto show",
                "starts_on": today - timedelta(days=2),
                "ends_on": today + timedelta(days=5),
            },
            actor_id=None,
        )
        await set_logo(
            session,
            runtime.blobs,
            Event,
            event.id,
            data=disc_png((230, 90, 40)),
            filename="auto-show.png",
            content_type="image/png",
            actor_id=None,
        )
        channel, _ = await create_channel(
            session,
            ChannelCreate(
                kind="api",
                name=DEMO_CHANNEL,
                profile_id=profile.id,
                default_event_id=event.id,
                settings={"bot_enabled": True},
            ),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
        # The callback points at the sandbox's simulated customer system inside this same server.
        channel.settings = {
            **channel.settings,
            "callback_url": f"{base}/sandbox/api-customer/{channel.id}/callback",
        }
        return channel


async def start_demo(runtime: Runtime, meta_sandbox: MetaSandbox | None = None) -> None:
    channel = await seed(runtime)
    from helpline.bot.seeds import load_seeds

    # The bot's sample scripts and articles (EN + PT); idempotent across restarts.
    async with runtime.db.transaction() as session:
        await load_seeds(session, box=runtime.box)
    secret = str(channel_config(channel, runtime.box).credentials["secret"])
    simulator = ApiChannelSimulator(
        inbound_url=f"{runtime.settings.base_url}/api/v1/channels/{channel.id}/inbound",
        secret=secret,
        http=httpx.AsyncClient(timeout=10),
        interval_seconds=runtime.settings.demo_interval_seconds,
    )
    runtime.spawn(simulator.run(), "demo-simulator")
    from helpline.sandbox.widget_site import seed_widget

    await seed_widget(runtime, channel.profile_id, channel.default_event_id)
    if runtime.settings.demo_mail:
        from helpline.sandbox.mail_demo import start_mail_demo

        await start_mail_demo(runtime, channel.profile_id, channel.default_event_id)
    log.info("demo: simulated customers write to channel %s every ~%ss", channel.id, simulator.interval_seconds)
    if meta_sandbox is not None:
        await meta_demo.start(runtime, meta_sandbox, channel.profile_id, channel.default_event_id)
