"""contacts named after a raw provider id get no name: the operator app names them ("Website visitor #12")

Until now a contact created without a name took its provider id as one — a Messenger/Instagram page-scoped id, a
website visitor's token, another system's id — which operators then saw as the customer's name. A name equal to one
of the contact's own opaque identities (not a WhatsApp number or an e-mail address, which read as what they are) is
cleared; the identities keep the ids.

Revision ID: 0013_contact_names
Revises: 0012_read_indexes
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_contact_names"
down_revision: str | Sequence[str] | None = "0012_read_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The identity kinds whose ids are opaque: messenger, instagram, widget, api, and generic API channels' `api:<id>`.
CLEAR = """
UPDATE contacts SET name = NULL
WHERE phone IS NULL AND email IS NULL AND EXISTS (
  SELECT 1 FROM contact_identities ci
  WHERE ci.contact_id = contacts.id AND ci.provider_id = contacts.name
    AND (ci.kind IN ('messenger', 'instagram', 'widget', 'api') OR ci.kind LIKE 'api:%')
)
"""
# The old fallback: the first opaque identity's id.
RESTORE = """
UPDATE contacts SET name = (
  SELECT MIN(ci.provider_id) FROM contact_identities ci
  WHERE ci.contact_id = contacts.id
    AND (ci.kind IN ('messenger', 'instagram', 'widget', 'api') OR ci.kind LIKE 'api:%')
)
WHERE name IS NULL
"""


def upgrade() -> None:
    op.execute(CLEAR)


def downgrade() -> None:
    op.execute(RESTORE)
