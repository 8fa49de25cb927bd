"""Registry version (the key of cached list totals); indexes in the order lists and aggregates show rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:32:25.064063

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    registry_version = op.create_table(
        "registry_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_version")),
    )
    op.bulk_insert(registry_version, [{"id": 1, "value": 0}])
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_index("ix_lessons_created_at_id", ["created_at", "id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_created_at")
        batch_op.create_index("ix_cases_status_created_at_id", ["status", "created_at", "id"], unique=False)
    with op.batch_alter_table("case_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_partners_case_id"))
        batch_op.create_index("ix_case_partners_case_id_position", ["case_id", "position"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("case_partners", schema=None) as batch_op:
        batch_op.drop_index("ix_case_partners_case_id_position")
        batch_op.create_index(batch_op.f("ix_case_partners_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_created_at_id")
        batch_op.create_index("ix_cases_status_created_at", ["status", "created_at"], unique=False)
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_index("ix_lessons_created_at_id")

    op.drop_table("registry_version")
