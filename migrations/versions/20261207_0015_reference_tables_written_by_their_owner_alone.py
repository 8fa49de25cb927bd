"""On PostgreSQL, no role but the owner writes `alembic_version` or the taxonomy tables.

The application reads the taxonomies and never writes them (migrations seed them), and only migrations
move `alembic_version`. deploy/postgresql-roles.sql grants the application's role INSERT, UPDATE and
DELETE on every table, by default privileges when it runs before the first migration: here every role
that holds a write privilege on these tables loses it, whatever its name, so that the service's
credentials cannot rewrite the registry's vocabulary or its schema's recorded version. SQLite has no roles.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 16:00:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: Union[str, Sequence[str], None] = "0014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

READ_ONLY_TABLES = ("alembic_version", "sectors", "capabilities", "principles", "risk_domains", "risk_subdomains")

# Grantee 0 is PUBLIC.
REVOKE_WRITES_FROM_ALL_BUT_THE_OWNER = """
DO $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN
        SELECT DISTINCT pg_class.relname AS table_name,
            CASE WHEN privilege.grantee = 0 THEN 'PUBLIC' ELSE privilege.grantee::regrole::text END AS holder
        FROM pg_class, aclexplode(pg_class.relacl) AS privilege
        WHERE pg_class.oid IN ({tables})
            AND privilege.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
            AND privilege.grantee <> pg_class.relowner
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %I FROM %s', grant_row.table_name, grant_row.holder);
    END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        tables = ", ".join(f"'{table}'::regclass" for table in READ_ONLY_TABLES)
        op.execute(REVOKE_WRITES_FROM_ALL_BUT_THE_OWNER.replace("{tables}", tables))


def downgrade() -> None:
    # Nothing to give back: the application never writes these tables.
    pass
