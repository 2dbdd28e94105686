"""messages.occurred_at: the timeline orders by when a message happened, not when it reached Helpline

A customer's message that arrives late (a webhook redelivered hours later) is placed by the provider's
timestamp: occurred_at is the provider's time for what the provider reports (capped at the time Helpline
stored it), Helpline's own time for what Helpline writes. The message list pages by (occurred_at, id).

Revision ID: 0007_message_occurred_at
Revises: 0006_outbox_ids
Create Date: 2026-11-30 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.platform.db

revision: str = "0007_message_occurred_at"
down_revision: str | Sequence[str] | None = "0006_outbox_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("occurred_at", helpline.platform.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE messages SET occurred_at = CASE WHEN provider_timestamp IS NOT NULL "
        "AND provider_timestamp < created_at THEN provider_timestamp ELSE created_at END"
    )
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("occurred_at", nullable=False)
        batch.create_index("ix_messages_conversation_occurred", ["conversation_id", "occurred_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_conversation_occurred")
        batch.drop_column("occurred_at")
