-- compose.yaml only: the two roles of docs/deployment.md ("Two roles on PostgreSQL"), with the local
-- password. The postgres image runs it once, when it creates the database (as its superuser, in
-- POSTGRES_DB), before deploy/postgresql-roles.sql; the migrations come later, as registry_owner.
\getenv password POSTGRES_PASSWORD
CREATE ROLE registry_owner LOGIN PASSWORD :'password';
CREATE ROLE registry_app LOGIN PASSWORD :'password';
-- The owner of the database owns its schema `public` (PostgreSQL 15 and later), where it creates the tables.
ALTER DATABASE :"DBNAME" OWNER TO registry_owner;
