"""Open sockets obey revocation: re-resolve every socket's principal from the database a few times a second.

A socket authenticates once, at its handshake. Logout, deactivation, a password change, expiry, a role change or
leaving a channel must still reach it: each pass loads, for every open socket of this process, its session and
operator and the operator's channels in two queries (whatever the number of sockets), then
- closes the socket with 4401 when the session is gone, expired or its operator deactivated;
- swaps in the new principal when the role or the channels changed, and tells the client to re-sync; frames
  already queued are checked again against the new principal when sent (`Subscriber.deliverable`).
Polling (rather than a revocation message) also covers changes made from the CLI or straight in the database, and
costs the same with or without Redis.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.auth.models import AuthSession, Operator, Role
from helpline.auth.permissions import Principal
from helpline.channels.models import ChannelMember
from helpline.platform.clock import utcnow
from helpline.platform.db import Database
from helpline.realtime.hub import RealtimeHub, Subscriber

log = logging.getLogger(__name__)

SESSION_ENDED = 4401
ACCESS_CHANGED = {"type": "resync", "reason": "your access changed; reload the inbox"}


async def current_principals(session: AsyncSession, session_ids: set[int]) -> dict[int, Principal]:
    """{auth session id: principal} for the sessions that are still valid (present, unexpired, active operator)."""
    if not session_ids:
        return {}
    rows = (
        await session.execute(
            select(AuthSession.id, AuthSession.expires_at, Operator.id, Operator.role, Operator.active)
            .join(Operator, Operator.id == AuthSession.operator_id)
            .where(AuthSession.id.in_(sorted(session_ids)))
        )
    ).all()
    now = utcnow()
    valid = [(sid, oid, role) for sid, expires_at, oid, role, active in rows if active and expires_at > now]
    channels: dict[int, set[int]] = defaultdict(set)
    operator_ids = sorted({oid for _, oid, _ in valid})
    if operator_ids:
        members = await session.execute(
            select(ChannelMember.operator_id, ChannelMember.channel_id).where(
                ChannelMember.operator_id.in_(operator_ids)
            )
        )
        for operator_id, channel_id in members:
            channels[operator_id].add(channel_id)
    return {
        sid: Principal(operator_id=oid, role=Role(role), channel_ids=frozenset(channels[oid]), session_id=sid)
        for sid, oid, role in valid
    }


def apply(subscriber: Subscriber, principal: Principal | None) -> None:
    """Bring one socket in line with its operator's current access."""
    if principal is None:
        subscriber.revoke(SESSION_ENDED, "your session ended; log in again")
        return
    if principal != subscriber.principal:
        subscriber.principal = principal
        try:
            subscriber.queue.put_nowait(dict(ACCESS_CHANGED))
        except asyncio.QueueFull:
            subscriber.overflowed = True


async def recheck(hub: RealtimeHub, session: AsyncSession) -> int:
    """One pass over this process's sockets; returns how many were revoked."""
    subscribers = [s for s in hub.subscribers if s.principal.session_id is not None and s.revoked is None]
    if not subscribers:
        return 0
    session_ids = {s.principal.session_id for s in subscribers if s.principal.session_id is not None}
    principals = await current_principals(session, session_ids)
    revoked = 0
    for subscriber in subscribers:
        assert subscriber.principal.session_id is not None
        principal = principals.get(subscriber.principal.session_id)
        apply(subscriber, principal)
        revoked += principal is None
    return revoked


async def watch(hub: RealtimeHub, db: Database, interval: float) -> None:
    """Run `recheck` every `interval` seconds for the life of the process. A database outage keeps the sockets
    open (they were valid a moment ago and cannot reconnect meanwhile) and is retried on the next pass."""
    while True:
        await asyncio.sleep(interval)
        if not hub.client_count:
            continue
        try:
            async with db.reads() as session:
                await recheck(hub, session)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("could not re-check realtime sessions (%s); keeping sockets until the next pass", exc)
