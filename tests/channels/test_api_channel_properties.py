"""Property test of the API channel's inbound route: any text in the text, the name or a file name → 200 and
stored cleaned, or a 4xx; never a 5xx. Runs on SQLite and PostgreSQL (NUL is refused only there)."""

from __future__ import annotations

import base64
import itertools
import json

import httpx
from sqlalchemy import select

from helpline.attachments.models import Attachment
from helpline.contacts.models import Contact
from helpline.conversations.models import Message
from helpline.platform.sanitize import clean_inbound_text
from helpline.runtime import Runtime
from tests.channels.test_meta_properties import ANY_TEXT, run_property
from tests.conftest import World
from tests.support import signed_inbound

_ids = itertools.count()
PDF = base64.b64encode(b"%PDF-1.4 any text").decode()


async def test_any_text_in_the_text_name_or_file_name_is_stored_cleaned_never_a_5xx(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    async def check(text: str) -> None:
        n = next(_ids)
        payload = {
            "contact": {"id": f"prop-{n}", "name": text},
            "message": {
                "id": f"prop-m-{n}",
                "text": text,
                "attachments": [{"filename": text or "x", "content_type": "application/pdf", "data": PDF}],
            },
        }
        body, headers = signed_inbound(world.channel_secret, payload)  # ASCII JSON: lone surrogates as escapes
        response = await client.post(f"/api/v1/channels/{world.channel_id}/inbound", content=body, headers=headers)
        assert response.status_code < 500, response.text
        if response.status_code != 200:
            # Only what the documented payload refuses (a file name of blanks, one over 255 characters).
            assert response.status_code == 422, response.text
            return
        expected = clean_inbound_text(json.loads(json.dumps(text)).strip())
        async with runtime.db.reads() as session:
            message = (
                await session.execute(select(Message).where(Message.provider_message_id == f"prop-m-{n}"))
            ).scalar_one()
            files = list(
                (await session.execute(select(Attachment).where(Attachment.message_id == message.id))).scalars()
            )
            contact = (await session.execute(select(Contact).where(Contact.name == (expected or None)))).first()
        assert (message.text or "") == expected
        [stored] = files
        assert "\x00" not in stored.filename and not any(0xD800 <= ord(c) <= 0xDFFF for c in stored.filename)
        assert expected == "" or contact is not None

    await run_property(ANY_TEXT, check)
