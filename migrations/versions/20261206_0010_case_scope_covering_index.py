"""The covering index on cases by id also carries what the insights filter their cases by, so that choosing
the cases an insight aggregates reads an index, not the cases' wide rows.

`ix_cases_id_published_lead_agency_id_primary_sector` covered a case's visibility and primary sector; an
insight with a filter (status, sandbox type, start dates) or the overdue reviews read each case's row, with
its texts and search vector. The new index starts with the same columns, so it replaces that one.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:00:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

REPLACED = ("ix_cases_id_published_lead_agency_id_primary_sector", ["id", "published", "lead_agency_id", "primary_sector"])
SCOPE = (
    "ix_cases_id_scope",
    [
        "id",
        "published",
        "lead_agency_id",
        "primary_sector",
        "status",
        "sandbox_type",
        "actual_start",
        "planned_start",
        "next_review_due",
    ],
)


def upgrade() -> None:
    op.create_index(SCOPE[0], "cases", SCOPE[1])
    op.drop_index(REPLACED[0], table_name="cases")


def downgrade() -> None:
    op.create_index(REPLACED[0], "cases", REPLACED[1])
    op.drop_index(SCOPE[0], table_name="cases")
