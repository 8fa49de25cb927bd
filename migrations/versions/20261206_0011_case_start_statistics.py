"""PostgreSQL keeps statistics on when each pilot started, or is planned to: the insights' date range.

The insights filter their cases by `coalesce(actual_start, planned_start)` (`Case.started_on`). PostgreSQL
keeps statistics on columns, not on that expression, so it guessed that a third of the cases pass any
`started_from` or `started_to`: at 100,000 cases, 17,600 where 63,000 passed, and it planned the risk
heatmap for a fifth of its rows (one parallel worker, the larger side of a join hashed, spilled to disk).
Extended statistics on the expression (PostgreSQL 14 and later) let ANALYZE measure it. SQLite estimates
no such ranges, and is unchanged.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:00:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STATISTICS = "st_cases_started_on"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE STATISTICS {STATISTICS} ON (coalesce(actual_start, planned_start)) FROM cases")
        # Measured now, not at autovacuum's next analysis of the table.
        op.execute("ANALYZE cases")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS {STATISTICS}")
