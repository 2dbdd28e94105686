"""Per-process cache of what a signed inbound route needs of a channel: kind, status, version and its adapter.

Building an adapter decrypts the channel's credentials (`SecretBox.open`, an AES-GCM open plus JSON) and
validates its settings; doing that and a SELECT for every webhook was most of the accept path's own work.
An entry is never trusted blindly: the log INSERT that accepts a body is guarded by the entry's `version`
(`channels.updated_at`, moved by every change of the row) and fails when the channel changed, was disabled
or deleted since — in this process or any other — and the route then reloads and checks again
(`channels/api_inbound.py`). So a rotated secret stops validating old signatures at the next request, with
no TTL and no cross-process messages; the cache only decides how often the row is re-read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpline.channels.actions import channel_config
from helpline.channels.base import ChannelAdapter
from helpline.channels.models import Channel
from helpline.channels.registry import build_adapter
from helpline.runtime import Runtime

# A bound on memory if ids are probed at random: only existing channels are cached, so this is never reached
# by real traffic; past it the cache starts over.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class ChannelKeys:
    """A channel as the inbound routes see it. `version` is `channels.updated_at` when it was read."""

    id: int
    kind: str
    status: str
    version: datetime
    adapter: ChannelAdapter


class SigningCache:
    """channel id → ChannelKeys, filled on first use; `reload` re-reads one channel (None when it is gone)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._entries: dict[int, ChannelKeys] = {}
        self.loads = 0  # rows read from the database, for tests and the bench

    async def get(self, channel_id: int) -> ChannelKeys | None:
        """The cached entry, or the channel read now; None when no such channel exists (not cached)."""
        entry = self._entries.get(channel_id)
        return entry if entry is not None else await self.reload(channel_id)

    async def reload(self, channel_id: int) -> ChannelKeys | None:
        """Read the channel again (one SELECT by primary key) and cache it; None, and forgotten, when gone."""
        self.loads += 1
        async with self._runtime.db.statements(readonly=True) as session:
            channel = await session.get(Channel, channel_id)
        if channel is None:
            self.forget(channel_id)
            return None
        entry = ChannelKeys(
            id=channel.id,
            kind=channel.kind,
            status=channel.status,
            version=channel.updated_at,
            adapter=build_adapter(channel_config(channel, self._runtime.box), self._runtime.http),
        )
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[channel_id] = entry
        return entry

    def forget(self, channel_id: int) -> None:
        self._entries.pop(channel_id, None)
