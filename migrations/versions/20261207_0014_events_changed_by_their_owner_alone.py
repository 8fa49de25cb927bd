"""On PostgreSQL, no role but the owner of `events` may update, delete or truncate it.

deploy/postgresql-roles.sql may run before the first migration (compose.yaml's database runs it when it is
created): its default privileges then give the application's role UPDATE and DELETE on every table that
the migrations create, `events` among them. Here every role that holds them on `events` loses them, whatever
its name, so that the application's role is refused for want of privilege before the append-only triggers
of migration 0003 are reached, however the grants were made. SQLite has no roles.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: Union[str, Sequence[str], None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Grantee 0 is PUBLIC.
REVOKE_FROM_ALL_BUT_THE_OWNER = """
DO $$
DECLARE
    holder text;
BEGIN
    FOR holder IN
        SELECT DISTINCT CASE WHEN privilege.grantee = 0 THEN 'PUBLIC' ELSE privilege.grantee::regrole::text END
        FROM pg_class, aclexplode(pg_class.relacl) AS privilege
        WHERE pg_class.oid = 'events'::regclass
            AND privilege.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
            AND privilege.grantee <> pg_class.relowner
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON events FROM %s', holder);
    END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REVOKE_FROM_ALL_BUT_THE_OWNER)


def downgrade() -> None:
    # Nothing to give back: no role needs to change events, whose triggers refuse it anyway.
    pass
