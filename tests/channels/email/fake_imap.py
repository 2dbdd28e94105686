"""A small IMAP4rev1 server in Python that signs in by SASL XOAUTH2 only, as Gmail and Microsoft 365 do.

Dovecot (the tests' real IMAP server) would need an OAuth introspection service for XOAUTH2; this fake
speaks just what Helpline's reader sends (CAPABILITY, AUTHENTICATE XOAUTH2, EXAMINE, UID SEARCH, UID FETCH
BODY.PEEK[], NOOP, LOGOUT), answering in RFC 3501 / RFC 7628 form, and accepts one bearer token.
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass, field

CAPABILITIES = "IMAP4rev1 AUTH=XOAUTH2"


@dataclass
class FakeImap:
    token: str
    mails: list[bytes] = field(default_factory=list)
    uidvalidity: int = 7
    logins: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._session, self.host, 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        send(f"* OK [CAPABILITY {CAPABILITIES}] fake IMAP ready")
        authenticated = False
        try:
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                tag, _, rest = line.partition(" ")
                command = rest.upper()
                if command == "CAPABILITY":
                    send(f"* CAPABILITY {CAPABILITIES}")
                    send(f"{tag} OK CAPABILITY completed")
                elif command.startswith("AUTHENTICATE XOAUTH2"):
                    send("+ ")
                    await writer.drain()
                    response = base64.b64decode((await reader.readline()).strip()).decode()
                    fields = dict(part.split("=", 1) for part in response.split("\x01") if "=" in part)
                    self.logins.append(fields.get("user", ""))
                    if fields.get("auth") == f"Bearer {self.token}":
                        authenticated = True
                        send(f"{tag} OK AUTHENTICATE completed")
                    else:
                        send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)")
                elif command.startswith(("EXAMINE", "SELECT")) and authenticated:
                    send(f"* {len(self.mails)} EXISTS")
                    send(f"* OK [UIDVALIDITY {self.uidvalidity}] UIDs valid")
                    send(f"* OK [UIDNEXT {len(self.mails) + 1}] Predicted next UID")
                    send(f"{tag} OK [READ-ONLY] EXAMINE completed")
                elif command.startswith("UID SEARCH") and authenticated:
                    match = re.search(r"UID (\d+):\*", command)
                    low = int(match.group(1)) if match else 1
                    uids = [str(u) for u in range(1, len(self.mails) + 1) if u >= low] or [str(len(self.mails))]
                    send("* SEARCH " + " ".join(u for u in uids if u != "0"))
                    send(f"{tag} OK SEARCH completed")
                elif command.startswith("UID FETCH") and authenticated:
                    wanted = [int(u) for u in re.findall(r"\d+", command.split()[2])]
                    for uid in wanted:
                        if 1 <= uid <= len(self.mails):
                            raw = self.mails[uid - 1]
                            when = '"30-Nov-2026 10:00:00 +0000"'
                            head = f"* {uid} FETCH (UID {uid} INTERNALDATE {when} BODY[] {{{len(raw)}}}"
                            writer.write(head.encode() + b"\r\n" + raw + b")\r\n")
                    send(f"{tag} OK FETCH completed")
                elif command == "NOOP":
                    send(f"{tag} OK NOOP completed")
                elif command == "LOGOUT":
                    send("* BYE logging out")
                    send(f"{tag} OK LOGOUT completed")
                    break
                else:
                    send(f"{tag} BAD unknown or not allowed: {command[:40]}")
                await writer.drain()
        finally:
            writer.close()
