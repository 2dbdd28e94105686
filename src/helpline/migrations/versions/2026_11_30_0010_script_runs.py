"""bot script runs: the answers each run of a script collected, one row per run

Revision ID: 0010_script_runs
Revises: 0009_early_changes
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.platform.db

revision: str = "0010_script_runs"
down_revision: str | Sequence[str] | None = "0009_early_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bot_script_runs",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("script_id", _ID, nullable=True),
        sa.Column("script_key", sa.String(length=100), nullable=False),
        sa.Column("script_name", sa.String(length=200), nullable=False),
        sa.Column("script_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("end", sa.String(length=16), nullable=False),
        sa.Column("end_status", sa.String(length=16), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("finished_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_bot_script_runs_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["bot_scripts.id"],
            name=op.f("fk_bot_script_runs_script_id_bot_scripts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_script_runs")),
    )
    with op.batch_alter_table("bot_script_runs", schema=None) as batch_op:
        batch_op.create_index("ix_bot_script_runs_conversation", ["conversation_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("bot_script_runs")
