"""Writes: handle a provider's data-deletion or deauthorisation request in one transaction, with an audit entry."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.platform.clock import utcnow
from helpline.platform.storage import BlobStore
from helpline.privacy.erasure import META_IDENTITY_KINDS, ErasureResult, contacts_for_provider_user, erase_contacts
from helpline.privacy.models import DeletionRequest

log = logging.getLogger(__name__)


def subject_digest(secret_key: str, provider: str, user_id: str) -> str:
    return hmac.new(secret_key.encode(), f"{provider}:{user_id}".encode(), hashlib.sha256).hexdigest()


def new_confirmation_code() -> str:
    # Alphanumeric, as Meta asks; unguessable, because it is the key of a public status page.
    return secrets.token_hex(10).upper()


async def meta_data_deletion(
    session: AsyncSession, *, user_id: str, secret_key: str
) -> tuple[DeletionRequest, ErasureResult]:
    """Erase what Helpline holds about the Messenger/Instagram user `user_id` and record the request."""
    contact_ids = await contacts_for_provider_user(session, user_id, META_IDENTITY_KINDS)
    result = await erase_contacts(session, contact_ids)
    request = DeletionRequest(
        provider="meta",
        kind="data_deletion",
        confirmation_code=new_confirmation_code(),
        subject_digest=subject_digest(secret_key, "meta", user_id),
        status="completed" if contact_ids else "no_data",
        contacts_erased=result.contacts,
        messages_erased=result.messages,
        attachments_erased=result.attachments,
        completed_at=utcnow(),
    )
    session.add(request)
    await session.flush()
    # The audit entry says what happened, never to whom (no user id, name or content).
    record(
        session,
        operator_id=None,
        action="privacy.data_deletion",
        target_type="deletion_request",
        target_id=request.id,
        details={
            "provider": "meta",
            "confirmation_code": request.confirmation_code,
            "contacts": result.contacts,
            "messages": result.messages,
            "attachments": result.attachments,
        },
    )
    return request, result


async def meta_deauthorize(session: AsyncSession, *, user_id: str, secret_key: str) -> DeletionRequest:
    """Someone removed the app: record it (no erasure; they may still ask for that through the other callback)."""
    request = DeletionRequest(
        provider="meta",
        kind="deauthorize",
        confirmation_code=new_confirmation_code(),
        subject_digest=subject_digest(secret_key, "meta", user_id),
        status="recorded",
        completed_at=utcnow(),
    )
    session.add(request)
    await session.flush()
    record(
        session,
        operator_id=None,
        action="privacy.deauthorize",
        target_type="deletion_request",
        target_id=request.id,
        details={"provider": "meta"},
    )
    return request


async def find_request(session: AsyncSession, code: str) -> DeletionRequest | None:
    return (
        await session.execute(select(DeletionRequest).where(DeletionRequest.confirmation_code == code))
    ).scalar_one_or_none()


def remove_blobs(blobs: BlobStore, keys: list[str]) -> None:
    """After commit: a crash before this leaves an unreferenced file, never a reference to a missing one."""
    for key in keys:
        try:
            blobs.path(key).unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove erased blob %s", key)
