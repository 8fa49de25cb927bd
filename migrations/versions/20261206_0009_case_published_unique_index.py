"""A unique index on cases (id, published), so that SQLite checks whether a record's case is public from the
index alone.

For a look-up that gives every column of a unique index (`cases.id = ? AND cases.published = 1`, the
public's visibility of a risk, an outcome or a lesson), SQLite's planner takes that index without weighing
costs; before, it took the primary key's index and read the case's wide row to see `published`, though
`ix_cases_id_published_lead_agency_id_primary_sector` covered both columns. PostgreSQL gets the same
index, where it is one more index-only path to the same answer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:00:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_cases_id_published", "cases", ["id", "published"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_cases_id_published", table_name="cases")
