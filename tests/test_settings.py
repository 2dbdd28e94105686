"""Settings: defaults, validation with readable messages, the generated secret key, .env support."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BASE_URL", "DATA_DIR"):
        monkeypatch.delenv(f"HELPLINE_{name}", raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_put_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'helpline.db').resolve()}"
    assert settings.redis_url == ""
    assert settings.is_sqlite


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path / "data").secret_key
    second = load_settings(data_dir=tmp_path / "data").secret_key
    assert len(first) >= 40
    assert first == second
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0


def test_invalid_values_name_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", "mysql://root@localhost/x")
    monkeypatch.setenv("HELPLINE_BASE_URL", "example.com")
    with pytest.raises(SettingsError) as caught:
        load_settings(data_dir=tmp_path)
    message = str(caught.value)
    assert "HELPLINE_DATABASE_URL" in message
    assert "HELPLINE_BASE_URL" in message


def test_postgres_urls_get_the_async_driver(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="postgresql://u@h/db")
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert not settings.is_sqlite


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "HELPLINE_REDIS_URL=redis://127.0.0.1:6379/3\nHELPLINE_BASE_URL=https://x.example/\n"
    )
    settings = load_settings(data_dir=tmp_path / "d")
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
    assert settings.base_url == "https://x.example"
    assert settings.secure_cookies
