"""the inbound log: outbox rows that may exist only once (raw webhook bodies keyed by sha256)

Accept-fast webhook routes store the raw verified body as an `ingest.raw` outbox row; `dedupe_key`
(sha256 of channel id + body) is unique, so a redelivery of a body still waiting is stored once. Every
other row leaves it NULL, which never collides on either database.

Revision ID: 0011_inbound_log
Revises: 0010_script_runs
Create Date: 2026-11-30 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_inbound_log"
down_revision: str | Sequence[str] | None = "0010_script_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# SQLite rebuilds the table for these changes: it must keep AUTOINCREMENT (see 0006_outbox_ids).
KEEP = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("outbox", table_kwargs=KEEP) as batch:
        batch.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_outbox_dedupe_key"), ["dedupe_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", table_kwargs=KEEP) as batch:
        batch.drop_constraint(op.f("uq_outbox_dedupe_key"), type_="unique")
        batch.drop_column("dedupe_key")
