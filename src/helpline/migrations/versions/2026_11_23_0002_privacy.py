"""privacy: provider data-deletion and deauthorisation requests

Revision ID: 0002_privacy
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.platform.db

revision: str = "0002_privacy"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_deletion_requests",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("confirmation_code", sa.String(length=40), nullable=False),
        sa.Column("subject_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contacts_erased", sa.Integer(), nullable=False),
        sa.Column("messages_erased", sa.Integer(), nullable=False),
        sa.Column("attachments_erased", sa.Integer(), nullable=False),
        sa.Column("created_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_deletion_requests")),
        sa.UniqueConstraint("confirmation_code", name=op.f("uq_privacy_deletion_requests_confirmation_code")),
    )
    with op.batch_alter_table("privacy_deletion_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_privacy_deletion_requests_subject_digest"), ["subject_digest"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("privacy_deletion_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_deletion_requests_subject_digest"))
    op.drop_table("privacy_deletion_requests")
