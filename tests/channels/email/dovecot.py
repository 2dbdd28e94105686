"""A private Dovecot IMAP server on loopback for the tests: its own config, maildir and passwd-file users.

Nothing system-wide is touched: config, sockets, state and mail live in one temporary folder, removed at the
end. As root (CI) Dovecot's login and internal processes run as the `dovenull` / `dovecot` users the Debian
package creates, and mail is stored as `dovecot`; as anyone else everything runs as that user.
Without the `dovecot` binary the tests skip — or fail when HELPLINE_TEST_REQUIRE_SERVICES=1 (CI installs
`dovecot-imapd`, see .ci/run).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.channels.email.smtp_server import free_port

REQUIRE = os.environ.get("HELPLINE_TEST_REQUIRE_SERVICES") == "1"
PASSWORD = "imap-password"
USERS = 200


def _binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if Path(p).exists()), None)


@dataclass
class Dovecot:
    host: str
    port: int
    root: Path

    users: list[str]

    def add_user(self, prefix: str = "") -> str:
        """A mailbox of its own for one test: the next unused passwd-file user (written before start, as
        Dovecot caches the file between its mtime checks)."""
        return self.users.pop(0)

    @contextlib.contextmanager
    def session(self, user: str) -> Iterator[imaplib.IMAP4]:
        """A plain imaplib session as the mail client of the mailbox's owner (seeding, checking flags)."""
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
    binary = _binary()
    if binary is None:
        message = "Dovecot is not installed (apt-get install dovecot-imapd)"
        if REQUIRE:
            pytest.fail(message + " and HELPLINE_TEST_REQUIRE_SERVICES=1")
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="helpline-dovecot-"))
    root.chmod(0o755)  # the login process (another user when run as root) must reach its sockets
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        login_user, internal_user = "dovenull", "dovecot"
        mail_user = pwd.getpwnam("dovecot")
        os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
    else:
        login_user = internal_user = pwd.getpwuid(os.getuid()).pw_name
        mail_user = pwd.getpwuid(os.getuid())
    port = free_port()
    users = [f"support{n}@helpline.test" for n in range(USERS)]
    (root / "passwd").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n" for user in users))
    (root / "dovecot.conf").write_text(
        f"""
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {min(mail_user.pw_uid, 100)}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""
    )
    process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"Dovecot did not start: {stderr} {log}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Dovecot did not answer on port {port}")
            time.sleep(0.1)
        yield Dovecot("127.0.0.1", port, root, users)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)
