"""Two roles on PostgreSQL (docs/deployment.md): migrations as the schema's owner, the service as a role that
may only add to the audit trail, whether deploy/postgresql-roles.sql runs before the migrations (as
compose.yaml's database runs it) or after them; and compose.yaml wired that way."""

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from psycopg.errors import InsufficientPrivilege
from sqlalchemy import make_url, text
from sqlalchemy.exc import ProgrammingError

from sandbox_api.policy.auth import Role
from sandbox_api.storage.db import make_engine
from tests.conftest import (
    POSTGRES_URL,
    ROOT,
    Actor,
    bearer,
    committed_app,
    create_case,
    make_key,
    scratch_postgres_database,
)
from tests.test_deployment import get, started_service, wait_until_ready

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
INITDB = "/docker-entrypoint-initdb.d/"
OWNER, APPLICATION = "registry_owner", "registry_app"


def with_defaults(value: str) -> str:
    """A compose.yaml value with each `${NAME:-default}` replaced by its default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def initdb_scripts() -> list[Path]:
    """The scripts compose.yaml mounts for the postgres image to run when it creates the database, in the
    order it runs them (by name in the container)."""
    mounts = [volume.split(":") for volume in COMPOSE["services"]["db"]["volumes"]]
    return [
        ROOT / source for source, target, *_ in sorted(mounts, key=lambda mount: mount[1]) if target.startswith(INITDB)
    ]


def test_compose_migrates_as_the_owner_and_serves_as_the_application_role():
    database, api = COMPOSE["services"]["db"], COMPOSE["services"]["api"]
    migrations = make_url(with_defaults(api["environment"]["MIGRATION_DATABASE_URL"]))
    service = make_url(with_defaults(api["environment"]["DATABASE_URL"]))
    assert (migrations.username, service.username) == (OWNER, APPLICATION)
    where = {(url.drivername, url.host, url.port, url.database) for url in (migrations, service)}
    assert where == {("postgresql+psycopg", "db", 5432, database["environment"]["POSTGRES_DB"])}

    # The roles first, then their privileges, read-only; deploy/postgresql-roles.sql is the one that the
    # docs tell a production database to run.
    assert [path.relative_to(ROOT).as_posix() for path in initdb_scripts()] == [
        "deploy/compose-roles.sql",
        "deploy/postgresql-roles.sql",
    ]
    assert all(volume.endswith(":ro") for volume in database["volumes"] if INITDB in volume)
    created = re.findall(r"CREATE ROLE (\w+) LOGIN", (ROOT / "deploy" / "compose-roles.sql").read_text())
    assert created == [OWNER, APPLICATION]
    # The image runs the scripts on a server without TCP: a probe over TCP passes once they have run.
    assert "--host=127.0.0.1" in database["healthcheck"]["test"][-1]


def test_bin_start_refuses_migration_database_url_without_database_url(tmp_path):
    # The service would otherwise run on the SQLite default, beside the database it had just migrated.
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    migrated = tmp_path / "registry.sqlite3"
    started = subprocess.run(
        [str(ROOT / "bin" / "start")],
        env={**environment, "MIGRATION_DATABASE_URL": f"sqlite:///{migrated}"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert started.returncode == 1
    assert "MIGRATION_DATABASE_URL is set but DATABASE_URL is not" in started.stderr
    assert not migrated.exists()


def psql(url: str, script: Path, names: dict[str, str], tmp_path: Path) -> None:
    """Run the script as the docs and the postgres image do, `psql -v ON_ERROR_STOP=1 -f`, with the test's role
    names for the registry's."""
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed: the roles scripts are psql scripts")
    content = script.read_text()
    for name, replacement in names.items():
        content = content.replace(name, replacement)
    copy = tmp_path / script.name
    copy.write_text(content)
    ran = subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--quiet", "--dbname", libpq(url), "--file", str(copy)],
        env={**os.environ, "POSTGRES_PASSWORD": "local-only-not-a-secret"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def role_names() -> Iterator[dict[str, str]]:
    """Names of this test's own for the registry's two roles, dropped after it (with its databases first)."""
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    suffix = uuid.uuid4().hex[:8]
    names = {OWNER: f"{OWNER}_{suffix}", APPLICATION: f"{APPLICATION}_{suffix}"}
    yield names
    server = make_engine(POSTGRES_URL, pool_size=1)
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for role in names.values():
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
    server.dispose()


def as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role).render_as_string(hide_password=False)


