"""Clearing a channel's needs-reauth flag: only when its new credentials are saved and the provider accepts them.

A send refused for authentication (Graph error 190, HTTP 401…) flags the channel `needs_reauth`
(`actions.mark_needs_reauth`). Saving credentials alone proves nothing; an adapter that can ask its provider
(`CredentialCheck`) is asked, and the flag clears only on a yes. Adapters that cannot ask keep today's rule:
the admin sets `status: active` explicitly.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from helpline.audit.actions import record
from helpline.channels.actions import channel_config
from helpline.channels.base import DeliveryError
from helpline.channels.models import Channel
from helpline.channels.registry import build_adapter
from helpline.runtime import Runtime

NEEDS_REAUTH = "needs_reauth"


@runtime_checkable
class CredentialCheck(Protocol):
    async def check_credentials(self) -> None:
        """Return when the provider accepts the channel's credentials; raise DeliveryError otherwise."""


async def recheck_credentials(runtime: Runtime, channel_id: int, *, actor_id: int | None) -> str | None:
    """After new credentials were saved: ask the provider and clear `needs_reauth` when it accepts them.

    Returns None when the channel is (now) fine, else why it still needs re-authorising."""
    async with runtime.db.reads() as session:
        channel = await session.get(Channel, channel_id)
    if channel is None or channel.status != NEEDS_REAUTH:
        return None
    adapter = build_adapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
    if not isinstance(adapter, CredentialCheck):
        return channel.status_reason
    try:
        await adapter.check_credentials()
    except DeliveryError as exc:
        return f"the provider did not accept the new credentials: {exc.reason}"
    async with runtime.db.transaction() as session:
        row = await session.get(Channel, channel_id, with_for_update=True)
        if row is not None and row.status == NEEDS_REAUTH:
            row.status, row.status_reason = "active", None
            record(
                session,
                operator_id=actor_id,
                action="channel.reauthorized",
                target_type="channel",
                target_id=channel_id,
                details={},
            )
    return None
