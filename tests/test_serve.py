"""`helpline serve` / `make run`: a busy port is refused before anything happens; the banner says where and how."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from helpline.cli import main
from helpline.platform.listener import PortInUse, browser_host, listen

ROOT = Path(__file__).resolve().parents[1]
HELPLINE = Path(sys.executable).parent / "helpline"


@pytest.fixture
def busy() -> Iterator[int]:
    """A port some other program really listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("HELPLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("HELPLINE_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "var"


def test_a_busy_port_is_reported_before_anything_is_migrated_or_seeded(env: Path, busy: int) -> None:
    result = CliRunner().invoke(main, ["serve", "--demo", "--port", str(busy)])
    assert result.exit_code == 1
    match = re.search(
        rf"port {busy} is in use .* try `make run PORT=(\d+)` \(or `helpline serve --port (\d+)`\)", result.output
    )
    assert match is not None, result.output
    suggested = int(match[1])
    assert suggested == int(match[2]) and suggested > busy
    assert not env.exists()  # no data folder, secret key, database or admin
    # The suggestion is really free right now.
    listen("127.0.0.1", suggested).close()


def test_listen_names_a_free_port_and_refuses_the_taken_one(busy: int) -> None:
    with pytest.raises(PortInUse) as caught:
        listen("127.0.0.1", busy)
    assert caught.value.port == busy and caught.value.suggestion is not None and caught.value.suggestion > busy
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("host", "shown"),
    [("0.0.0.0", "127.0.0.1"), ("::", "127.0.0.1"), ("localhost", "localhost"), ("::1", "[::1]")],  # noqa: S104
)
def test_the_banner_url_is_one_a_browser_can_open(host: str, shown: str) -> None:
    assert browser_host(host) == shown


def test_make_run_passes_port_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "some-hostname.example")  # some shells export HOST: it must not leak in
    dry = subprocess.run(
        ["make", "-n", "-s", "run", "PORT=8080"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert dry.strip().splitlines()[-1].endswith("helpline serve --demo --host 127.0.0.1 --port 8080")
    both = subprocess.run(
        ["make", "-n", "-s", "run", "PORT=8081", "HOST=0.0.0.0"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert both.strip().splitlines()[-1].endswith("helpline serve --demo --host 0.0.0.0 --port 8081")


@pytest.mark.slow
def test_the_banner_prints_the_web_url_and_the_admin_credentials(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HELPLINE_DATA_DIR": str(tmp_path / "var"), "HELPLINE_LOG_LEVEL": "WARNING"}
    env.pop("HELPLINE_DATABASE_URL", None)
    env.pop("HELPLINE_BASE_URL", None)
    process = subprocess.Popen(
        [str(HELPLINE), "serve", "--no-demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    # A thread reads the pipe: select() on it misses lines already pulled into Python's buffer.
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("API documentation" in line for line in lines) and time.monotonic() < deadline:
            if process.poll() is not None:
                break
            time.sleep(0.1)
        output = "".join(lines)
        assert f"open http://127.0.0.1:{port}/ in your browser" in output, output
        email = re.search(r"e-mail:\s+(\S+)", output)
        password = re.search(r"password:\s+(\S+)", output)
        assert email and password, output
        saved = (tmp_path / "var" / "initial-admin.txt").read_text()
        assert f"email: {email[1]}" in saved and f"password: {password[1]}" in saved
        login = None
        while login is None and time.monotonic() < deadline:
            try:
                login = httpx.post(
                    f"http://127.0.0.1:{port}/api/v1/auth/login",
                    json={"email": email[1], "password": password[1]},
                    timeout=5,
                )
            except httpx.TransportError:
                time.sleep(0.2)
        assert login is not None and login.status_code == 200, login
    finally:
        process.terminate()
        process.wait(timeout=20)
        reader.join(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
