"""Each case's rendered JSON in `case_documents`.

Only the table: the documents are the application's to render (sandbox_api/cases/documents.py), which fills
them when it starts, since a migration must not change when the code does. A migration that rendered them
with the models of its day would render with today's models, and fail on a database whose columns are
those of its own moment (a column the models gained later: `no such column`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:00:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "case_documents",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_documents_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_documents")),
    )


def downgrade() -> None:
    op.drop_table("case_documents")
