-- Two roles on PostgreSQL (docs/deployment.md): registry_owner owns the schema and runs the migrations;
-- registry_app, which the service connects as, reads and writes the registry but may only add to the
-- audit trail. Run as a superuser, in the registry's database, once, before or after the first
-- `alembic upgrade head` as registry_owner (compose.yaml runs it before, when the database is created):
--   psql -v ON_ERROR_STOP=1 -d registry -f deploy/postgresql-roles.sql
GRANT USAGE ON SCHEMA public TO registry_app;
-- The tables and sequences already there, when run after the migrations.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO registry_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO registry_app;
-- The audit trail may only grow; the schema's recorded version and the taxonomies are the migrations' alone.
DO $$
DECLARE
    read_only text;
BEGIN
    IF to_regclass('public.events') IS NOT NULL THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON public.events FROM registry_app;
    END IF;
    FOREACH read_only IN ARRAY
        ARRAY['alembic_version', 'sectors', 'capabilities', 'principles', 'risk_domains', 'risk_subdomains']
    LOOP
        IF to_regclass('public.' || read_only) IS NOT NULL THEN
            EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.%I FROM registry_app', read_only);
        END IF;
    END LOOP;
END
$$;
-- The tables and sequences that migrations create later, as registry_owner creates them. Migrations 0014
-- and 0015 take back from every role but the owner what it alone may do to `events` and to the tables above.
ALTER DEFAULT PRIVILEGES FOR ROLE registry_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO registry_app;
ALTER DEFAULT PRIVILEGES FOR ROLE registry_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO registry_app;
