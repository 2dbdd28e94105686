"""Routes: reading the audit log (supervisors and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from helpline.audit.models import AuditEntry
from helpline.auth.dependencies import RuntimeDep, SupervisorPrincipal
from helpline.platform.api_contract import BoundedInt

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    operator_id: int | None
    action: str
    target_type: str
    target_id: int | None
    details: dict[str, Any]
    ip: str | None = None
    user_agent: str | None = None
    created_at: datetime


@router.get("", response_model=list[AuditPublic])
async def list_audit(
    principal: SupervisorPrincipal,
    runtime: RuntimeDep,
    target_type: str | None = None,
    target_id: BoundedInt | None = None,
    action: str | None = None,
    before_id: BoundedInt | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditPublic]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    async with runtime.db.reads() as session:
        return [AuditPublic.model_validate(a) for a in (await session.execute(stmt)).scalars()]
