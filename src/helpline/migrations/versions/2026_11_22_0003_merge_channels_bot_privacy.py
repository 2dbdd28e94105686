"""merge the Meta templates, bot and privacy branches

Revision ID: 0003
Revises: 0002_bot, 0002_meta_templates, 0002_privacy
Create Date: 2026-11-22 16:05:00
"""

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = ("0002_bot", "0002_meta_templates", "0002_privacy")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
