-- Two roles on PostgreSQL (docs/deployment.md): registry_owner owns the schema and runs the migrations;
-- registry_app, which the service connects as, reads and writes the registry but may only add to the
-- audit trail. Run as a superuser, in the registry's database, once, before or after the first
-- `alembic upgrade head` as registry_owner (compose.yaml runs it before, when the database is created):
--   psql -v ON_ERROR_STOP=1 -d registry -f deploy/postgresql-roles.sql
GRANT USAGE ON SCHEMA public TO registry_app;
-- The tables and sequences already there, when run after the migrations.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO registry_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO registry_app;
DO $$
BEGIN
    IF to_regclass('public.events') IS NOT NULL THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON public.events FROM registry_app;
    END IF;
END
$$;
-- The tables and sequences that migrations create later, as registry_owner creates them. `events` among
-- them loses UPDATE and DELETE again in migration 0014, which revokes them from every role but its owner.
ALTER DEFAULT PRIVILEGES FOR ROLE registry_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO registry_app;
ALTER DEFAULT PRIVILEGES FOR ROLE registry_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO registry_app;
