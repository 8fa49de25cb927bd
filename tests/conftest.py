"""Fixtures: the app on each database, a rolled-back transaction per test, and a client per role."""

import os
import threading
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


@contextmanager
def empty_database(kind: str, sqlite_file: Path) -> Iterator[str]:
    """An empty database of the kind: the SQLite file, or a scratch PostgreSQL database (the test is skipped
    unless TEST_DATABASE_URL names a server)."""
    if kind == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    with scratch_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """An empty database of each kind, for the session."""
    with empty_database(request.param, tmp_path_factory.mktemp("db") / "registry.sqlite3") as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The database migrated to head, then started once, as `make run` and the Docker image do."""
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)
    # The first start stores the fingerprint of the documents' rendering (cases/documents.py): each
    # test's app then only reads it, instead of rebuilding the documents in the test's transaction.
    create_app(TestConfig, engine=engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=DATABASES)
def fresh_url(request, tmp_path) -> Iterator[str]:
    """A new, empty database for one test."""
    with empty_database(request.param, tmp_path / "fresh.sqlite3") as url:
        yield url


@pytest.fixture
def fresh_engine(fresh_url) -> Iterator[Engine]:
    """A new database migrated to head, for one test."""
    command.upgrade(alembic_config(fresh_url), "head")
    engine = make_engine(fresh_url)
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
    now = documents.rendered().subquery()
    stored = CaseDocument.document
    stale = or_(stored.is_(None), stored != now.c.document)
    return list(
        connection.scalars(select(Case.reference).join(now, now.c.id == Case.id).outerjoin(CaseDocument).where(stale))
    )


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


def in_parallel(count: int, work) -> list:
    """Run `work(i)` in `count` threads released at once; bounded by a join timeout."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def committed_app(engine: Engine):
    """An app whose requests commit for real, as in production (no rolled-back test transaction)."""
    return create_app(TestConfig, engine=engine)


# Factories: the test data, made through the API as the tests' users would, except the keys the fixtures
# act with (stored directly). Each takes keyword overrides of its body (any field name, `owner` too: the
# factory's own arguments are positional), checks the answer's status and answers the resource.


def create(actor: Actor, url: str, body: dict) -> dict:
    """POST the body; the resource created (201)."""
    response = actor.post(url, json=body)
    assert response.status_code == 201, response.json
    return response.json


def make_key(role: Role, agency_slug: str | None = None) -> str:
    """A new key of the role (of the agency with the slug, for an agency key), stored directly in the
    database of the app made last: its plain text."""
    session = db.new_session(write=True)
    agency_id = keys_service.agency_id_for_slug(session=session, slug=agency_slug) if agency_slug else None
    _, plain_text = keys_service.create(session=session, role=role, name=f"test {role}", agency_id=agency_id)
    session.commit()
    session.close()
    return plain_text


def bearer(key: str) -> dict:
    """The headers that present the key."""
    return {"Authorization": f"Bearer {key}"}


def actor(client: FlaskClient, role: Role, agency_slug: str | None = None) -> Actor:
    """The client acting with a new key of the role (of the agency with the slug, for an agency key)."""
    return Actor(client, make_key(role, agency_slug))


def key_body(**fields) -> dict:
    return {"name": "KKM integration", "role": "agency", **fields}


def create_key(admin: Actor, /, **fields) -> dict:
    """A key created through the API; its plain text is in `key`, this once."""
    return create(admin, "/api/v1/keys", key_body(**fields))


@pytest.fixture
def admin(client: FlaskClient) -> Actor:
    return actor(client, Role.ADMIN)


@pytest.fixture
def naio(client: FlaskClient) -> Actor:
    return actor(client, Role.NAIO)


def create_agency(admin: Actor, slug: str, /, **fields) -> dict:
    return create(admin, "/api/v1/agencies", {"slug": slug, "name": f"Agency {slug}", "kind": "ministry", **fields})


@pytest.fixture
def agency_a(admin: Actor) -> dict:
    return create_agency(admin, "agency-a", name="Ministry A")


