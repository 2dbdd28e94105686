"""Routes: health check, Prometheus metrics, outbox inspection and retry of dead rows (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import select, text

from helpline import __version__
from helpline.auth.dependencies import AdminPrincipal, RuntimeDep
from helpline.conversations.ingest import RETRY_TOPIC
from helpline.conversations.raw_inbound import RAW_TOPIC
from helpline.ops.access import check_metrics_access
from helpline.platform import outbox
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import NotFound

router = APIRouter(tags=["operations"])


@router.get("/api/v1/health")
async def health(runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    database = "ok"
    try:
        async with runtime.db.reads() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        database = f"error: {type(exc).__name__}"
        response.status_code = 503
    realtime_problem = runtime.broker.degraded
    degraded = [name for name, problem in (("database", database != "ok"), ("realtime", realtime_problem)) if problem]
    return {
        "status": "degraded" if degraded else "ok",
        "degraded": degraded,
        "version": __version__,
        "database": database,
        "database_kind": runtime.db.engine.dialect.name,
        "realtime": "redis" if runtime.settings.redis_url else "in-process",
        "realtime_state": realtime_problem or "ok",
    }


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    check_metrics_access(request, runtime.settings)
    async with runtime.db.reads() as session:
        stats = await outbox.stats(session)
    runtime.metrics.record_outbox(stats)
    runtime.metrics.websocket_clients.set(runtime.hub.client_count)
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class OutboxRowPublic(BaseModel):
    id: int
    topic: str
    status: str
    attempts: int
    created_at: datetime
    available_at: datetime
    last_error: str | None


class OutboxOverview(BaseModel):
    pending: int
    dead: int
    oldest_pending_age_seconds: float
    dead_rows: list[OutboxRowPublic]


@router.get("/api/v1/outbox", response_model=OutboxOverview)
async def outbox_overview(
    principal: AdminPrincipal, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> OutboxOverview:
    async with runtime.db.reads() as session:
        stats = await outbox.stats(session)
        dead = (
            await session.execute(
                select(outbox.OutboxRow)
                .where(outbox.OutboxRow.status == outbox.DEAD)
                .order_by(outbox.OutboxRow.id.desc())
                .limit(limit)
            )
        ).scalars()
        rows = [
            OutboxRowPublic(
                id=r.id,
                topic=r.topic,
                status=r.status,
                attempts=r.attempts,
                created_at=r.created_at,
                available_at=r.available_at,
                last_error=r.last_error,
            )
            for r in dead
        ]
    return OutboxOverview(
        pending=stats.pending,
        dead=stats.dead,
        oldest_pending_age_seconds=stats.oldest_pending_age_seconds,
        dead_rows=rows,
    )


class IngestFailure(BaseModel):
    id: int
    channel_id: int | None
    status: str  # pending: will be retried; dead: retries exhausted (POST /api/v1/outbox/{id}/retry)
    attempts: int
    # InboundMessage, InboundDeletion…; None for a webhook part that did not parse; "raw" for a logged webhook
    # body (conversations/raw_inbound.py) that could not be ingested.
    event_type: str | None
    error: str | None
    created_at: datetime
    available_at: datetime


class IngestFailures(BaseModel):
    items: list[IngestFailure]


@router.get("/api/v1/ingest/failures", response_model=IngestFailures)
async def ingest_failures(
    principal: AdminPrincipal, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> IngestFailures:
    """Inbound events that could not be stored when they arrived (conversations/ingest.py) and logged webhook
    bodies that could not be ingested (conversations/raw_inbound.py), newest first, with the error of their
    latest attempt; the provider was answered 200 and will not redeliver them."""
    async with runtime.db.reads() as session:
        rows = (
            await session.execute(
                select(outbox.OutboxRow)
                .where(
                    (outbox.OutboxRow.topic == RETRY_TOPIC)
                    # A raw logged body is listed once it failed (it does not parse, or could not be stored).
                    | ((outbox.OutboxRow.topic == RAW_TOPIC) & outbox.OutboxRow.last_error.is_not(None))
                )
                .order_by(outbox.OutboxRow.id.desc())
                .limit(limit)
            )
        ).scalars()
        items = [
            IngestFailure(
                id=r.id,
                channel_id=r.payload.get("channel_id"),
                status=r.status,
                attempts=r.attempts,
                event_type="raw" if r.topic == RAW_TOPIC else (r.payload.get("event") or {}).get("type"),
                error=r.last_error or r.payload.get("error"),
                created_at=r.created_at,
                available_at=r.available_at,
            )
            for r in rows
        ]
    return IngestFailures(items=items)


@router.post("/api/v1/outbox/{row_id}/retry", status_code=202)
async def retry_dead_row(row_id: BoundedInt, principal: AdminPrincipal, runtime: RuntimeDep) -> dict[str, int]:
    async with runtime.db.transaction() as session:
        if not await outbox.retry_dead(session, row_id):
            raise NotFound("no dead outbox row with that id")
    return {"id": row_id}
