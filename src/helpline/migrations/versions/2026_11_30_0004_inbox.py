"""inbox: waiting-for-a-human, list indexes, message client ids, operator preferences, contact notes

Revision ID: 0004_inbox
Revises: 0003
Create Date: 2026-11-30 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.platform.db

revision: str = "0004_inbox"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = helpline.platform.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_since", _TIME, nullable=True))
        batch_op.add_column(sa.Column("last_message_author_name", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_conversations_waiting", ["waiting_since", "id"], unique=False)
        batch_op.create_index("ix_conversations_last_inbound_at", ["last_inbound_at"], unique=False)
        batch_op.create_index("ix_conversations_priority", ["priority"], unique=False)
        batch_op.create_index("ix_conversations_contact_activity", ["contact_id", "last_activity_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        # `tag=` filters with `tags::jsonb @> '["x"]'`: a GIN index on the same expression serves it.
        op.execute("CREATE INDEX ix_conversations_tags ON conversations USING gin ((tags::jsonb) jsonb_path_ops)")
    # Conversations a human handles whose latest message is the customer's are waiting since then.
    op.execute(
        "UPDATE conversations SET waiting_since = last_inbound_at "
        "WHERE handler = 'human' AND status IN ('open', 'pending') AND last_message_author = 'contact'"
    )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.create_index("uq_messages_conversation_client_id", ["conversation_id", "client_id"], unique=True)

    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferences", sa.JSON(), nullable=True))

    op.create_table(
        "contact_notes",
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("operator_id", _ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_notes_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_contact_notes_operator_id_operators"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_notes")),
    )
    with op.batch_alter_table("contact_notes", schema=None) as batch_op:
        batch_op.create_index("ix_contact_notes_contact", ["contact_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_notes_contact")
    op.drop_table("contact_notes")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("preferences")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("uq_messages_conversation_client_id")
        batch_op.drop_column("client_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_conversations_tags")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_contact_activity")
        batch_op.drop_index("ix_conversations_priority")
        batch_op.drop_index("ix_conversations_last_inbound_at")
        batch_op.drop_index("ix_conversations_waiting")
        batch_op.drop_column("last_message_author_name")
        batch_op.drop_column("waiting_since")
