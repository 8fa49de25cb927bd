"""A sick database gets bounded waits: 503 problem details with Retry-After in time, never a hung request."""

import sqlite3
import time
from collections.abc import Iterator

import pytest
from alembic import command
from flask import Flask
from psycopg.errors import ConnectionTimeout
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from sandbox_api import create_app
from sandbox_api.config import TestConfig
from sandbox_api.policy.auth import Role
from sandbox_api.private_apis import BoundedWaitConnection
from sandbox_api.storage.db import DATABASE_RETRY_AFTER_SECONDS, db, make_engine, waits_within
from tests.conftest import POSTGRES_URL, alembic_config, bearer, make_key
from tests.faults import DatabaseProxy, database_proxy

WAIT_LIMIT_SECONDS = 1
# libpq gives a new connection 2 s at least, whatever less it is asked for.
CONNECT_LIMIT_SECONDS = 2
# What a bound may overrun by on a loaded machine: thread scheduling, the proxy, the answer itself.
SLACK_SECONDS = 1.5

requires_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set")


class QuickConfig(TestConfig):
    DATABASE_TIMEOUT = WAIT_LIMIT_SECONDS
    HEALTH_READY_TIMEOUT = 0.5


def timed_get(app: Flask, path: str):
    started = time.monotonic()
    response = app.test_client().get(path)
    return response, time.monotonic() - started


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)


@pytest.fixture
def proxy(engine) -> Iterator[DatabaseProxy]:
    """A proxy in front of the session's PostgreSQL database, whose schema and taxonomies are in place."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the proxy plays a PostgreSQL server")
    with database_proxy(engine.url.render_as_string(hide_password=False)) as proxy:
        yield proxy


@pytest.fixture
def proxied_app(proxy: DatabaseProxy, engine) -> Iterator[Flask]:
    proxied = make_engine(proxy.url_for(engine.url.render_as_string(hide_password=False)), timeout=WAIT_LIMIT_SECONDS)
    yield create_app(QuickConfig, engine=proxied)
    proxy.thaw()
    proxy.start()
    proxied.dispose()


@requires_postgres
def test_a_request_on_a_frozen_database_answers_503_within_its_limit(proxy, proxied_app):
    assert timed_get(proxied_app, "/api/v1/cases")[0].status_code == 200  # a pooled connection to ping
    proxy.freeze()

    response, elapsed = timed_get(proxied_app, "/api/v1/cases")

    assert_unavailable(response)
    assert elapsed < WAIT_LIMIT_SECONDS + SLACK_SECONDS


@requires_postgres
def test_a_new_connection_to_a_frozen_database_is_given_up_within_the_connect_limit(proxy, proxied_app):
    proxy.freeze()

    response, elapsed = timed_get(proxied_app, "/api/v1/cases")

    assert_unavailable(response)
    assert elapsed < CONNECT_LIMIT_SECONDS + SLACK_SECONDS


@requires_postgres
def test_once_a_wait_ran_out_requests_fail_at_once_until_the_database_answers_again(proxy, proxied_app):
    assert timed_get(proxied_app, "/api/v1/cases")[0].status_code == 200
    proxy.freeze()
    assert_unavailable(timed_get(proxied_app, "/api/v1/cases")[0])

    # Paused: no request waits out its limit again, so the worker's threads stay free.
    for path in ("/api/v1/cases", "/api/v1/lessons", "/health/ready"):
        response, elapsed = timed_get(proxied_app, path)
        assert_unavailable(response)
        assert elapsed < WAIT_LIMIT_SECONDS / 2
    response, _ = timed_get(proxied_app, "/health/live")
    assert response.status_code == 200

    proxy.thaw()
    time.sleep(DATABASE_RETRY_AFTER_SECONDS)  # as Retry-After says
    assert timed_get(proxied_app, "/api/v1/cases")[0].status_code == 200
    assert timed_get(proxied_app, "/api/v1/lessons")[0].status_code == 200


@requires_postgres
def test_readiness_on_a_frozen_database_answers_503_within_its_own_shorter_limit(proxy, proxied_app):
    assert timed_get(proxied_app, "/health/ready")[0].status_code == 200
    proxy.freeze()

    response, elapsed = timed_get(proxied_app, "/health/ready")

    assert_unavailable(response)
    assert elapsed < QuickConfig.HEALTH_READY_TIMEOUT + BoundedWaitConnection.CANCEL_SECONDS + SLACK_SECONDS
    assert elapsed < WAIT_LIMIT_SECONDS + BoundedWaitConnection.CANCEL_SECONDS  # not a request's whole bound


@requires_postgres
def test_a_stopped_database_answers_503_at_once_and_a_restarted_one_serves_again(proxy, proxied_app):
    assert timed_get(proxied_app, "/api/v1/cases")[0].status_code == 200
    proxy.stop()

    response, elapsed = timed_get(proxied_app, "/api/v1/cases")
    assert_unavailable(response)
    assert elapsed < WAIT_LIMIT_SECONDS

    proxy.start()
    assert timed_get(proxied_app, "/api/v1/cases")[0].status_code == 200


@requires_postgres
def test_a_statement_that_outlasts_its_limit_on_a_running_database_is_cancelled_and_pauses_nothing(engine):
    # Under load, a statement may outlast its limit on a database that runs: the first such request paused
    # every request of the worker for 5 s (503s by the dozen under `make bench`), and the server ran the
    # statement to its end for nobody.
    if engine.dialect.name != "postgresql":
        pytest.skip("pg_sleep is PostgreSQL's")
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(QuickConfig, engine=make_engine(url, timeout=WAIT_LIMIT_SECONDS))
    slow = select(func.pg_sleep(WAIT_LIMIT_SECONDS + 29.5))
    with app.app_context(), waits_within(WAIT_LIMIT_SECONDS), pytest.raises(OperationalError) as raised:
        db.session.execute(slow)
    assert isinstance(raised.value.orig, ConnectionTimeout)

    assert timed_get(app, "/api/v1/cases")[0].status_code == 200
    still_running = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep(30%'"
    )
    with engine.connect() as connection:
        deadline = time.monotonic() + SLACK_SECONDS
        while connection.execute(still_running).scalar() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert connection.execute(still_running).scalar() == 0


@requires_postgres
def test_outside_a_request_a_slow_statement_is_not_cut_short(proxied_app):
    # The CLI and the start-up (a rebuild of stored documents) may run statements longer than a request may wait.
    with proxied_app.app_context():
        db.session.execute(select(func.pg_sleep(WAIT_LIMIT_SECONDS + 0.5)))


def test_a_write_that_waits_for_the_sqlite_lock_longer_than_the_limit_answers_503(tmp_path):
    url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    sqlite_engine = make_engine(url, timeout=WAIT_LIMIT_SECONDS)
    app = create_app(QuickConfig, engine=sqlite_engine)
    admin = bearer(make_key(Role.ADMIN))
    agency = {"slug": "moe", "name": "Ministry of Education", "kind": "ministry"}
    holder = sqlite3.connect(tmp_path / "locked.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that keeps the lock

    started = time.monotonic()
    refused = app.test_client().post("/api/v1/agencies", json=agency, headers=admin)
    elapsed = time.monotonic() - started

    holder.execute("ROLLBACK")
    holder.close()
    assert_unavailable(refused)
    assert WAIT_LIMIT_SECONDS <= elapsed < WAIT_LIMIT_SECONDS + SLACK_SECONDS
    assert app.test_client().post("/api/v1/agencies", json=agency, headers=admin).status_code == 201
    sqlite_engine.dispose()
