"""Fixtures: the app on each database, a rolled-back transaction per test, and a client per role."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, or_, select, text

from sandbox_api import create_app
from sandbox_api.cases import documents
from sandbox_api.cases.models import Case, CaseDocument
from sandbox_api.config import TestConfig
from sandbox_api.keys import service as keys_service
from sandbox_api.policy.auth import Role
from sandbox_api.storage.db import db, make_engine

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite", "postgresql"]


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


@contextmanager
def scratch_postgres_database(url: str) -> Iterator[str]:
    """A new, empty database beside the one TEST_DATABASE_URL names, dropped afterwards.

    Each test process gets its own, so parallel workers and parallel runs never share tables.
    """
    name = f"sbx_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin_engine = make_engine(url, pool_size=1)
    with admin_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin_engine.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """An empty database of each kind; PostgreSQL only when TEST_DATABASE_URL names a server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'registry.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    with scratch_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The database migrated to head, as `make run` and the Docker image do."""
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection whose transaction is rolled back after the test: each test starts clean."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        assert cases_with_stale_documents(connection) == [], "a write left stored case documents out of step"
        transaction.rollback()


def cases_with_stale_documents(connection: Connection) -> list[str]:
    """The references of the cases whose stored document differs from a rendering of their rows now."""
    stored = CaseDocument.document
    stale = or_(stored.is_(None), stored != documents.document_now())
    return list(connection.scalars(select(Case.reference).outerjoin(CaseDocument).where(stale)))


@pytest.fixture
def app(engine: Engine, connection: Connection) -> Iterator[Flask]:
    # No app context is held across the test: each request gets its own, and so its own session,
    # as in production.
    yield create_app(TestConfig, engine=engine, connection=connection)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Actor:
    """A client acting with one API key."""

    client: FlaskClient
    key: str

    def _headers(self, headers: dict | None) -> dict:
        return {"Authorization": f"Bearer {self.key}", **(headers or {})}

    def get(self, url: str, headers: dict | None = None, **kwargs):
        return self.client.get(url, headers=self._headers(headers), **kwargs)

    def post(self, url: str, json=None, headers: dict | None = None, **kwargs):
        return self.client.post(url, json=json, headers=self._headers(headers), **kwargs)

    def patch(self, url: str, json=None, etag: str | None = None, headers: dict | None = None, **kwargs):
        headers = self._headers(headers)
        if etag is not None:
            headers["If-Match"] = etag
        return self.client.patch(url, json=json, headers=headers, **kwargs)

    def delete(self, url: str, etag: str | None = None, headers: dict | None = None, **kwargs):
        headers = self._headers(headers)
        if etag is not None:
            headers["If-Match"] = etag
        return self.client.delete(url, headers=headers, **kwargs)

    def edit(self, url: str, json: dict):
        """GET the resource for its ETag, then PATCH it."""
        current = self.get(url)
        assert current.status_code == 200, current.json
        return self.patch(url, json=json, etag=current.headers["ETag"])


def make_key(role: Role, agency_slug: str | None = None) -> str:
    session = db.new_session(write=True)
    agency_id = keys_service.agency_id_for_slug(session=session, slug=agency_slug) if agency_slug else None
    _, plain_text = keys_service.create(session=session, role=role, name=f"test {role}", agency_id=agency_id)
    session.commit()
    session.close()
    return plain_text


@pytest.fixture
def admin(client: FlaskClient) -> Actor:
    return Actor(client, make_key(Role.ADMIN))


@pytest.fixture
def naio(client: FlaskClient) -> Actor:
    return Actor(client, make_key(Role.NAIO))


def create_agency(admin: Actor, slug: str, **fields) -> dict:
    response = admin.post(
        "/api/v1/agencies", json={"slug": slug, "name": f"Agency {slug}", "kind": "ministry", **fields}
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def agency_a(admin: Actor) -> dict:
    return create_agency(admin, "agency-a", name="Ministry A")


@pytest.fixture
def agency_b(admin: Actor) -> dict:
    return create_agency(admin, "agency-b", name="Ministry B")


@pytest.fixture
def owner_a(client: FlaskClient, agency_a: dict) -> Actor:
    """An agency key of agency A."""
    return Actor(client, make_key(Role.AGENCY, agency_a["slug"]))


@pytest.fixture
def owner_b(client: FlaskClient, agency_b: dict) -> Actor:
    """An agency key of agency B."""
    return Actor(client, make_key(Role.AGENCY, agency_b["slug"]))


def case_body(**fields) -> dict:
    return {
        "title": "Education GPT",
        "summary": "Generative AI assistant for teachers in overcrowded classrooms.",
        "primary_sector": "education",
        "sandbox_type": "flagship_project",
        **fields,
    }


@pytest.fixture
def case_a(owner_a: Actor) -> dict:
    """A case of agency A, created by agency A's key."""
    response = owner_a.post("/api/v1/cases", json=case_body())
    assert response.status_code == 201, response.json
    return response.json


def publish(naio: Actor, owner: Actor, case: dict) -> dict:
    """Take the case through submit (owner) → admit (NAIO) → publish (NAIO); answers the published case."""
    url = f"/api/v1/cases/{case['id']}"
    submitted = owner.post(f"{url}/transitions", json={"action": "submit"})
    assert submitted.status_code == 200, submitted.json
    admitted = naio.post(f"{url}/transitions", json={"action": "admit"})
    assert admitted.status_code == 200, admitted.json
    published = naio.post(f"{url}/publication", json={"published": True})
    assert published.status_code == 200, published.json
    assert published.json["published"] is True
    return published.json
