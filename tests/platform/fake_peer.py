"""A scripted far side for outbound HTTP: records every request, answers from a script, then a default."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from helpline.app import create_app
from helpline.runtime import Runtime
from helpline.settings import Settings

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class Peer:
    """Answers each request with the next scripted reply (a response, an exception to raise, or a function
    of the request); when the script is empty, with `default`."""

    script: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=lambda: httpx.Response(200, json={"id": "provider-1"}))
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        reply = self.script.pop(0) if self.script else self.default
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            # A fresh copy each time: a Response object can be consumed only once.
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        return reply(request)

    def json_bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests]


def peer_client(peer: Peer) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(peer))


@asynccontextmanager
async def running_app(settings: Settings, peer: Peer | None = None) -> AsyncIterator[FastAPI]:
    application = create_app(settings, http=peer_client(peer) if peer else None, migrate=False)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def api_client(application: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as c:
        yield c


def runtime_of(application: FastAPI) -> Runtime:
    rt: Runtime = application.state.runtime
    return rt
