-- Two roles on PostgreSQL (docs/deployment.md): registry_owner owns the schema and runs the migrations;
-- registry_app, which the service connects as, reads and writes the registry but may only add to the
-- audit trail. Run as a superuser, in the registry's database, after `alembic upgrade head` has run as
-- registry_owner, and again only if the events table is ever recreated:
--   psql -v ON_ERROR_STOP=1 -d registry -f deploy/postgresql-roles.sql
GRANT USAGE ON SCHEMA public TO registry_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO registry_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO registry_app;
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM registry_app;
-- The tables and sequences that later migrations create, as registry_owner creates them.
ALTER DEFAULT PRIVILEGES FOR ROLE registry_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO registry_app;
ALTER DEFAULT PRIVILEGES FOR ROLE registry_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO registry_app;
