"""Provider message templates: sync from the provider, status updates, and checked, rendered template sends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.channels.actions import channel_config
from helpline.channels.base import DeliveryError, ProviderTemplate, TemplateSource, TemplateStatusChanged
from helpline.channels.models import Channel
from helpline.channels.registry import ADAPTERS, build_adapter
from helpline.conversations.schemas import TemplateParameter, TemplateSend
from helpline.engagement.models import MessageTemplate
from helpline.engagement.slots import PLACEHOLDER, Slot, expected_slots
from helpline.platform.clock import utcnow
from helpline.platform.errors import HelplineError, Invalid, NotFound
from helpline.runtime import Runtime


class TemplateInvalid(Invalid):
    code = "template_invalid"


def _refuse(slot: Slot, position: int, problem: str) -> TemplateInvalid:
    return TemplateInvalid(
        f"parameter {position} ({slot.describe()}) {problem}",
        details={
            "slot": {"component": slot.component, "name": slot.name, "button_index": slot.button_index},
            "position": position,
            "problem": problem,
        },
    )


def _value(slot: Slot, given: str | TemplateParameter, position: int) -> dict[str, Any]:
    """The Graph parameter object for one slot, or TemplateInvalid naming the slot and what it needs.

    Text is refused when empty, longer than the slot's `max_length`, or holding line breaks, tabs or runs of
    more than four spaces (Cloud API error 132018), so the operator learns it before Meta refuses the send.
    """
    param = TemplateParameter(text=given) if isinstance(given, str) else given
    if param.type != slot.kind:
        raise _refuse(slot, position, f"expects {slot.kind}; {param.type} was given")
    if slot.kind == "text":
        problem = slot.problem(param.text or "")
        if problem:
            raise _refuse(slot, position, problem)
        value: dict[str, Any] = {"type": "text", "text": param.text}
        if not slot.name.isdigit():
            value["parameter_name"] = slot.name
        return value
    if slot.kind == "location":
        if param.latitude is None or param.longitude is None:
            raise _refuse(slot, position, "needs a latitude and a longitude")
        place: dict[str, Any] = {"latitude": param.latitude, "longitude": param.longitude}
        place.update({k: v for k, v in (("name", param.name), ("address", param.address)) if v})
        return {"type": "location", "location": place}
    if not (param.link or param.id):
        raise _refuse(slot, position, "needs a link or a media id")
    media: dict[str, Any] = {"link": param.link} if param.link else {"id": param.id}
    if slot.kind == "document" and param.filename:
        media["filename"] = param.filename
    return {"type": slot.kind, slot.kind: media}


def build_send(template: MessageTemplate, parameters: list[str | TemplateParameter]) -> tuple[dict[str, Any], str]:
    """The Graph `template` object and the text operators see, after checking parameter count and types."""
    slots = expected_slots(template.components or [])
    if len(parameters) != len(slots):
        needed = ", ".join(s.describe() for s in slots) or "none"
        raise TemplateInvalid(
            f"template {template.name} ({template.language}) takes {len(slots)} parameter(s) [{needed}]; "
            f"{len(parameters)} given",
            details={"expected": [s.describe() for s in slots]},
        )
    values = [_value(slot, given, i + 1) for i, (slot, given) in enumerate(zip(slots, parameters, strict=True))]
    components: list[dict[str, Any]] = []
    for part in ("header", "body"):
        chosen = [v for s, v in zip(slots, values, strict=True) if s.component == part]
        if chosen:
            components.append({"type": part, "parameters": chosen})
    for index in sorted({s.button_index for s in slots if s.button_index is not None}):
        chosen = [v for s, v in zip(slots, values, strict=True) if s.button_index == index]
        components.append({"type": "button", "sub_type": "url", "index": str(index), "parameters": chosen})
    payload: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if components:
        payload["components"] = components
    texts = {s.name: str(v.get("text", "")) for s, v in zip(slots, values, strict=True) if s.component != "button"}
    return payload, render(template.components or [], texts)


def render(components: list[dict[str, Any]], values: dict[str, str]) -> str:
    """Header, body and footer with the parameters filled in: what the customer will read."""
    parts = []
    for component in components:
        if str(component.get("type") or "").upper() in ("HEADER", "BODY", "FOOTER") and component.get("text"):
            parts.append(PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), str(component["text"])))
    return "\n\n".join(parts)


async def resolve_send(session: AsyncSession, channel: Channel, request: TemplateSend) -> tuple[dict[str, Any], str]:
    """Find the approved template the operator named on this channel and build what will be sent."""
    query = select(MessageTemplate).where(
        MessageTemplate.channel_id == channel.id, MessageTemplate.name == request.name
    )
    if request.language:
        query = query.where(MessageTemplate.language == request.language)
    found = list((await session.execute(query)).scalars())
    if not found:
        raise TemplateInvalid(
            f"no template {request.name!r}{' in ' + request.language if request.language else ''} on this channel; "
            "sync the channel's templates first",
            code="unknown_template",
        )
    if len(found) > 1:
        languages = ", ".join(sorted(t.language for t in found))
        raise TemplateInvalid(f"template {request.name!r} exists in several languages ({languages}): pick one")
    template = found[0]
    if template.status != "APPROVED":
        raise TemplateInvalid(
            f"template {template.name} ({template.language}) is {template.status}; only APPROVED templates can be sent",
            code="template_not_approved",
        )
    return build_send(template, request.parameters)


# ---------------------------------------------------------------- keeping the table current


async def upsert_templates(session: AsyncSession, channel_id: int, templates: list[ProviderTemplate]) -> int:
    """Store what the provider lists; templates it no longer lists are kept as DELETED (old messages name them)."""
    rows = {
        (t.name, t.language): t
        for t in (
            await session.execute(select(MessageTemplate).where(MessageTemplate.channel_id == channel_id))
        ).scalars()
    }
    seen = set()
    for item in templates:
        key = (item.name, item.language)
        seen.add(key)
        row = rows.get(key)
        if row is None:
            row = MessageTemplate(channel_id=channel_id, name=item.name, language=item.language)
            session.add(row)
        row.category, row.status, row.components = item.category, item.status.upper(), item.components
        row.provider_template_id = item.provider_template_id
        row.updated_at = utcnow()
    for key, row in rows.items():
        if key not in seen and row.status != "DELETED":
            row.status, row.updated_at = "DELETED", utcnow()
    await session.flush()
    return len(seen)


async def apply_template_status(session: AsyncSession, *, channel_id: int, change: TemplateStatusChanged) -> None:
    """A template status webhook (APPROVED, PAUSED, REJECTED …); unknown templates wait for the next sync."""
    query = select(MessageTemplate).where(MessageTemplate.channel_id == channel_id, MessageTemplate.name == change.name)
    if change.language:
        query = query.where(MessageTemplate.language == change.language)
    for row in (await session.execute(query)).scalars():
        row.status, row.status_reason, row.updated_at = change.status, change.reason, utcnow()
        if change.category:
            row.category = change.category


async def sync_channel_templates(runtime: Runtime, channel_id: int) -> int:
    """Fetch the channel's templates from the provider (outside any transaction) and store them."""
    async with runtime.db.sessions() as session:
        channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("no such channel")
    adapter = build_adapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
    if not isinstance(adapter, TemplateSource):
        raise Invalid(f"{channel.kind} channels have no provider templates", code="no_templates")
    try:
        templates = await adapter.list_templates()
    except DeliveryError as exc:
        raise Invalid(f"template sync failed: {exc.reason}", code="template_sync_failed") from exc
    async with runtime.db.transaction() as session:
        return await upsert_templates(session, channel_id, templates)


async def sync_all_templates(runtime: Runtime, channel_id: int | None = None) -> dict[int, int | str]:
    """Sync one channel, or every channel whose provider has templates: channel id → count, or the error."""
    kinds = [kind for kind, cls in ADAPTERS.items() if cls.window is not None and cls.window.templates]
    async with runtime.db.sessions() as session:
        query = select(Channel.id).where(Channel.kind.in_(kinds)).order_by(Channel.id)
        if channel_id is not None:
            query = select(Channel.id).where(Channel.id == channel_id)
        ids = list((await session.execute(query)).scalars())
    if channel_id is not None and not ids:
        raise NotFound("no such channel")
    results: dict[int, int | str] = {}
    for cid in ids:
        try:
            results[cid] = await sync_channel_templates(runtime, cid)
        except HelplineError as exc:
            results[cid] = exc.message
    return results
