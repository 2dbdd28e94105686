"""Routes: a channel's provider templates (for the template picker) and their sync from the provider."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from helpline.auth.dependencies import AdminPrincipal, CurrentPrincipal, RuntimeDep
from helpline.channels.models import Channel
from helpline.engagement.models import MessageTemplate
from helpline.engagement.slots import Slot, expected_slots, preview
from helpline.engagement.templates import sync_channel_templates
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import NotFound

router = APIRouter(prefix="/channels", tags=["templates"])


class TemplateSlot(BaseModel):
    """One value a send of the template must carry, in the order `parameters` of a template send takes them."""

    component: Literal["header", "body", "button"]
    kind: Literal["text", "image", "video", "document", "location"]
    name: str = Field(description='the placeholder: positional "1", "2" … or a named parameter')
    button_index: int | None = Field(description="the URL button's index, for button slots")
    prefix: str | None = Field(description="a URL button's fixed start; the value completes the URL")
    example: str | None = Field(description="the example the template was approved with (a URL for media)")
    max_length: int | None = Field(description="characters allowed; null for media and locations")
    context: str | None = Field(description="the template's sentence around the placeholder, for a label")


class PreviewButton(BaseModel):
    type: str = Field(description="url, quick_reply, phone_number, copy_code … (lowercase)")
    text: str
    url: str | None
    phone_number: str | None


class TemplatePreview(BaseModel):
    """The bubble's pieces with placeholders (`{{1}}`, `{{name}}`) left in, for a live preview."""

    header_format: str | None = Field(description="text, image, video, document or location; null: no header")
    header_text: str | None
    body: str
    footer: str | None
    buttons: list[PreviewButton]


class TemplatePublic(BaseModel):
    id: int
    name: str
    language: str
    category: str
    status: str
    status_reason: str | None
    components: list[dict[str, Any]]
    parameters: list[str] = Field(description="the slots in words, e.g. `body {{1}} (text)` (use `slots`)")
    slots: list[TemplateSlot]
    preview: TemplatePreview
    updated_at: datetime


def _slot(slot: Slot) -> TemplateSlot:
    return TemplateSlot.model_validate(slot, from_attributes=True)


def _template_public(t: MessageTemplate) -> TemplatePublic:
    components = list(t.components or [])
    slots = expected_slots(components)
    return TemplatePublic(
        id=t.id,
        name=t.name,
        language=t.language,
        category=t.category,
        status=t.status,
        status_reason=t.status_reason,
        components=components,
        parameters=[s.describe() for s in slots],
        slots=[_slot(s) for s in slots],
        preview=TemplatePreview.model_validate(preview(components), from_attributes=True),
        updated_at=t.updated_at,
    )


class TemplateSyncResult(BaseModel):
    templates: int


@router.get("/{channel_id}/templates", response_model=list[TemplatePublic])
async def list_templates(
    channel_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep
) -> list[TemplatePublic]:
    """The channel's templates in every language and status, by name then language (members of the channel).

    `slots` lists what a send's `parameters` must hold, in that order: header, body, then URL buttons. Each
    text slot says its `max_length`; the server also refuses (422 `template_invalid`, `details.slot` naming
    the slot) empty values and text with line breaks, tabs or more than four spaces in a row, which WhatsApp
    refuses (error 132018). `preview` gives the bubble's pieces with the placeholders left in.
    """
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
        return [_template_public(t) for t in rows]


@router.post("/{channel_id}/templates/sync", response_model=TemplateSyncResult)
async def sync_templates(channel_id: BoundedInt, principal: AdminPrincipal, runtime: RuntimeDep) -> TemplateSyncResult:
    """Fetch the channel's templates from the provider now (also: `helpline templates sync`)."""
    return TemplateSyncResult(templates=await sync_channel_templates(runtime, channel_id))
