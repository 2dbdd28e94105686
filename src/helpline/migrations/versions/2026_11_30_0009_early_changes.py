"""early_changes: an unsend or edit that arrives before the message it names

Meta delivers webhooks in no guaranteed order: a customer's unsend (or edit) can come before the message.
It is kept here, and the message is stored already withdrawn (or edited) when it arrives.

Revision ID: 0009_early_changes
Revises: 0008_mailboxes
Create Date: 2026-11-30 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.platform.db

revision: str = "0009_early_changes"
down_revision: str | Sequence[str] | None = "0008_mailboxes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider_message_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("happened_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_early_changes_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_changes")),
    )
    op.create_index("ix_early_changes_target", "early_changes", ["channel_id", "provider_message_id"])


def downgrade() -> None:
    op.drop_index("ix_early_changes_target", table_name="early_changes")
    op.drop_table("early_changes")
