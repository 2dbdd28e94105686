"""Meta settings for these tests; outbound HTTP goes to the scripted peer of tests/channels/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.settings import Settings
from tests.channels.meta_support import meta_settings


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    result: Settings = meta_settings(tmp_path, db_url)
    return result
