"""Which rendering made the stored documents: `stored_document_versions`, one fingerprint per kind.

The application compares it with the fingerprint of its own rendering when it starts, and rebuilds the
documents when they differ or the row is missing (sandbox_api/cases/documents.py). An empty table, as
this leaves it, has the documents rebuilt at the next start: those a registry upgraded through 0007 never
had.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "stored_document_versions",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stored_document_versions")),
    )


def downgrade() -> None:
    op.drop_table("stored_document_versions")