def assert_refused(application_url: str) -> None:
    """What a holder of the application's credentials cannot do to the trail, nor to what only migrations
    write: each refused for want of privilege, before the append-only triggers are reached."""
    engine = make_engine(application_url)
    for statement in (
        "UPDATE events SET note = 'Nothing to see'",
        "DELETE FROM events",
        "TRUNCATE events",
        "SET session_replication_role = replica",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "DROP TRIGGER events_refuse_update_or_delete ON events",
        # What only migrations write: the schema's recorded version and the taxonomies.
        "UPDATE alembic_version SET version_num = '0001'",
        "DELETE FROM sectors",
        "INSERT INTO capabilities (code) VALUES ('mind_reading')",
        "TRUNCATE risk_subdomains CASCADE",
    ):
        with engine.connect() as connection, pytest.raises(ProgrammingError) as refused:
            connection.exec_driver_sql(statement)
        assert isinstance(refused.value.orig, InsufficientPrivilege), statement
    engine.dispose()


def test_bin_start_on_a_database_made_as_compose_makes_it(role_names, tmp_path, monkeypatch):
    with scratch_postgres_database(POSTGRES_URL) as url:
        for script in initdb_scripts():
            psql(url, script, role_names, tmp_path)
        owner_url, application_url = as_role(url, role_names[OWNER]), as_role(url, role_names[APPLICATION])
        monkeypatch.setenv("MIGRATION_DATABASE_URL", owner_url)

        log = tmp_path / "start.log"
        with started_service(application_url, log) as (process, base_url):
            wait_until_ready(process, base_url, log)
            # What bin/start does with LOAD_DEMO_DATA=1, as compose.yaml sets it: as the application's role.
            demo = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "load", "--if-empty"],
                cwd=ROOT,
                env={**os.environ, "DATABASE_URL": application_url},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert demo.returncode == 0, demo.stderr
            status, body = get(f"{base_url}/api/v1/cases")
            assert status == 200 and b"Education GPT" in body

        engine = make_engine(owner_url)
        with engine.connect() as connection:
            # The migrations ran as the owner, and the start's rebuild of the stored documents as the service.
            owner = connection.scalar(text("SELECT tableowner FROM pg_tables WHERE tablename = 'events'"))
            assert owner == role_names[OWNER]
            assert connection.scalar(text("SELECT count(*) FROM stored_document_versions")) == 1
        engine.dispose()
        assert_refused(application_url)


def test_the_roles_script_after_the_migrations(role_names, tmp_path):
    with scratch_postgres_database(POSTGRES_URL) as url:
        server = make_engine(url, pool_size=1)
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for role in role_names.values():
                connection.execute(text(f"CREATE ROLE {role} LOGIN"))
            connection.execute(text(f"ALTER DATABASE {make_url(url).database} OWNER TO {role_names[OWNER]}"))
        server.dispose()
        owner_url, application_url = as_role(url, role_names[OWNER]), as_role(url, role_names[APPLICATION])
        # The service's own start: migrations as the owner (MIGRATION_DATABASE_URL), the rest as the application.
        migrated = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env={**os.environ, "MIGRATION_DATABASE_URL": owner_url, "DATABASE_URL": application_url},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stderr
        psql(url, ROOT / "deploy" / "postgresql-roles.sql", role_names, tmp_path)

        engine = make_engine(application_url)
        app = committed_app(engine)
        admin = bearer(make_key(Role.ADMIN))
        client = app.test_client()
        agency = {"slug": "moe", "name": "MOE", "kind": "ministry"}
        assert client.post("/api/v1/agencies", json=agency, headers=admin).status_code == 201
        owner = Actor(client, make_key(Role.AGENCY, "moe"))
        owner.edit(f"/api/v1/cases/{create_case(owner)['id']}", {"title": "Renamed"})
        assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

        assert_refused(application_url)
        assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
        engine.dispose()
