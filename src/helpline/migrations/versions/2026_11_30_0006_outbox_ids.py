"""outbox ids are never reused on SQLite (AUTOINCREMENT)

An outbox row id names its event: outgoing webhook deliveries are unique per (webhook, source outbox id)
and realtime frames carry `event_key = outbox-<id>` so clients drop repeats. Without AUTOINCREMENT SQLite
hands out max(rowid) + 1, so after the newest rows were processed and deleted the next event got the same
id as an earlier one — and its webhook delivery was skipped as "already done". PostgreSQL sequences never
reuse ids; nothing changes there.

Revision ID: 0006_outbox_ids
Revises: 0005_security
Create Date: 2026-11-30 01:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_outbox_ids"
down_revision: str | Sequence[str] | None = "0005_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Rebuilding the table keeps its rows; sqlite_sequence then starts above the highest id present.
    with op.batch_alter_table("outbox", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("outbox", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
