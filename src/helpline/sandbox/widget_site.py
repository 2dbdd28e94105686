"""The demo's sample website: a shop page embedding the chat widget, as a customer's site would."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from helpline.auth.dependencies import RuntimeDep
from helpline.channels.actions import create_channel
from helpline.channels.models import Channel
from helpline.channels.schemas import ChannelCreate
from helpline.platform.errors import NotFound
from helpline.runtime import Runtime

DEMO_WIDGET = "Website chat (demo)"
PATH = "/sandbox/widget-site"
router = APIRouter(prefix=PATH, include_in_schema=False)

SITE_CSS = """
body { font: 16px/1.5 Georgia, serif; margin: 0; color: #222; background: #fffdf7; }
header { background: #0a7acc; color: #fff; padding: 24px 40px; }
main { padding: 24px 40px; max-width: 760px; }
/* Hostile rules a real site may have: the widget's shadow root keeps them out. */
button { background: hotpink !important; font-size: 30px !important; border: 5px dashed lime !important; }
div { letter-spacing: 3px; }
"""


def demo_origins(base_url: str) -> list[str]:
    """The base URL's origin under both loopback names, so the page can also be opened cross-origin."""
    parts = urlsplit(base_url)
    port = f":{parts.port}" if parts.port else ""
    hosts = {parts.hostname or "127.0.0.1"}
    if hosts & {"127.0.0.1", "localhost"}:
        hosts |= {"127.0.0.1", "localhost"}
    return sorted(f"{parts.scheme}://{host}{port}" for host in hosts)


async def seed_widget(runtime: Runtime, profile_id: int | None, event_id: int | None) -> Channel:
    """Idempotent: the demo's widget channel, with the bot on and the demo page's origins allowed."""
    async with runtime.db.transaction() as session:
        found = (await session.execute(select(Channel).where(Channel.name == DEMO_WIDGET))).scalar_one_or_none()
        if found is not None:
            return found
        channel, _ = await create_channel(
            session,
            ChannelCreate(
                kind="widget",
                name=DEMO_WIDGET,
                profile_id=profile_id,
                default_event_id=event_id,
                settings={
                    "allowed_origins": demo_origins(runtime.settings.base_url),
                    "title": "Segurozinho Seguros",
                    "greeting": "Hi! I'm the Segurozinho assistant. Ask me about claims, orders or appointments.",
                    "theme_color": "#0a7acc",
                    "bot_enabled": True,
                },
            ),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
        return channel


@router.get("", response_class=HTMLResponse)
async def site(runtime: RuntimeDep) -> HTMLResponse:
    async with runtime.db.reads() as session:
        channel = (await session.execute(select(Channel).where(Channel.name == DEMO_WIDGET))).scalar_one_or_none()
    if channel is None:
        raise NotFound("the demo widget is not set up yet")
    base = escape(runtime.settings.base_url)
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Segurozinho Seguros</title>'
        f'<link rel="stylesheet" href="{PATH}/site.css"></head><body>'
        "<header><h1>Segurozinho Seguros</h1><p>Car and home insurance</p></header>"
        "<main><h2>A sample customer website</h2><p>This page stands for your company's site. The chat button in "
        "the corner is Helpline's widget, added with one line of HTML:</p>"
        f'<pre>&lt;script src="{base}/widget.js" data-channel="{channel.id}" async&gt;&lt;/script&gt;</pre>'
        "<p>Try: <em>I want to book an appointment</em>, then <em>Talk to a person</em>, and answer from the "
        "inbox.</p></main>"
        f'<script src="{base}/widget.js" data-channel="{channel.id}" async></script></body></html>'
    )


@router.get("/site.css")
async def site_css() -> Response:
    return Response(SITE_CSS, media_type="text/css")
