"""Each case's rendered JSON in `cases.document`, filled for the cases already registered.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:00:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from sandbox_api.cases import documents

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("document", sa.Text(), nullable=True))
    documents.refresh(op.get_bind())


def downgrade() -> None:
    op.drop_column("cases", "document")
