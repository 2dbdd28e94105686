"""Routes: Meta's data-deletion and deauthorize callbacks, the deletion status page, /privacy and /terms."""

from __future__ import annotations

import html
import logging
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from helpline.auth.dependencies import RuntimeDep
from helpline.platform.errors import Forbidden, HelplineError
from helpline.privacy import pages
from helpline.privacy.actions import find_request, meta_data_deletion, meta_deauthorize, remove_blobs
from helpline.privacy.signed_request import SignedRequestInvalid, parse_signed_request
from helpline.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter(tags=["privacy"])

SignedRequest = Annotated[str, Form(max_length=8192)]


class NotConfigured(HelplineError):
    status_code = 503
    code = "not_configured"


def _verified_user_id(runtime: Runtime, signed_request: str) -> str:
    secret = runtime.settings.meta_app_secret
    if not secret:
        raise NotConfigured("HELPLINE_META_APP_SECRET is not set, so Meta's signed_request cannot be verified")
    try:
        payload = parse_signed_request(signed_request, secret)
    except SignedRequestInvalid as exc:
        raise Forbidden(f"signed_request rejected: {exc}", code="bad_signed_request") from None
    # A Page deauthorisation carries profile_id instead of user_id.
    user_id = payload.get("user_id") or payload.get("profile_id")
    if not user_id:
        raise Forbidden("signed_request has no user_id", code="bad_signed_request")
    return str(user_id)


@router.post("/meta/data-deletion")
async def data_deletion(signed_request: SignedRequest, runtime: RuntimeDep) -> dict[str, str]:
    """Meta's Data Deletion Request Callback: erase, then tell Meta where the person can check the status."""
    user_id = _verified_user_id(runtime, signed_request)
    async with runtime.db.transaction() as session:
        request, result = await meta_data_deletion(session, user_id=user_id, secret_key=runtime.settings.secret_key)
        code = request.confirmation_code
    remove_blobs(runtime.blobs, result.orphaned_blobs)
    log.info("meta data deletion %s: %s contacts, %s messages erased", code, result.contacts, result.messages)
    return {"url": f"{runtime.settings.base_url}/meta/data-deletion/status/{code}", "confirmation_code": code}


@router.get("/meta/data-deletion", response_class=HTMLResponse, include_in_schema=False)
async def data_deletion_instructions(runtime: RuntimeDep) -> str:
    """Human instructions (also usable as Meta's "Data Deletion Instructions URL")."""
    settings = runtime.settings
    contact = html.escape(settings.privacy_contact_email or "our customer-care team")
    return pages.page(
        "Delete your data",
        f"<h1>Delete your data</h1><p>To delete what {html.escape(settings.company_name)} holds about you from "
        "Messenger or Instagram, open your Facebook or Instagram settings, go to <strong>Apps and websites</strong>, "
        f"remove our app and choose <strong>Send request</strong>. You can also write to {contact}.</p>"
        '<p>See also our <a href="/privacy">privacy policy</a>.</p>',
    )


@router.get("/meta/data-deletion/status/{code}", response_class=HTMLResponse, include_in_schema=False)
async def data_deletion_status(code: str, runtime: RuntimeDep) -> HTMLResponse:
    async with runtime.db.sessions() as session:
        request = await find_request(session, code[:40])
    if request is None or request.kind != "data_deletion":
        body = f"<h1>Unknown request</h1><p>No deletion request has the code {html.escape(code)}.</p>"
        return HTMLResponse(pages.page("Deletion request", body), status_code=404)
    when = request.completed_at.strftime("%Y-%m-%d %H:%M UTC") if request.completed_at else "pending"
    outcome = (
        "All data we held about you has been erased."
        if request.status == "completed"
        else "We held no data about you; nothing needed to be erased."
    )
    body = (
        f"<h1>Deletion request {html.escape(request.confirmation_code)}</h1>"
        f"<p>Status: <strong>{html.escape(request.status)}</strong> ({html.escape(when)}).</p><p>{outcome}</p>"
    )
    return HTMLResponse(pages.page("Deletion request", body))


@router.post("/meta/deauthorize")
async def deauthorize(signed_request: SignedRequest, runtime: RuntimeDep) -> dict[str, bool]:
    user_id = _verified_user_id(runtime, signed_request)
    async with runtime.db.transaction() as session:
        await meta_deauthorize(session, user_id=user_id, secret_key=runtime.settings.secret_key)
    return {"success": True}


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
async def privacy_policy(runtime: RuntimeDep) -> str:
    settings = runtime.settings
    text = pages.load_text(settings.privacy_policy_file, pages.default_privacy_policy(settings))
    return pages.page(f"Privacy policy — {settings.company_name}", pages.render_text(text))


@router.get("/terms", response_class=HTMLResponse, include_in_schema=False)
async def terms(runtime: RuntimeDep) -> str:
    settings = runtime.settings
    text = pages.load_text(settings.terms_file, pages.default_terms(settings))
    return pages.page(f"Terms — {settings.company_name}", pages.render_text(text))
