"""Routes: staff privacy tools — export and erase a contact, legal holds, retention settings and runs."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from helpline.audit.actions import Origin, record
from helpline.auth.dependencies import AdminPrincipal, RuntimeDep, SupervisorPrincipal
from helpline.channels.models import Channel
from helpline.contacts.models import Contact
from helpline.conversations.models import Conversation
from helpline.platform.api_contract import BoundedInt
from helpline.platform.clock import utcnow
from helpline.platform.errors import NotFound
from helpline.privacy.actions import remove_blobs
from helpline.privacy.erase import erase_contact
from helpline.privacy.export import build_archive, export_document
from helpline.privacy.models import LegalHold, RetentionPolicy
from helpline.privacy.retention import policies, run_retention
from helpline.runtime import Runtime

router = APIRouter(tags=["privacy"])


class ErasureResult(BaseModel):
    contacts: int
    conversations: int
    messages: int
    attachments: int
    outbox_rows: int
    webhook_deliveries: int
    audit_entries_blanked: int


class HoldCreate(BaseModel):
    """Exactly one of contact_id / conversation_id."""

    contact_id: BoundedInt | None = None
    conversation_id: BoundedInt | None = None
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_target(self) -> HoldCreate:
        if (self.contact_id is None) == (self.conversation_id is None):
            raise ValueError("give exactly one of contact_id and conversation_id")
        return self


class HoldPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int | None
    conversation_id: int | None
    reason: str
    created_by: int | None
    created_at: datetime


class RetentionSetting(BaseModel):
    """`channel_id` null = the global period; `days` null = no period (keep)."""

    channel_id: BoundedInt | None = None
    days: int | None = Field(default=None, ge=1, le=36500)


class RetentionPolicies(BaseModel):
    global_days: int | None
    channels: dict[int, int]


class RetentionRun(BaseModel):
    dry_run: bool = True


class RetentionRunResult(BaseModel):
    dry_run: bool
    conversation_ids: list[int]
    counts: dict[str, int]


async def _finish_erasure(runtime: Runtime, keys: list[str]) -> None:
    remove_blobs(runtime.blobs, keys)


@router.get(
    "/api/v1/contacts/{contact_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "export.json + files/"}},
)
async def export_contact(
    contact_id: BoundedInt, request: Request, principal: SupervisorPrincipal, runtime: RuntimeDep
) -> Response:
    """Everything held about the contact (Art. 15/20), as a ZIP: export.json and files/. Supervisors and admins;
    audited."""
    async with runtime.db.transaction() as session:
        document, attachments = await export_document(session, contact_id)
        record(
            session,
            operator_id=principal.operator_id,
            action="privacy.exported",
            target_type="contact",
            target_id=contact_id,
            details={"conversations": len(document["conversations"]), "files": len(attachments)},
            origin=Origin.of(request),
        )
    archive = build_archive(document, attachments, runtime.blobs)
    return Response(
        archive,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="contact-{contact_id}-export.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/api/v1/contacts/{contact_id}/erase", response_model=ErasureResult)
async def erase(
    contact_id: BoundedInt, request: Request, principal: SupervisorPrincipal, runtime: RuntimeDep
) -> ErasureResult:
    """Erase the contact and every copy of its data (Art. 17); afterwards it and its conversations answer 404.
    409 `legal_hold` while a hold covers it. Supervisors and admins; the audit entry is pseudonymous."""
    async with runtime.db.transaction() as session:
        purged = await erase_contact(
            session,
            contact_id,
            actor_id=principal.operator_id,
            secret_key=runtime.settings.secret_key,
            origin=Origin.of(request),
        )
    await _finish_erasure(runtime, purged.orphaned_blobs)
    return ErasureResult(**purged.counts())


@router.get("/api/v1/privacy/holds", response_model=list[HoldPublic])
async def list_holds(principal: SupervisorPrincipal, runtime: RuntimeDep) -> list[HoldPublic]:
    async with runtime.db.reads() as session:
        rows = (await session.execute(select(LegalHold).order_by(LegalHold.id))).scalars()
        return [HoldPublic.model_validate(r) for r in rows]


@router.post("/api/v1/privacy/holds", response_model=HoldPublic, status_code=201)
async def create_hold(
    body: HoldCreate, request: Request, principal: SupervisorPrincipal, runtime: RuntimeDep
) -> HoldPublic:
    """Suspend retention and erasure for a contact or a conversation."""
    async with runtime.db.transaction() as session:
        model = Contact if body.contact_id is not None else Conversation
        target = body.contact_id if body.contact_id is not None else body.conversation_id
        if await session.get(model, target) is None:
            raise NotFound(f"no such {model.__tablename__[:-1]}")
        hold = LegalHold(
            contact_id=body.contact_id,
            conversation_id=body.conversation_id,
            reason=body.reason,
            created_by=principal.operator_id,
        )
        session.add(hold)
        await session.flush()
        record(
            session,
            operator_id=principal.operator_id,
            action="privacy.hold_placed",
            target_type="legal_hold",
            target_id=hold.id,
            details={"contact_id": body.contact_id, "conversation_id": body.conversation_id},
            origin=Origin.of(request),
        )
        return HoldPublic.model_validate(hold)


@router.delete("/api/v1/privacy/holds/{hold_id}", status_code=204)
async def release_hold(
    hold_id: BoundedInt, request: Request, principal: SupervisorPrincipal, runtime: RuntimeDep
) -> Response:
    async with runtime.db.transaction() as session:
        hold = await session.get(LegalHold, hold_id)
        if hold is None:
            raise NotFound("no such legal hold")
        await session.delete(hold)
        record(
            session,
            operator_id=principal.operator_id,
            action="privacy.hold_released",
            target_type="legal_hold",
            target_id=hold_id,
            origin=Origin.of(request),
        )
    return Response(status_code=204)


@router.get("/api/v1/privacy/retention", response_model=RetentionPolicies)
async def get_retention(principal: SupervisorPrincipal, runtime: RuntimeDep) -> RetentionPolicies:
    async with runtime.db.reads() as session:
        global_days, per_channel = await policies(session)
    return RetentionPolicies(global_days=global_days, channels=per_channel)


@router.put("/api/v1/privacy/retention", response_model=RetentionPolicies)
async def set_retention(
    body: RetentionSetting, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> RetentionPolicies:
    """Set (or with `days: null` clear) the global period or a channel's. Admins; audited."""
    async with runtime.db.transaction() as session:
        if body.channel_id is not None and await session.get(Channel, body.channel_id) is None:
            raise NotFound("no such channel")
        existing = (
            await session.execute(
                select(RetentionPolicy).where(
                    RetentionPolicy.channel_id.is_(None)
                    if body.channel_id is None
                    else RetentionPolicy.channel_id == body.channel_id
                )
            )
        ).scalar_one_or_none()
        if body.days is None:
            if existing is not None:
                await session.delete(existing)
        elif existing is None:
            session.add(RetentionPolicy(channel_id=body.channel_id, days=body.days))
        else:
            existing.days = body.days
        record(
            session,
            operator_id=principal.operator_id,
            action="privacy.retention_changed",
            target_type="channel" if body.channel_id is not None else "retention",
            target_id=body.channel_id,
            details={"days": body.days},
            origin=Origin.of(request),
        )
        await session.flush()
        global_days, per_channel = await policies(session)
    return RetentionPolicies(global_days=global_days, channels=per_channel)


@router.post("/api/v1/privacy/retention/run", response_model=RetentionRunResult)
async def run_retention_now(
    body: RetentionRun, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> RetentionRunResult:
    """Run retention now; `dry_run` (the default) lists what would go and changes nothing."""
    async with runtime.db.transaction() as session:
        report = await run_retention(
            session, utcnow(), dry_run=body.dry_run, actor_id=principal.operator_id, origin=Origin.of(request)
        )
    await _finish_erasure(runtime, report.purged.orphaned_blobs)
    return RetentionRunResult(
        dry_run=report.dry_run, conversation_ids=report.conversation_ids, counts=report.purged.counts()
    )
