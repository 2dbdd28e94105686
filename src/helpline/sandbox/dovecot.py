"""A private Dovecot IMAP server on loopback (the demo's mailbox, and the email tests' real IMAP server).

Nothing system-wide is touched: config, sockets, state and mail live in one folder. As root, Dovecot's login
and internal processes run as the `dovenull` / `dovecot` users the Debian package (`dovecot-imapd`) creates
and mail is stored as `dovecot`; as anyone else everything runs as that user. Settings use Dovecot 2.3 names.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def dovecot_binary() -> str | None:
    """The `dovecot` executable, or None when the package is not installed."""
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DovecotFailed(RuntimeError):
    pass


@dataclass
class PrivateDovecot:
    """Start with `start()`, stop with `stop()`. `users` maps logins to plain passwords (written before the
    start: Dovecot reads the passwd-file again only when its mtime changes)."""

    root: Path
    users: dict[str, str]
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        root = self.root
        if os.geteuid() == 0:
            login_user, internal_user = "dovenull", "dovecot"
            mail_user = pwd.getpwnam("dovecot")
            os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        else:
            mail_user = pwd.getpwuid(os.getuid())
            login_user = internal_user = mail_user.pw_name
        return f"""
protocols = imap
listen = {self.host}
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
    port = {self.port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""

    def start(self, timeout: float = 20.0) -> None:
        """Write the config and start Dovecot in the foreground of a child process; return once it greets.
        Raises DovecotFailed (with its log) when it does not."""
        binary = dovecot_binary()
        if binary is None:
            raise DovecotFailed("Dovecot is not installed (apt-get install dovecot-imapd)")
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the login process (another user when run as root) must reach its sockets
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        (self.root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()))
        (self.root / "dovecot.conf").write_text(self._config())
        self.process = subprocess.Popen(  # noqa: S603 - our own config, a fixed binary
            [binary, "-F", "-c", str(self.root / "dovecot.conf")], stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise DovecotFailed(f"Dovecot exited: {self.log()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise DovecotFailed(f"Dovecot did not answer on port {self.port}: {self.log()[-2000:]}")
            time.sleep(0.1)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
