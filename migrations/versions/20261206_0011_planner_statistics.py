"""Statistics for the planners: PostgreSQL's on when each pilot started, SQLite's on every table.

PostgreSQL: the insights filter their cases by `coalesce(actual_start, planned_start)` (`Case.started_on`).
PostgreSQL keeps statistics on columns, not on that expression, so it guessed that a third of the cases
pass any `started_from` or `started_to`: at 100,000 cases, 17,600 where 63,000 passed, and it planned the
risk heatmap for a fifth of its rows (one parallel worker, the larger side of a join hashed, spilled to
disk). Extended statistics on the expression (PostgreSQL 14 and later) let ANALYZE measure it.

SQLite: nothing ran ANALYZE, so SQLite planned every statement without statistics; the insights took
2-7 times as long at 100,000 cases. Each write transaction now runs `PRAGMA optimize`
(`db._refresh_sqlite_statistics`); this measures a registry that is already filled, at once.

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
    else:
        op.execute("ANALYZE")


def downgrade() -> None:
    # SQLite's statistics stay: they describe the data, whatever the schema's revision.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS {STATISTICS}")
