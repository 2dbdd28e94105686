"""A customer simulator: the people of sandbox/scenarios.py write to a generic API channel over signed HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass, field

import httpx

from helpline.platform.crypto import sign_header
from helpline.sandbox.scenarios import CustomerPool

log = logging.getLogger(__name__)


@dataclass
class ApiChannelSimulator:
    """Posts signed messages to `inbound_url`, as the system behind an API channel would."""

    inbound_url: str
    secret: str
    http: httpx.AsyncClient
    interval_seconds: float = 8.0
    rng: random.Random = field(default_factory=random.Random)
    pool: CustomerPool | None = None

    def __post_init__(self) -> None:
        if self.pool is None:
            self.pool = CustomerPool(rng=self.rng)

    async def send_one(self) -> httpx.Response | None:
        """The next message of the pool (a new customer's opener, or someone's next answer), signed and posted;
        None when nobody writes this time."""
        assert self.pool is not None
        picked = self.pool.next_message()
        if picked is None:
            return None
        customer, text = picked
        body = json.dumps(
            {
                "contact": {"id": f"sim-{customer.key}", "name": customer.name},
                "message": {"id": f"sim-{customer.key}-{customer.sent}-{uuid.uuid4().hex[:6]}", "text": text},
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", "X-Helpline-Signature": sign_header(self.secret, body)}
        return await self.http.post(self.inbound_url, content=body, headers=headers)

    async def run(self) -> None:
        try:
            await self._loop()
        finally:
            await self.http.aclose()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.interval_seconds)
            try:
                response = await self.send_one()
                if response is not None and response.status_code >= 300:
                    log.warning("simulator message refused: %s %s", response.status_code, response.text[:200])
            except httpx.HTTPError as exc:
                log.warning("simulator could not reach Helpline: %s", exc)
