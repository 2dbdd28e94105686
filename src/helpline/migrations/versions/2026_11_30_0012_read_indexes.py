"""read indexes: the inbox list's single-column filter indexes become (filter, last_activity_at, id)

A filter on status, priority, assignee, channel or event with the default sort (newest activity first) now
reads its page straight from one index in order, instead of walking ix_conversations_activity and throwing
away the rows of other values (2,500 to 59,000 rows per page at 100 k conversations, bench/RESULTS.md
"Reads on 1 M messages"). The column prefix still serves the foreign keys and equality lookups the
single-column indexes served. ix_conversations_contact_id goes: ix_conversations_contact_activity starts
with contact_id. The table keeps one index fewer, which every message's conversation update writes.

PostgreSQL only: the search (`q`) gets a trigram index (pg_trgm, GIN) on lower(contacts.name), so a name
is found without reading every contact. The extension ships with PostgreSQL (contrib) and is "trusted" (the
database owner may create it); where it cannot be created the search works as before and a warning says why.
The same index on lower(messages.text) would make a rare text found in milliseconds instead of a scan of
every message, but it doubles the cost of each message INSERT (bench/RESULTS.md), so it is not made here.

Revision ID: 0012_read_indexes
Revises: 0011_inbound_log
Create Date: 2026-11-30 06:40:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

log = logging.getLogger("alembic.runtime.migration")

revision: str = "0012_read_indexes"
down_revision: str | Sequence[str] | None = "0011_inbound_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# old single-column index → (new index, its leading column)
REPLACED = {
    "ix_conversations_status": ("ix_conversations_status_activity", "status"),
    "ix_conversations_priority": ("ix_conversations_priority_activity", "priority"),
    "ix_conversations_assignee_id": ("ix_conversations_assignee_activity", "assignee_id"),
    "ix_conversations_channel_id": ("ix_conversations_channel_activity", "channel_id"),
    "ix_conversations_event_id": ("ix_conversations_event_activity", "event_id"),
}


def upgrade() -> None:
    for old, (new, column) in REPLACED.items():
        op.create_index(new, "conversations", [column, "last_activity_at", "id"])
        op.drop_index(old, table_name="conversations")
    op.drop_index("ix_conversations_contact_id", table_name="conversations")
    if op.get_bind().dialect.name == "postgresql" and _trigram_extension():
        op.execute("CREATE INDEX ix_contacts_name_trgm ON contacts USING gin (lower(name) gin_trgm_ops)")


def _trigram_extension() -> bool:
    """Create pg_trgm if it is missing; False (and a warning) when this server or user cannot."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm unavailable (%s): the inbox search will read every contact's name", exc.orig)
        return False
    return True


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_contacts_name_trgm")
    op.create_index("ix_conversations_contact_id", "conversations", ["contact_id"])
    for old, (new, column) in REPLACED.items():
        op.create_index(old, "conversations", [column])
        op.drop_index(new, table_name="conversations")
