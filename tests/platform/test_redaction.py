"""No secret from a URL reaches a log line: access logs (uvicorn), the HTTP client's log (httpx), our own."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from uvicorn.logging import AccessFormatter
from websockets.asyncio.client import connect

from helpline.platform import redaction
from helpline.platform.redaction import redact
from tests.e2e.conftest import serve_app

SESSION_TOKEN = "hl_S3ssionT0kenThatMustNeverBeLogged"
VERIFY_TOKEN = "verify-T0ken-in-the-query"
SIGNATURE = "deadbeefc0ffee0123456789"
TICKET = "hlt_RealtimeTicketThatMustNeverBeLogged"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=abc&hub.challenge=9",
            "GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=9",
        ),
        ("GET /webhooks/meta?hub%2Everify_token=abc", "GET /webhooks/meta?hub%2Everify_token=[redacted]"),
        ("/api/v1/realtime?token=hl_x&last_event_id=5", "/api/v1/realtime?token=[redacted]&last_event_id=5"),
        ("/api/v1/realtime?ticket=hlt_x&last_event_id=5", "/api/v1/realtime?ticket=[redacted]&last_event_id=5"),
        ("/a/1/public?expires=99&sig=abc HTTP/1.1", "/a/1/public?expires=99&sig=[redacted] HTTP/1.1"),
        (
            "https://g/debug_token?input_token=EAA&ACCESS_TOKEN=1|2",
            "https://g/debug_token?input_token=[redacted]&ACCESS_TOKEN=[redacted]",
        ),
        ("/api/v1/conversations?status=open&limit=5", "/api/v1/conversations?status=open&limit=5"),
        ("no url here: token=1", "no url here: token=1"),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Every record of the loggers that print URLs, formatted as their handlers would."""
    capture = Capture()
    capture.setFormatter(logging.Formatter("%(name)s %(message)s"))
    names = ("uvicorn.access", "uvicorn.error", "httpx", "helpline")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
    yield capture
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(capture)
        logger.setLevel(level)


async def test_secrets_in_urls_never_reach_a_log_line(tmp_path: Path, db_url: str, captured: Capture) -> None:
    async with serve_app(tmp_path, db_url, run_workers=False, meta_verify_token=VERIFY_TOKEN) as live:
        # uvicorn configures its loggers at start; capture from here on, with its own access formatter.
        # Also through uvicorn's own access formatter, which unpacks the record's arguments.
        access = Capture()
        access.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
        access_logger = logging.getLogger("uvicorn.access")
        access_logger.setLevel(logging.INFO)
        access_logger.addHandler(captured)
        access_logger.addHandler(access)
        # The websocket handshake line ("WebSocket /api/v1/realtime?… [accepted]") goes to uvicorn.error.
        # uvicorn's log config replaced the handlers the fixture set; add ours back.
        handshake_logger = logging.getLogger("uvicorn.error")
        handshake_logger.setLevel(logging.INFO)
        handshake_logger.addHandler(captured)
        verify = await live.client.get(
            "/webhooks/meta",
            params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
        )
        assert verify.status_code == 200
        signed = await live.client.get(f"/api/v1/attachments/1/public?expires=1&sig={SIGNATURE}")
        assert signed.status_code == 403
        async with connect(f"{live.ws_url}?token={SESSION_TOKEN}", open_timeout=10) as ws:
            await ws.wait_closed()
        async with connect(f"{live.ws_url}?ticket={TICKET}&last_event_id=3", open_timeout=10) as ws:
            await ws.wait_closed()
        access_logger.removeHandler(access)
    # The HTTP client's own log line carries the full URL too.
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    async with httpx.AsyncClient(transport=transport) as graph:
        await graph.get("https://graph.test/v21.0/debug_token", params={"input_token": SESSION_TOKEN})
    logging.getLogger("helpline.test").info("fetched %s", f"https://x.test/file?sig={SIGNATURE}")

    text = "\n".join(captured.lines + access.lines)
    assert any("/webhooks/meta?" in line for line in access.lines), access.lines
    assert "/webhooks/meta" in text and "debug_token" in text and "fetched" in text, text
    assert "[redacted]" in text
    assert any("ticket=[redacted]&last_event_id=3" in line for line in access.lines + captured.lines), text
    for secret in (SESSION_TOKEN, VERIFY_TOKEN, SIGNATURE, TICKET):
        assert secret not in text, text


def test_install_is_idempotent() -> None:
    redaction.install()
    factory = logging.getLogRecordFactory()
    redaction.install()
    assert logging.getLogRecordFactory() is factory