@pytest.fixture
def agency_b(admin: Actor) -> dict:
    return create_agency(admin, "agency-b", name="Ministry B")


@pytest.fixture
def owner_a(client: FlaskClient, agency_a: dict) -> Actor:
    """An agency key of agency A."""
    return actor(client, Role.AGENCY, agency_a["slug"])


@pytest.fixture
def owner_b(client: FlaskClient, agency_b: dict) -> Actor:
    """An agency key of agency B."""
    return actor(client, Role.AGENCY, agency_b["slug"])


def case_body(**fields) -> dict:
    return {
        "title": "Education GPT",
        "summary": "Generative AI assistant for teachers in overcrowded classrooms.",
        "primary_sector": "education",
        "sandbox_type": "flagship_project",
        **fields,
    }


def create_case(owner: Actor, /, **fields) -> dict:
    """A draft case of the owner's agency."""
    return create(owner, "/api/v1/cases", case_body(**fields))


@pytest.fixture
def case_a(owner_a: Actor) -> dict:
    """A case of agency A, created by agency A's key."""
    return create_case(owner_a)


def transition(actor: Actor, case: dict, action: str, /, **fields) -> dict:
    """Take the action (`submit`, `admit`, `start`...) on the case: the case after it."""
    response = actor.post(f"/api/v1/cases/{case['id']}/transitions", json={"action": action, **fields})
    assert response.status_code == 200, response.json
    return response.json


def admit(naio: Actor, owner: Actor, case: dict) -> dict:
    """Take the draft through submit (owner) → admit (NAIO): the admitted case."""
    transition(owner, case, "submit")
    return transition(naio, case, "admit")


def publish(naio: Actor, owner: Actor, case: dict) -> dict:
    """Take the draft through submit (owner) → admit (NAIO) → publish (NAIO): the published case."""
    admit(naio, owner, case)
    published = naio.post(f"/api/v1/cases/{case['id']}/publication", json={"published": True})
    assert published.status_code == 200, published.json
    assert published.json["published"] is True
    return published.json


def risk_body(**fields) -> dict:
    """A risk; a `subdomain` given without a `domain` brings its own domain."""
    body = {"title": "Hallucinated answers", "domain": "3", "subdomain": "3.1", "likelihood": 4, "impact": 3, **fields}
    if fields.get("subdomain") and "domain" not in fields:
        body["domain"] = fields["subdomain"].split(".")[0]
    return body


def create_risk(owner: Actor, case: dict, /, **fields) -> dict:
    return create(owner, f"/api/v1/cases/{case['id']}/risks", risk_body(**fields))


def outcome_body(**fields) -> dict:
    return {"title": "Officers trained", "kind": "quantitative", "method": "administrative_data", **fields}


def create_outcome(owner: Actor, case: dict, /, **fields) -> dict:
    return create(owner, f"/api/v1/cases/{case['id']}/outcomes", outcome_body(**fields))


def lesson_body(**fields) -> dict:
    return {
        "title": "Keep a teacher in the loop",
        "statement": "Answers reviewed by a teacher before use caught most errors.",
        "kind": "good_practice",
        **fields,
    }


def create_lesson(owner: Actor, case: dict, /, **fields) -> dict:
    return create(owner, f"/api/v1/cases/{case['id']}/lessons", lesson_body(**fields))


def curate(naio: Actor, lesson: dict, curation: str) -> dict:
    """Set the lesson's curation (`endorsed`, `retired`...): the lesson after it."""
    response = naio.post(f"/api/v1/lessons/{lesson['id']}/curation", json={"curation": curation})
    assert response.status_code == 200, response.json
    return response.json


def adopt(owner: Actor, lesson: dict, adopting_case: dict, /, **fields) -> dict:
    """The adoption of the lesson by the owner's case."""
    return create(
        owner, f"/api/v1/lessons/{lesson['id']}/adoptions", {"adopting_case_id": adopting_case["id"], **fields}
    )
