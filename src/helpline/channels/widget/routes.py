"""Everything the widget serves, as one router for the app: the visitor API, its socket, and /widget.js."""

from __future__ import annotations

from fastapi import APIRouter

from helpline.channels.widget import api, live, script

router = APIRouter()
router.include_router(api.router, prefix="/api/v1")
router.include_router(live.router)
router.include_router(script.router)
