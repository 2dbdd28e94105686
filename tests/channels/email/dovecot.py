"""The email tests' real IMAP server: a private Dovecot (helpline.sandbox.dovecot) with a pool of users.

Without the `dovecot` binary the tests skip — or fail when HELPLINE_TEST_REQUIRE_SERVICES=1 (CI installs
`dovecot-imapd`, see .ci/run).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpline.sandbox.dovecot import DovecotFailed, PrivateDovecot, dovecot_binary

REQUIRE = os.environ.get("HELPLINE_TEST_REQUIRE_SERVICES") == "1"
PASSWORD = "imap-password"
USERS = 200


@dataclass
class Dovecot:
    host: str
    port: int
    root: Path
    users: list[str]

    def add_user(self) -> str:
        """A mailbox of its own for one test: the next unused user of the passwd-file."""
        return self.users.pop(0)

    @contextlib.contextmanager
    def session(self, user: str) -> Iterator[imaplib.IMAP4]:
        """A plain imaplib session as the mailbox owner's mail client (seeding, checking flags)."""
        client = imaplib.IMAP4(self.host, self.port)
        client.login(user, PASSWORD)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, user: str, raw: bytes, mailbox: str = "INBOX") -> None:
        with self.session(user) as client:
            typ, data = client.append(mailbox, None, None, raw)
            assert typ == "OK", data

    def flags(self, user: str, mailbox: str = "INBOX") -> list[bytes]:
        with self.session(user) as client:
            client.select(mailbox, readonly=True)
            _typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
            return [item for item in data if isinstance(item, bytes)]


def start_dovecot() -> Iterator[Dovecot]:
    if dovecot_binary() is None:
        message = "Dovecot is not installed (apt-get install dovecot-imapd)"
        if REQUIRE:
            pytest.fail(message + " and HELPLINE_TEST_REQUIRE_SERVICES=1")
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="helpline-dovecot-"))
    users = [f"support{n}@helpline.test" for n in range(USERS)]
    server = PrivateDovecot(root, dict.fromkeys(users, PASSWORD))
    try:
        server.start()
    except DovecotFailed as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(str(exc))
    try:
        yield Dovecot(server.host, server.port, root, users)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
