"""mailbox cursors (UIDVALIDITY + last UID) and mailbox leases for the email channel's IMAP reader

Revision ID: 0008_mailboxes
Revises: 0007_message_occurred_at
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.platform.db

revision: str = "0008_mailboxes"
down_revision: str | Sequence[str] | None = "0007_message_occurred_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = helpline.platform.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mailbox_cursors",
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_mailbox_cursors_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", "mailbox", name=op.f("pk_mailbox_cursors")),
    )
    op.create_table(
        "mailbox_leases",
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_mailbox_leases_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_mailbox_leases")),
    )


def downgrade() -> None:
    op.drop_table("mailbox_leases")
    op.drop_table("mailbox_cursors")
