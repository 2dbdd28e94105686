"""The server's listening socket, bound before anything else starts, so a busy port is reported up front."""

from __future__ import annotations

import errno
import socket

SEARCH = 20  # how many following ports to try for a suggestion


class PortInUse(Exception):
    """`port` on `host` is taken; `suggestion` is a nearby free port, or None when none of the next few is."""

    def __init__(self, host: str, port: int, suggestion: int | None) -> None:
        super().__init__(f"port {port} on {host} is in use")
        self.host, self.port, self.suggestion = host, port, suggestion


def _socket_for(host: str, port: int) -> tuple[socket.socket, tuple[object, ...]]:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    # As uvicorn does: a previous run's connections in TIME_WAIT must not block a restart.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock, address


def _free(host: str, port: int) -> bool:
    sock, address = _socket_for(host, port)
    try:
        sock.bind(address)
        sock.listen()
    except OSError:
        return False
    finally:
        sock.close()
    return True


def listen(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A socket bound to (host, port) and listening; connections wait in the backlog until the server runs.

    Raises PortInUse (with a free port among the next SEARCH as a suggestion) when the address is taken, and
    OSError for other failures (e.g. a host name that is not this machine's).
    """
    sock, address = _socket_for(host, port)
    try:
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if exc.errno != errno.EADDRINUSE:
            raise
        suggestion = next((p for p in range(port + 1, min(port + 1 + SEARCH, 65536)) if _free(host, p)), None)
        raise PortInUse(host, port, suggestion) from None
    return sock


def browser_host(host: str) -> str:
    """The host to put in a URL for a browser on this machine: a wildcard bind is reached on loopback."""
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - comparing, not binding
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
