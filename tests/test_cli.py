"""The `helpline` command: db upgrade, and the first admin created on first start."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpline.cli import _ensure_first_admin, main
from helpline.settings import load_settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("HELPLINE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "var"


def test_db_upgrade_creates_the_schema(env: Path) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables = {row[0] for row in sqlite3.connect(env / "helpline.db").execute("select name from sqlite_master")}
    assert {"conversations", "messages", "outbox", "operators", "contact_identities"} <= tables


def test_first_admin_is_created_once(env: Path) -> None:
    CliRunner().invoke(main, ["db", "upgrade"])
    settings = load_settings()
    created = asyncio.run(_ensure_first_admin(settings))
    assert created is not None
    _email, password = created
    assert f"password: {password}" in (env / "initial-admin.txt").read_text()
    assert asyncio.run(_ensure_first_admin(settings)) is None
    row = sqlite3.connect(env / "helpline.db").execute("select role, password_hash from operators").fetchall()
    assert len(row) == 1 and row[0][0] == "admin" and password not in row[0][1]


def test_invalid_configuration_is_a_clear_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", "oracle://x")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0
    assert "HELPLINE_DATABASE_URL" in result.output
