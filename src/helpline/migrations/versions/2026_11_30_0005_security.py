"""security: two-factor, audit origin, legal holds, retention

Revision ID: 0005_security
Revises: 0004_inbox
Create Date: 2026-11-30 00:40:35.767014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.platform.db

revision: str = "0005_security"
down_revision: str | None = "0004_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "operator_recovery_codes",
        sa.Column("operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("used_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_recovery_codes_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_recovery_codes")),
        sa.UniqueConstraint("digest", name=op.f("uq_operator_recovery_codes_digest")),
    )
    with op.batch_alter_table("operator_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_recovery_codes_operator_id"), ["operator_id"], unique=False)

    op.create_table(
        "privacy_retention_policies",
        sa.Column("channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("updated_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_privacy_retention_policies_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_retention_policies")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_privacy_retention_policies_channel_id")),
    )
    op.create_table(
        "privacy_legal_holds",
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_privacy_legal_holds_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_privacy_legal_holds_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["operators.id"],
            name=op.f("fk_privacy_legal_holds_created_by_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_legal_holds")),
    )
    with op.batch_alter_table("privacy_legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_legal_holds_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_legal_holds_conversation_id"), ["conversation_id"], unique=False)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ip", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=300), nullable=True))

    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("two_factor_required", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:

    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("two_factor_required")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled")
        batch_op.drop_column("totp_secret")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("ip")

    with op.batch_alter_table("privacy_legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_legal_holds_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_privacy_legal_holds_contact_id"))

    op.drop_table("privacy_legal_holds")
    op.drop_table("privacy_retention_policies")
    with op.batch_alter_table("operator_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_recovery_codes_operator_id"))

    op.drop_table("operator_recovery_codes")
