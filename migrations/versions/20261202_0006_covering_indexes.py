"""Covering indexes: a case's visibility and primary sector, a lesson's case, and what the insights read of
each risk, from indexes instead of the tables' wide rows.

The index on risks starts with case_id, so it replaces `ix_risks_case_id`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:00:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (name, table, columns)
INDEXES = (
    (
        "ix_cases_id_published_lead_agency_id_primary_sector",
        "cases",
        ["id", "published", "lead_agency_id", "primary_sector"],
    ),
    ("ix_lessons_id_case_id", "lessons", ["id", "case_id"]),
    ("ix_risks_case_id_domain_subdomain_status_score", "risks", ["case_id", "domain", "subdomain", "status", "score"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.drop_index("ix_risks_case_id", table_name="risks")


def downgrade() -> None:
    op.create_index("ix_risks_case_id", "risks", ["case_id"])
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
