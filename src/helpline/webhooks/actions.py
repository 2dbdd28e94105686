"""Writes for outgoing webhooks: register, change, remove; their URLs pass the SSRF check when saved."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.platform.crypto import SecretBox, new_secret
from helpline.platform.errors import NotFound
from helpline.platform.netguard import check_target
from helpline.webhooks.models import Webhook
from helpline.webhooks.schemas import WebhookCreate, WebhookUpdate


async def create_webhook(
    session: AsyncSession, data: WebhookCreate, *, box: SecretBox, actor_id: int, allow_private: bool
) -> tuple[Webhook, str]:
    await check_target(str(data.url), allow_private=allow_private)
    secret = new_secret()
    webhook = Webhook(
        url=str(data.url),
        events=data.events,
        description=data.description,
        secret=box.seal({"secret": secret}),
        active=True,
    )
    session.add(webhook)
    await session.flush()
    record(
        session,
        operator_id=actor_id,
        action="webhook.created",
        target_type="webhook",
        target_id=webhook.id,
        details={"url": webhook.url, "events": webhook.events},
    )
    return webhook, secret


async def update_webhook(
    session: AsyncSession, webhook_id: int, data: WebhookUpdate, *, actor_id: int, allow_private: bool
) -> Webhook:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound("no such webhook")
    changes = data.model_dump(exclude_unset=True, mode="json")
    if changes.get("url"):
        await check_target(changes["url"], allow_private=allow_private)
    for field, value in changes.items():
        if value is not None or field == "description":
            setattr(webhook, field, value)
    record(
        session,
        operator_id=actor_id,
        action="webhook.updated",
        target_type="webhook",
        target_id=webhook.id,
        details=changes,
    )
    return webhook


async def delete_webhook(session: AsyncSession, webhook_id: int, *, actor_id: int) -> None:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound("no such webhook")
    await session.delete(webhook)
    record(
        session,
        operator_id=actor_id,
        action="webhook.deleted",
        target_type="webhook",
        target_id=webhook_id,
        details={"url": webhook.url},
    )
