"""Privacy tests run with a Meta app secret configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.settings import Settings
from tests.conftest import make_settings

META_APP_SECRET = "meta-app-secret-for-tests"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url, meta_app_secret=META_APP_SECRET, company_name="Segurozinho <Seguros>")
