"""A hash chain over the audit events: `events.hash`, nullable.

The application hashes each event it inserts from now on (sandbox_api/policy/audit.py). The events
recorded before keep a null hash, and `flask audit verify` counts them as before the chain began, rather
than this migration hashing them: a chain computed today would vouch for rows nobody can say were never
changed, and writing it would mean lifting the append-only triggers that guard the table. The first
hashed event chains to the genesis value.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 13:00:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# ALTER TABLE in place, not a batch: SQLite's batch would copy the table into a new one, without the
# append-only triggers of migration 0003 (SQLite drops a column in place since 3.35).
def upgrade() -> None:
    op.add_column("events", sa.Column("hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("events", "hash")
