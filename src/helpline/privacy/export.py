"""Staff export (GDPR Art. 15 and 20): everything Helpline holds about a contact as a ZIP of JSON and files.

`export.json` holds the contact (and contacts merged into it), identities, notes, conversations with their
messages, attachments (metadata), bot interactions, the answers of each script run, and the audit entries
about them; `files/` holds the attachments' bytes. Only rows reached from the contact are read, so no other
person's data is in it; operators appear by id only.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.actions import safe_filename
from helpline.attachments.models import Attachment
from helpline.audit.models import AuditEntry
from helpline.bot.models import BotInteraction, ScriptRun
from helpline.contacts.models import Contact, ContactIdentity, ContactNote
from helpline.conversations.models import Conversation, Message
from helpline.platform.clock import utcnow
from helpline.platform.errors import NotFound
from helpline.platform.storage import BlobStore
from helpline.privacy.footprint import footprint

FORMAT = "helpline.contact-export/1"


def row_dict(row: object) -> dict[str, Any]:
    """Every mapped column of a row, JSON-ready (datetimes as ISO 8601 UTC)."""
    result: dict[str, Any] = {}
    for attribute in inspect(row).mapper.column_attrs:
        value = getattr(row, attribute.key)
        result[attribute.key] = value.isoformat() if isinstance(value, datetime) else value
    return result


async def _rows(session: AsyncSession, statement: Any) -> list[dict[str, Any]]:
    return [row_dict(r) for r in (await session.execute(statement)).scalars()]


async def export_document(session: AsyncSession, contact_id: int) -> tuple[dict[str, Any], list[Attachment]]:
    """The JSON document and the stored attachments to add as files; NotFound for an unknown contact."""
    if await session.get(Contact, contact_id) is None:
        raise NotFound("no such contact")
    found = await footprint(session, contact_id)
    contacts = sorted(found.contact_ids)
    conversations = sorted(found.conversation_ids)
    messages = sorted(found.message_ids)
    attachments = list(
        (await session.execute(select(Attachment).where(Attachment.id.in_(sorted(found.attachment_ids))))).scalars()
    )
    targets = [
        (AuditEntry.target_type == "contact") & AuditEntry.target_id.in_(contacts),
        (AuditEntry.target_type == "conversation") & AuditEntry.target_id.in_(conversations),
    ]
    document = {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(),
        "contact_id": contact_id,
        "contacts": await _rows(session, select(Contact).where(Contact.id.in_(contacts)).order_by(Contact.id)),
        "identities": await _rows(
            session,
            select(ContactIdentity).where(ContactIdentity.contact_id.in_(contacts)).order_by(ContactIdentity.id),
        ),
        "notes": await _rows(
            session, select(ContactNote).where(ContactNote.contact_id.in_(contacts)).order_by(ContactNote.id)
        ),
        "conversations": await _rows(
            session, select(Conversation).where(Conversation.id.in_(conversations)).order_by(Conversation.id)
        ),
        "messages": await _rows(session, select(Message).where(Message.id.in_(messages)).order_by(Message.id)),
        "attachments": [
            {**row_dict(a), "file": _file_name(a) if a.storage_key else None}
            for a in sorted(attachments, key=lambda a: a.id)
        ],
        "bot_interactions": await _rows(
            session,
            select(BotInteraction).where(BotInteraction.conversation_id.in_(conversations)).order_by(BotInteraction.id),
        ),
        "script_runs": await _rows(
            session, select(ScriptRun).where(ScriptRun.conversation_id.in_(conversations)).order_by(ScriptRun.id)
        ),
        "audit": await _rows(session, select(AuditEntry).where(or_(*targets)).order_by(AuditEntry.id)),
    }
    return document, [a for a in attachments if a.storage_key and a.state == "stored"]


def _file_name(attachment: Attachment) -> str:
    return f"files/{attachment.id}-{safe_filename(attachment.filename)}"


def build_archive(document: dict[str, Any], attachments: list[Attachment], blobs: BlobStore) -> bytes:
    """The ZIP: export.json plus files/<attachment id>-<name>; a file missing on disk is noted, not fatal."""
    buffer = io.BytesIO()
    missing = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for attachment in attachments:
            assert attachment.storage_key is not None
            try:
                archive.writestr(_file_name(attachment), blobs.read(attachment.storage_key))
            except OSError:
                missing.append(attachment.id)
        archive.writestr(
            "export.json", json.dumps({**document, "missing_files": missing}, ensure_ascii=False, indent=1, default=str)
        )
    return buffer.getvalue()
