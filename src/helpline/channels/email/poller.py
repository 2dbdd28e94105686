"""The mailbox reader the workers run per email channel: IDLE or poll, fetch, ingest, advance the cursor.

At least once, never twice: the cursor (UIDVALIDITY + last UID, `mailbox_cursors`) moves only after a mail
was committed, and ingest drops a Message-ID it already stored — a reader killed mid-fetch reads the same
mails again and loses none. A UIDVALIDITY change invalidates every stored UID (RFC 3501 §2.3.1.1): the
reader then re-reads the days since it last advanced and lets Message-ID dedupe drop what it had. One reader
per mailbox across all processes: a lease row (`mailbox_leases`) renewed every cycle.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from helpline.channels.actions import channel_config, mark_needs_reauth
from helpline.channels.base import DeliveryError, InboundAttachment, InboundContact, InboundEvent, InboundMessage
from helpline.channels.email import oauth
from helpline.channels.email.adapter import EmailAdapter
from helpline.channels.email.imap import FetchedMail, ImapMailbox, MailboxLoginRefused
from helpline.channels.email.models import MailboxCursor, MailboxLease
from helpline.channels.models import Channel
from helpline.conversations.ingest import ingest_events
from helpline.platform.clock import utcnow
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
FETCH_BATCH = 20
MAX_BACKOFF_SECONDS = 300.0
# After a UIDVALIDITY change, mail received since the cursor last moved (minus this margin) is read again.
RESYNC_MARGIN = timedelta(days=1)


def new_holder() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def hold_lease(runtime: Runtime, channel_id: int, holder: str, seconds: float | None = None) -> bool:
    """Take or renew the mailbox's lease; False while another live holder has it. Atomic on both databases:
    a conditional UPDATE, else an INSERT whose primary-key conflict means someone else won."""
    now = utcnow()
    until = now + timedelta(seconds=LEASE_SECONDS if seconds is None else seconds)
    async with runtime.db.transaction() as session:
        result = await session.execute(
            update(MailboxLease)
            .where(
                MailboxLease.channel_id == channel_id,
                (MailboxLease.holder == holder) | (MailboxLease.expires_at < now),
            )
            .values(holder=holder, expires_at=until)
        )
        if getattr(result, "rowcount", 0):
            return True
    try:
        async with runtime.db.transaction() as session:
            if await session.get(MailboxLease, channel_id) is not None:
                return False
            session.add(MailboxLease(channel_id=channel_id, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


async def release_lease(runtime: Runtime, channel_id: int, holder: str) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(
            delete(MailboxLease).where(MailboxLease.channel_id == channel_id, MailboxLease.holder == holder)
        )


async def _load(runtime: Runtime, channel_id: int) -> Channel | None:
    async with runtime.db.reads() as session:
        channel = await session.get(Channel, channel_id)
    return channel if channel is not None and channel.status == "active" else None


def unreadable_mail(fetched: FetchedMail, error: BaseException) -> InboundMessage:
    """What is kept of a mail the parser failed on: the error, and the bytes as an attachment."""
    digest = uuid.uuid5(uuid.NAMESPACE_OID, fetched.raw[:65536].hex()).hex
    return InboundMessage(
        contact=InboundContact(provider_id="unknown-sender@helpline.invalid"),
        provider_message_id=f"unreadable-{digest}@helpline.invalid",
        text="(a mail Helpline could not read; the original is attached)",
        timestamp=fetched.internal_date,
        content={"email": {"errors": [f"{type(error).__name__}: {error}"[:500]]}},
        attachments=(InboundAttachment("original.eml", "message/rfc822", data=fetched.raw),),
        starts_thread=True,
        automated=True,
    )


class MailboxReader:
    """One session: open the mailbox, then sync / wait until the lease is lost or the channel changed."""

    def __init__(self, runtime: Runtime, channel: Channel, holder: str) -> None:
        self.runtime = runtime
        self.channel = channel
        self.holder = holder
        self.adapter = EmailAdapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
        self.settings = self.adapter.settings
        self.box: ImapMailbox | None = None

    async def open(self) -> ImapMailbox:
        token = await self.adapter.oauth_access_token()
        box = ImapMailbox(
            host=self.settings.imap_host,
            port=self.settings.imap_port,
            security=self.settings.imap_security,
            mailbox=self.settings.mailbox,
            username=self.adapter.username,
            password=self.adapter.credentials.password if token is None else None,
            access_token=token,
        )
        await asyncio.to_thread(box.open)
        self.box = box
        await self._persist_rotated_token()
        return box

    async def _persist_rotated_token(self) -> None:
        rotated = oauth.take_rotated(self.channel.id)
        if rotated is None:
            return
        async with self.runtime.db.transaction() as session:
            row = await session.get(Channel, self.channel.id, with_for_update=True)
            if row is not None:
                credentials = self.runtime.box.open(row.credentials)
                row.credentials = self.runtime.box.seal({**credentials, "oauth_refresh_token": rotated})

    async def _cursor_start(self, box: ImapMailbox) -> tuple[int, list[int] | None]:
        """(last UID read, UIDs to re-read after a UIDVALIDITY change or None)."""
        async with self.runtime.db.transaction() as session:
            cursor = await session.get(MailboxCursor, (self.channel.id, self.settings.mailbox), with_for_update=True)
            if cursor is None:
                # A new channel starts with the mail that arrives from now on, not years of history.
                start = max(box.uidnext - 1, 0) if box.uidnext else 0
                session.add(
                    MailboxCursor(
                        channel_id=self.channel.id,
                        mailbox=self.settings.mailbox,
                        uidvalidity=box.uidvalidity,
                        last_uid=start,
                    )
                )
                return start, None
            if cursor.uidvalidity == box.uidvalidity:
                return cursor.last_uid, None
            log.warning(
                "channel %s: UIDVALIDITY of %s changed (%s → %s); re-reading since %s",
                self.channel.id,
                self.settings.mailbox,
                cursor.uidvalidity,
                box.uidvalidity,
                cursor.updated_at,
            )
            since = (cursor.updated_at - RESYNC_MARGIN).date()
            cursor.uidvalidity, cursor.last_uid = box.uidvalidity, 0
        return 0, await asyncio.to_thread(box.uids_since, since)

    async def _advance(self, uidvalidity: int, uid: int) -> None:
        async with self.runtime.db.transaction() as session:
            await session.execute(
                update(MailboxCursor)
                .where(
                    MailboxCursor.channel_id == self.channel.id,
                    MailboxCursor.mailbox == self.settings.mailbox,
                    MailboxCursor.uidvalidity == uidvalidity,
                    MailboxCursor.last_uid < uid,
                )
                .values(last_uid=uid, updated_at=utcnow())
            )

    async def sync(self) -> int:
        """Read every mail past the cursor; returns how many were handed to ingest."""
        box = self.box or await self.open()
        last, resync = await self._cursor_start(box)
        uids = resync if resync is not None else await asyncio.to_thread(box.uids_after, last)
        done = 0
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            for fetched in await asyncio.to_thread(box.fetch, batch):
                await ingest_events(self.runtime, self.channel, self.events(fetched))
                await self._advance(box.uidvalidity, fetched.uid)
                done += 1
        return done

    def events(self, fetched: FetchedMail) -> list[InboundEvent]:
        try:
            return self.adapter.events_from_mail(fetched.raw, received_at=fetched.internal_date)
        except Exception as exc:  # the parser never raises by design; a bug there must not lose the mail
            log.exception("channel %s: mail UID %s could not be parsed", self.channel.id, fetched.uid)
            return [unreadable_mail(fetched, exc)]

    async def wait(self) -> bool:
        """Wait a while: IDLE when offered (True as soon as the server announces news), else sleep; never
        longer than the poll interval or a third of the lease, so the lease is renewed in time."""
        box = self.box
        limit = min(self.settings.poll_interval_seconds, LEASE_SECONDS / 3)
        if box is not None and box.idle_supported and self.settings.use_idle:
            try:
                return await asyncio.to_thread(box.wait_for_news, limit)
            except asyncio.CancelledError:
                box.abort()  # the thread would otherwise sit in IDLE (and hold up the process's exit)
                self.box = None
                raise
        await asyncio.sleep(limit)
        return False

    async def close(self) -> None:
        if self.box is not None:
            await asyncio.to_thread(self.box.close)
            self.box = None


async def read_mailbox(runtime: Runtime, channel_id: int, holder: str, *, once: bool = False) -> None:
    """One reading session while this process holds the lease. Returns when the lease is gone, the channel
    changed or was disabled (or after one sync when `once`); connection errors propagate."""
    channel = await _load(runtime, channel_id)
    if channel is None or not await hold_lease(runtime, channel_id, holder):
        return
    reader = MailboxReader(runtime, channel, holder)
    try:
        next_sync = 0.0
        while True:
            if reader.box is None or time.monotonic() >= next_sync:
                await reader.sync()
                next_sync = time.monotonic() + reader.settings.poll_interval_seconds
            if once:
                return
            if await reader.wait():
                next_sync = 0.0  # the server announced news: read now
            current = await _load(runtime, channel_id)
            if current is None or current.updated_at != channel.updated_at:
                return
            if not await hold_lease(runtime, channel_id, holder):
                return
    finally:
        await reader.close()


async def read_mailbox_forever(runtime: Runtime, channel_id: int) -> None:
    """The workers' task per email channel: read sessions with backoff on errors; a refused login flags the
    channel needs-reauth and stops. Never raises (except cancellation)."""
    holder = new_holder()
    backoff = 1.0
    try:
        while True:
            if await _load(runtime, channel_id) is None:
                return
            try:
                await read_mailbox(runtime, channel_id, holder)
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except MailboxLoginRefused as exc:
                await _needs_reauth(runtime, channel_id, f"the IMAP server refused the login: {exc}")
                return
            except DeliveryError as exc:
                if exc.needs_reauth:
                    await _needs_reauth(runtime, channel_id, exc.reason)
                    return
                log.warning("channel %s: mailbox not reachable: %s", channel_id, exc.reason)
            except OSError as exc:
                # The mail server is down or not reachable (refused, reset, timed out): an expected outage, not
                # a bug — one line without a traceback, then the same backoff.
                log.warning(
                    "channel %s: mailbox not reachable (%s); retrying in %.0f s",
                    channel_id,
                    exc,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            except Exception:
                log.exception("channel %s: reading the mailbox failed; retrying in %.0f s", channel_id, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            await asyncio.sleep(min(LEASE_SECONDS / 6, 10.0))
    finally:
        try:
            await release_lease(runtime, channel_id, holder)
        except Exception:
            log.debug("channel %s: lease not released (it lapses on its own)", channel_id)


async def _needs_reauth(runtime: Runtime, channel_id: int, reason: str) -> None:
    log.warning("channel %s needs re-authorising: %s", channel_id, reason)
    async with runtime.db.transaction() as session:
        await mark_needs_reauth(session, channel_id, reason)
