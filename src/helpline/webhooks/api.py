"""Routes: outgoing webhooks (admins) and their recent delivery attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from helpline.auth.dependencies import AdminPrincipal, RuntimeDep
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import NotFound
from helpline.webhooks import actions
from helpline.webhooks.models import Webhook, WebhookDelivery
from helpline.webhooks.schemas import (
    DeliveryPublic,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.get("", response_model=list[WebhookPublic])
async def list_webhooks(principal: AdminPrincipal, runtime: RuntimeDep) -> list[WebhookPublic]:
    async with runtime.db.reads() as session:
        return [
            WebhookPublic.model_validate(w)
            for w in (await session.execute(select(Webhook).order_by(Webhook.id))).scalars()
        ]


@router.post("", response_model=WebhookWithSecret, status_code=201)
async def create_webhook(body: WebhookCreate, principal: AdminPrincipal, runtime: RuntimeDep) -> WebhookWithSecret:
    async with runtime.db.transaction() as session:
        webhook, secret = await actions.create_webhook(
            session,
            body,
            box=runtime.box,
            actor_id=principal.operator_id,
            allow_private=runtime.settings.allow_private_targets,
        )
        return WebhookWithSecret(**WebhookPublic.model_validate(webhook).model_dump(), secret=secret)


@router.patch("/{webhook_id}", response_model=WebhookPublic)
async def update_webhook(
    webhook_id: BoundedInt, body: WebhookUpdate, principal: AdminPrincipal, runtime: RuntimeDep
) -> WebhookPublic:
    async with runtime.db.transaction() as session:
        webhook = await actions.update_webhook(
            session,
            webhook_id,
            body,
            actor_id=principal.operator_id,
            allow_private=runtime.settings.allow_private_targets,
        )
        return WebhookPublic.model_validate(webhook)


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: BoundedInt, principal: AdminPrincipal, runtime: RuntimeDep) -> Response:
    async with runtime.db.transaction() as session:
        await actions.delete_webhook(session, webhook_id, actor_id=principal.operator_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryPublic])
async def list_deliveries(
    webhook_id: BoundedInt,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryPublic]:
    async with runtime.db.reads() as session:
        if await session.get(Webhook, webhook_id) is None:
            raise NotFound("no such webhook")
        rows = (
            await session.execute(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(WebhookDelivery.id.desc())
                .limit(limit)
            )
        ).scalars()
        return [DeliveryPublic.model_validate(d) for d in rows]
