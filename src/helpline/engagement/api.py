"""Routes: a channel's provider templates (for the template picker) and their sync from the provider."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from helpline.auth.dependencies import AdminPrincipal, CurrentPrincipal, RuntimeDep
from helpline.channels.models import Channel
from helpline.engagement.models import MessageTemplate
from helpline.engagement.templates import expected_slots, sync_channel_templates
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import NotFound

router = APIRouter(prefix="/channels", tags=["templates"])


class TemplatePublic(BaseModel):
    id: int
    name: str
    language: str
    category: str
    status: str
    status_reason: str | None
    components: list[dict[str, Any]]
    parameters: list[str]  # what `parameters` of a template send must hold, in order
    updated_at: datetime


class TemplateSyncResult(BaseModel):
    templates: int


@router.get("/{channel_id}/templates", response_model=list[TemplatePublic])
async def list_templates(
    channel_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep
) -> list[TemplatePublic]:
    async with runtime.db.sessions() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None or not principal.can_see_channel(channel.id):
            raise NotFound("no such channel")
        rows = (
            await session.execute(
                select(MessageTemplate)
                .where(MessageTemplate.channel_id == channel_id)
                .order_by(MessageTemplate.name, MessageTemplate.language)
            )
        ).scalars()
        return [
            TemplatePublic(
                id=t.id,
                name=t.name,
                language=t.language,
                category=t.category,
                status=t.status,
                status_reason=t.status_reason,
                components=list(t.components or []),
                parameters=[s.describe() for s in expected_slots(t.components or [])],
                updated_at=t.updated_at,
            )
            for t in rows
        ]


@router.post("/{channel_id}/templates/sync", response_model=TemplateSyncResult)
async def sync_templates(channel_id: BoundedInt, principal: AdminPrincipal, runtime: RuntimeDep) -> TemplateSyncResult:
    """Fetch the channel's templates from the provider now (also: `helpline templates sync`)."""
    return TemplateSyncResult(templates=await sync_channel_templates(runtime, channel_id))
