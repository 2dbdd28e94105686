"""A ready-made sandbox (one WhatsApp number, one Page, one IG account, known tokens) for `helpline sandbox meta`
and the demo."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from helpline.sandbox.meta.app import create_sandbox_app
from helpline.sandbox.meta.core import MetaSandbox
from helpline.settings import Settings

SANDBOX_APP_SECRET = "sandbox-app-secret"  # noqa: S105 - a fake's well-known value, documented in docs/channels/meta.md


@dataclass(frozen=True)
class SandboxAssets:
    phone_number_id: str = "106540352242922"
    waba_id: str = "102290129340398"
    display_phone_number: str = "15550783881"
    whatsapp_token: str = "sandbox-whatsapp-token"  # noqa: S105 - fake tokens, documented
    page_id: str = "1122334455"
    page_token: str = "sandbox-page-token"  # noqa: S105
    instagram_id: str = "17841400000000001"
    instagram_token: str = "sandbox-instagram-token"  # noqa: S105


ASSETS = SandboxAssets()


def populate(sandbox: MetaSandbox, assets: SandboxAssets = ASSETS) -> MetaSandbox:
    """Register the assets and subscribe the app to them, as a finished Meta set-up would be."""
    sandbox.add_whatsapp_number(
        assets.phone_number_id,
        waba_id=assets.waba_id,
        display_phone_number=assets.display_phone_number,
        token=assets.whatsapp_token,
    )
    sandbox.add_page(assets.page_id, name="Segurozinho", token=assets.page_token)
    sandbox.add_page(assets.instagram_id, kind="instagram", name="@segurozinho", token=assets.instagram_token)
    sandbox.subscriptions[assets.waba_id] = ["messages"]
    for asset in (assets.page_id, assets.instagram_id):
        sandbox.subscriptions[asset] = ["messages", "message_echoes", "message_deliveries", "message_reads"]
    return sandbox


def build(
    settings: Settings, *, host: str, port: int, callback_url: str | None, app_secret: str | None
) -> tuple[Starlette, list[str]]:
    """The standalone server's app, and what to tell the person starting it."""
    secret = app_secret or settings.meta_app_secret or SANDBOX_APP_SECRET
    public = f"http://{host}:{port}"
    sandbox = populate(
        MetaSandbox(
            app_secret=secret,
            app_id=settings.meta_app_id or "900000000000001",
            callback_url=callback_url or f"{settings.base_url}/webhooks/meta",
            public_url=public,
        )
    )
    a = ASSETS
    lines = [
        f"Meta sandbox on {public}  (webhooks → {sandbox.callback_url}, signed with the app secret {secret!r})",
        f"  export HELPLINE_META_GRAPH_URL={public} HELPLINE_META_APP_SECRET={secret}",
        f"  WhatsApp: phone_number_id={a.phone_number_id} waba_id={a.waba_id} access_token={a.whatsapp_token}",
        f"  Messenger: page_id={a.page_id} access_token={a.page_token}",
        f"  Instagram: account id={a.instagram_id} access_token={a.instagram_token}",
        f"  app token for debug_token: {sandbox.app_token()}",
        f"  a customer writes: curl -X POST {public}/_sandbox/customer_says -H 'content-type: application/json' "
        f'-d \'{{"asset_id": "{a.page_id}", "user_id": "2400000000000001", "text": "Hi!", "name": "Ana"}}\'',
    ]
    return create_sandbox_app(sandbox), lines
