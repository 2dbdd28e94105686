"""The composition root: one Runtime per process holds the settings, database, stores and clients."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

from helpline.auth.throttle import AddressLimiter
from helpline.platform.crypto import SecretBox, UrlSigner
from helpline.platform.db import Database
from helpline.platform.http import guarded_client
from helpline.platform.metrics import Metrics
from helpline.platform.rate_limits import RateLimits
from helpline.platform.storage import BlobStore
from helpline.platform.worker import OutboxWorker
from helpline.realtime.brokers import Broker, InProcessBroker, LoopForwarder, RedisBroker
from helpline.realtime.hub import RealtimeHub
from helpline.realtime.tickets import TicketStore, ticket_store
from helpline.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    box: SecretBox
    signer: UrlSigner
    blobs: BlobStore
    broker: Broker
    hub: RealtimeHub
    http: httpx.AsyncClient
    metrics: Metrics
    login_limiter: AddressLimiter
    rate_limits: RateLimits
    tickets: TicketStore
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # The outbox workers running on this runtime's loop (`jobs.start_workers`), for stopping them.
    workers: list[OutboxWorker] = field(default_factory=list)
    # True when the caller passed its HTTP client in (tests: a MockTransport); other loops then use it too.
    http_injected: bool = False
    # True for another loop's runtime using the injected client: only the runtime it came from closes it.
    shares_http: bool = False

    @classmethod
    def create(cls, settings: Settings, *, http: httpx.AsyncClient | None = None) -> Runtime:
        broker: Broker = (
            RedisBroker(settings.redis_url, settings.redis_prefix) if settings.redis_url else InProcessBroker()
        )
        metrics = Metrics()
        rate_limits = _rate_limits(settings, metrics)
        return cls(
            settings=settings,
            db=_database(settings),
            box=SecretBox(settings.secret_key),
            signer=UrlSigner(settings.secret_key),
            blobs=BlobStore(
                settings.attachments_dir,
                max_bytes=settings.max_attachment_bytes,
                allowed_types=settings.allowed_attachment_types,
            ),
            broker=broker,
            hub=RealtimeHub(settings.realtime_buffer_size),
            http=http or _http_client(settings),
            metrics=metrics,
            login_limiter=AddressLimiter(rate_limits.login_address),
            rate_limits=rate_limits,
            tickets=ticket_store(settings.redis_url, settings.redis_prefix, settings.realtime_ticket_seconds),
            http_injected=http is not None,
        )

    async def for_worker_thread(self, main_loop: asyncio.AbstractEventLoop) -> Runtime:
        """This process's runtime as seen from another event loop (the worker thread); call it on that loop.

        Database connections, HTTP connections and Redis clients belong to the loop that opened them, so the
        other loop gets its own pool (sized like this one's), client and Redis connections; settings, keys,
        blob store, metrics and the realtime hub (on `main_loop`) are shared. Its frames reach this process's
        sockets through the same broker sequence (in-process) or Redis (publishing only: the main loop
        subscribes)."""
        settings = self.settings
        broker: Broker
        if isinstance(self.broker, RedisBroker):
            redis_broker = RedisBroker(settings.redis_url, settings.redis_prefix)
            await redis_broker.start_publishing(LoopForwarder(self.hub.on_frame, main_loop))
            broker = redis_broker
        else:
            broker = self.broker
        return Runtime(
            settings=settings,
            db=_database(settings),
            box=self.box,
            signer=self.signer,
            blobs=self.blobs,
            broker=broker,
            hub=self.hub,
            http=self.http if self.http_injected else _http_client(settings),
            metrics=self.metrics,
            login_limiter=self.login_limiter,
            rate_limits=_rate_limits(settings, self.metrics),
            tickets=ticket_store(settings.redis_url, settings.redis_prefix, settings.realtime_ticket_seconds),
            http_injected=self.http_injected,
            shares_http=self.http_injected,
        )

    async def start_realtime(self) -> None:
        await self.broker.start(self.hub.on_frame)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self.tasks.append(task)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                log.debug("background task %s ended", task.get_name())
        self.tasks.clear()
        await self.broker.close()
        await self.tickets.close()
        await self.rate_limits.close()
        if not self.shares_http:
            await self.http.aclose()
        await self.db.dispose()


def _database(settings: Settings) -> Database:
    return Database(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)


def _http_client(settings: Settings) -> httpx.AsyncClient:
    return guarded_client(allow_private=settings.allow_private_targets, timeout=settings.http_timeout_seconds)


def _rate_limits(settings: Settings, metrics: Metrics) -> RateLimits:
    return RateLimits(
        login_address=settings.login_ip_limit,
        inbound_channel=settings.inbound_channel_limit,
        inbound_contact=settings.inbound_contact_limit,
        bot_reply=settings.bot_reply_limit,
        redis_url=settings.redis_url,
        prefix=settings.redis_prefix,
        counter=metrics.rate_limited,
    )
