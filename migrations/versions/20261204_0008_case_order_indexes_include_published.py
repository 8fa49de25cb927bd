"""PostgreSQL: the indexes that order cases (newest first, within a status or not) carry `published`, so
that a page of the public list is found in the index alone, without visiting each newer case's row to
see whether it is published. SQLite has no INCLUDE columns; its indexes are unchanged.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:00:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (name, ordered columns)
INDEXES = (
    ("ix_cases_status_created_at_id", ["status", "created_at", "id"]),
    ("ix_cases_created_at_id", ["created_at", "id"]),
)


def _recreate(*, include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in INDEXES:
        op.drop_index(name, table_name="cases")
        op.create_index(name, "cases", columns, postgresql_include=include)


def upgrade() -> None:
    _recreate(include=["published"])


def downgrade() -> None:
    _recreate(include=[])
