"""bot: scripts and versions, articles, interaction log

Revision ID: 0002_bot
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.platform.db

revision: str = "0002_bot"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "bot_scripts",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("end_action_secret", sa.Text(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_scripts")),
        sa.UniqueConstraint("key", name=op.f("uq_bot_scripts_key")),
    )
    op.create_table(
        "bot_script_versions",
        sa.Column("script_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", _ID, nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["bot_scripts.id"],
            name=op.f("fk_bot_script_versions_script_id_bot_scripts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["operators.id"],
            name=op.f("fk_bot_script_versions_created_by_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_script_versions")),
        sa.UniqueConstraint("script_id", "version", name=op.f("uq_bot_script_versions_script_id_version")),
    )
    with op.batch_alter_table("bot_script_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_script_versions_script_id"), ["script_id"], unique=False)

    op.create_table(
        "bot_articles",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_articles")),
    )
    op.create_table(
        "bot_interactions",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_bot_interactions_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_bot_interactions_message_id_messages"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_interactions")),
    )
    with op.batch_alter_table("bot_interactions", schema=None) as batch_op:
        batch_op.create_index("ix_bot_interactions_conversation", ["conversation_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("bot_interactions")
    op.drop_table("bot_articles")
    op.drop_table("bot_script_versions")
    op.drop_table("bot_scripts")
