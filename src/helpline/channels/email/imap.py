"""One IMAP session on one mailbox (IMAPClient, blocking: the poller runs each call in a thread).

IMAPClient (BSD) speaks UIDs by default, has IDLE (RFC 2177) and SASL XOAUTH2, and runs on Python 3.11
(the standard library's `imaplib` has IDLE only from 3.14; aioimaplib is GPL-3.0). The mailbox is opened
read-only (EXAMINE) and fetched with BODY.PEEK[], so Helpline never changes its flags (RFC 3501 §6.4.5).
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass
from datetime import UTC, date, datetime

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

TIMEOUT_SECONDS = 60.0


class MailboxLoginRefused(Exception):
    """The server refused the credentials: the channel needs re-authorising."""


@dataclass(frozen=True)
class FetchedMail:
    uid: int
    raw: bytes
    internal_date: datetime | None


class ImapMailbox:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        mailbox: str,
        username: str,
        password: str | None = None,
        access_token: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.security, self.mailbox = host, port, security, mailbox
        self.username, self.password, self.access_token = username, password, access_token
        self.tls_context = tls_context or ssl.create_default_context()
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self.uidnext = 0
        self.idle_supported = False

    def open(self) -> None:
        """Connect, log in (password or XOAUTH2), EXAMINE the mailbox. Raises MailboxLoginRefused, OSError,
        imapclient errors."""
        client = IMAPClient(
            self.host,
            port=self.port,
            ssl=self.security == "tls",
            ssl_context=self.tls_context,
            timeout=TIMEOUT_SECONDS,
        )
        self.client = client
        try:
            if self.security == "starttls":
                client.starttls(self.tls_context)
            try:
                if self.access_token is not None:
                    client.oauth2_login(self.username, self.access_token)
                else:
                    client.login(self.username, self.password or "")
            except LoginError as exc:
                # RFC 5530: [UNAVAILABLE] is the server's own trouble (retry later), not a wrong credential.
                if "UNAVAILABLE" in str(exc):
                    raise ConnectionError(f"the IMAP server cannot log in now: {exc}") from exc
                raise MailboxLoginRefused(str(exc)) from exc
            info = client.select_folder(self.mailbox, readonly=True)
        except BaseException:
            self.close()
            raise
        self.uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        self.uidnext = int(info.get(b"UIDNEXT", 0))
        self.idle_supported = client.has_capability("IDLE")

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise RuntimeError("mailbox not open")
        return self.client

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, ascending. `n:*` always matches the highest message, even below n
        (RFC 3501 §6.4.8), hence the filter."""
        found = self._client().search(["UID", f"{last_uid + 1}:*"])
        return sorted(int(u) for u in found if int(u) > last_uid)

    def uids_since(self, day: date) -> list[int]:
        """UIDs of messages whose internal date is on or after `day` (SEARCH SINCE, RFC 3501 §6.4.4)."""
        return sorted(int(u) for u in self._client().search(["SINCE", day]))

    def fetch(self, uids: list[int]) -> list[FetchedMail]:
        """The whole messages, without setting \\Seen; a UID expunged meanwhile is simply absent."""
        if not uids:
            return []
        response = self._client().fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
        result = []
        for uid in uids:
            data = response.get(uid)
            if not data:
                continue
            raw = data.get(b"BODY[]")
            when = data.get(b"INTERNALDATE")
            if isinstance(raw, bytes):
                # IMAPClient gives INTERNALDATE as naive local time (normalise_times): make it aware, in UTC.
                stamp = when.astimezone(UTC) if isinstance(when, datetime) else None
                result.append(FetchedMail(uid, raw, stamp))
        return result

    def wait_for_news(self, seconds: float) -> bool:
        """IDLE for up to `seconds` (RFC 2177: re-issued well within 29 minutes by the caller); True when the
        server announced something (EXISTS, EXPUNGE…)."""
        client = self._client()
        client.idle()
        try:
            responses = client.idle_check(timeout=seconds)
        finally:
            client.idle_done()
        return bool(responses)

    def abort(self) -> None:
        """Shut the connection from another thread, so a blocked IDLE wait returns at once (on shutdown)."""
        client = self.client
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection may already be gone; nothing left to release
            client.shutdown() if hasattr(client, "shutdown") else None
