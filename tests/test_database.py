"""The database: SQLite settings, concurrent writers, stored documents rebuilt at start, plans and statistics.

The migrations have their own tests (test_migrations.py).
"""

import os
import subprocess
import sys
import uuid
from datetime import date

import psycopg
import pytest
from sqlalchemy import Engine, delete, event, inspect, select, text, update
from sqlalchemy.sql.visitors import iterate

from sandbox_api.cases import documents
from sandbox_api.cases.models import Case, CaseDocument, StoredDocumentVersion
from sandbox_api.cases.service import case_is_visible
from sandbox_api.insights.service import cases_in_scope
from sandbox_api.lessons.models import Lesson
from sandbox_api.policy.auth import ANONYMOUS, Caller, Role
from sandbox_api.storage.db import RegistryVersion, make_engine
from tests.conftest import (
    POSTGRES_URL,
    ROOT,
    bearer,
    case_body,
    cases_with_stale_documents,
    committed_app,
    in_parallel,
    make_key,
)


def test_sqlite_connections_enforce_foreign_keys_with_wal_and_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_postgresql_connections_do_not_compile_statements_just_in_time():
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    engine = make_engine(POSTGRES_URL, pool_size=1)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW jit")).scalar() == "off"
    engine.dispose()


def test_concurrent_writers_wait_for_each_other_instead_of_failing(fresh_engine):
    app = committed_app(fresh_engine)
    admin = bearer(make_key(Role.ADMIN))
    client = app.test_client()
    assert (
        client.post(
            "/api/v1/agencies", json={"slug": "moe", "name": "MOE", "kind": "ministry"}, headers=admin
        ).status_code
        == 201
    )
    agency = bearer(make_key(Role.AGENCY, "moe"))
    naio = bearer(make_key(Role.NAIO))

    responses = in_parallel(
        8, lambda index: app.test_client().post("/api/v1/cases", json=case_body(title=f"Pilot {index}"), headers=agency)
    )

    assert [response.status_code for response in responses] == [201] * 8
    references = {response.json["reference"] for response in responses}
    assert len(references) == 8
    assert client.get("/api/v1/cases?page_size=100", headers=naio).json.__len__() == 8


def test_two_writers_with_one_etag_one_wins_and_one_gets_412(fresh_engine):
    app = committed_app(fresh_engine)
    admin = bearer(make_key(Role.ADMIN))
    client = app.test_client()
    client.post("/api/v1/agencies", json={"slug": "moe", "name": "MOE", "kind": "ministry"}, headers=admin)
    agency = bearer(make_key(Role.AGENCY, "moe"))
    naio = bearer(make_key(Role.NAIO))
    url = client.post("/api/v1/cases", json=case_body(), headers=agency).headers["Location"]
    etag = client.get(url, headers=naio).headers["ETag"]

    responses = in_parallel(
        2,
        lambda index: app.test_client().patch(
            url, json={"title": f"Writer {index}"}, headers={**agency, "If-Match": etag}
        ),
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 412]
    winner = next(response for response in responses if response.status_code == 200)
    assert client.get(url, headers=naio).json["title"] == winner.json["title"]


def _registry_whose_documents_another_rendering_made(engine: Engine, left_by: str) -> tuple[list[str], dict, list]:
    """Three cases registered, then their stored documents left as `left_by` left them; answers the cases'
    URLs, a NAIO key's headers and each case as it was read before."""
    app = committed_app(engine)
    client = app.test_client()
    agency = {"slug": "moe", "name": "MOE", "kind": "ministry"}
    assert client.post("/api/v1/agencies", json=agency, headers=bearer(make_key(Role.ADMIN))).status_code == 201
    owner, naio = bearer(make_key(Role.AGENCY, "moe")), bearer(make_key(Role.NAIO))
    urls = []
    for index in range(3):
        created = client.post(
            "/api/v1/cases", json=case_body(title=f"Pilot {index}", sectors=["health"]), headers=owner
        )
        assert created.status_code == 201, created.json
        urls.append(created.headers["Location"])
    before = [client.get(url, headers=naio).json for url in urls]
    with engine.begin() as connection:
        if left_by == "another rendering":
            connection.execute(update(CaseDocument).values(document='{"id":"rendered otherwise"'))
            connection.execute(update(StoredDocumentVersion).values(fingerprint="0" * 64))
        else:  # a registry upgraded through migration 0007, which creates the table and renders nothing
            connection.execute(delete(CaseDocument))
            connection.execute(delete(StoredDocumentVersion))
        assert len(cases_with_stale_documents(connection)) == 3
    return urls, naio, before


def _registry_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(RegistryVersion.value))


@pytest.mark.parametrize("left_by", ["another rendering", "an upgrade through 0007"])
def test_a_start_rebuilds_the_stored_documents_that_another_rendering_made_and_the_next_only_reads(
    fresh_engine, left_by
):
    urls, naio, before = _registry_whose_documents_another_rendering_made(fresh_engine, left_by)
    version = _registry_version(fresh_engine)

    restarted = committed_app(fresh_engine)

    with fresh_engine.connect() as connection:
        assert cases_with_stale_documents(connection) == []
        assert connection.scalar(select(StoredDocumentVersion.fingerprint)) == documents.fingerprint(
            fresh_engine.dialect
        )
    assert [restarted.test_client().get(url, headers=naio).json for url in urls] == before
    # A write like any other: what was cached under the registry's version is not served again.
    assert _registry_version(fresh_engine) != version

    version = _registry_version(fresh_engine)
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(fresh_engine, "before_cursor_execute", record)
    try:
        committed_app(fresh_engine)
    finally:
        event.remove(fresh_engine, "before_cursor_execute", record)
    (read,) = [statement for statement in statements if statement != "BEGIN"]  # SQLite begins its reads
    assert read.startswith("SELECT") and "FROM stored_document_versions" in read
    assert _registry_version(fresh_engine) == version


# A gunicorn worker: it imports the application, waits for the others to have imported it too, creates the
# app, and says whether it rebuilt the stored documents.
WORKER = """
import os
import sys
import time
from pathlib import Path

from sandbox_api import create_app
from sandbox_api.cases import documents

rebuilt = []
refresh = documents.refresh


def counted_refresh(connection, case_ids=None):
    rebuilt.append(case_ids)
    refresh(connection, case_ids)
    time.sleep(0.5)  # a registry large enough for the other worker to start meanwhile


documents.refresh = counted_refresh
started, workers = Path(sys.argv[1]), int(sys.argv[2])
(started / str(os.getpid())).touch()
while len(list(started.iterdir())) < workers:
    time.sleep(0.01)
create_app()
print("rebuilt" if rebuilt else "found them rebuilt")
"""


def test_workers_that_start_at_once_rebuild_the_stored_documents_once(fresh_engine, tmp_path):
    urls, naio, before = _registry_whose_documents_another_rendering_made(fresh_engine, "an upgrade through 0007")
    started = tmp_path / "started"
    started.mkdir()
    database_url = fresh_engine.url.render_as_string(hide_password=False)

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(started), "2"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], [stderr for _, stderr in outputs]
    assert sorted(stdout.strip() for stdout, _ in outputs) == ["found them rebuilt", "rebuilt"]
    with fresh_engine.connect() as connection:
        assert cases_with_stale_documents(connection) == []
    client = committed_app(fresh_engine).test_client()
    assert [client.get(url, headers=naio).json for url in urls] == before


def _last_statement_of_the_pool(engine: Engine) -> str:
    """The text of the last statement that the pool's one connection sent, as PostgreSQL received it."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        (text_sent,) = connection.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        ).fetchone()
    return text_sent


def test_postgresql_runs_list_pages_on_generic_plans_and_plans_searches_for_their_words(fresh_engine):
    if fresh_engine.dialect.name != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    client = committed_app(fresh_engine).test_client()
    for page in (1, 1, 2):
        assert client.get(f"/api/v1/cases?status=active&page={page}").status_code == 200
    assert client.get("/api/v1/cases?q=pilot").status_code == 200
    # Sent with its word written in, so that PostgreSQL plans it for the word: with its values sent apart,
    # prepared or not, a statement gets a generic plan (`plan_cache_mode`).
    assert "'pilot'" in _last_statement_of_the_pool(fresh_engine)
    assert client.get("/api/v1/lessons?for_sector=health").status_code == 200
    assert "'health'" in _last_statement_of_the_pool(fresh_engine)
    # One request at a time: the requests and this query ran on the pool's one connection.
    assert fresh_engine.pool.checkedin() == 1
    with fresh_engine.connect() as connection:
        prepared = connection.execute(
            text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        ).all()
    pages = [row for row in prepared if "FROM cases JOIN (SELECT cases.id" in row.statement]
    # One statement per page (LIMIT and OFFSET are written into it), planned once for any filter values.
    assert len(pages) == 2
    assert all(row.custom_plans == 0 for row in pages)
    assert sum(row.generic_plans for row in pages) == 3
    assert not [
        row for row in prepared if "tsquery" in row.statement or "lesson_sectors.sector_code =" in row.statement
    ]


def test_sqlite_reads_whether_a_public_case_is_visible_from_an_index_alone(fresh_engine):
    if fresh_engine.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's")
    # The look-up that every public list of lessons, risks and outcomes makes for each matching record.
    statement = select(Lesson.id).where(case_is_visible(Lesson.case_id, ANONYMOUS))
    compiled = statement.compile(fresh_engine, compile_kwargs={"literal_binds": True})
    with fresh_engine.connect() as connection:
        plan = [row.detail for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
    assert "SEARCH cases USING COVERING INDEX ix_cases_id_published (id=? AND published=?)" in plan


def test_one_index_covers_every_column_an_insight_reads_of_the_cases_it_aggregates(fresh_engine):
    # Every filter an insight takes, as an agency sees it, with the columns the insights read of each case:
    # the database can choose them from that index alone, without reading the cases' wide rows.
    query = {
        "sector": ["health"],
        "capability": ["generative_ai"],
        "sandbox_type": ["regulatory_sandbox"],
        "status": ["active"],
        "started_from": date(2025, 1, 1),
        "started_to": date(2026, 12, 31),
    }
    caller = Caller(role=Role.AGENCY, agency_id=uuid.uuid4())
    scope = cases_in_scope(Case.status, Case.lead_agency_id, Case.review_overdue, query=query, caller=caller)
    read = {column.name for column in iterate(scope.element) if getattr(column, "table", None) is Case.__table__}
    indexes = {index["name"]: index["column_names"] for index in inspect(fresh_engine).get_indexes("cases")}
    assert read <= set(indexes["ix_cases_id_scope"]), read - set(indexes["ix_cases_id_scope"])
    assert indexes["ix_cases_id_scope"][0] == "id"


def test_postgresql_knows_how_many_cases_an_insights_date_range_keeps(connection, owner_a):
    if connection.dialect.name != "postgresql":
        pytest.skip("the estimates are PostgreSQL's")
    # 30 pilots of January 2025: every third has started, the others are placed at their planned start.
    for day in range(1, 31):
        start = "actual_start" if day % 3 == 0 else "planned_start"
        assert owner_a.post("/api/v1/cases", json=case_body(**{start: f"2025-01-{day:02d}"})).status_code == 201
    connection.execute(text("ANALYZE cases"))

    def estimated_cases(query: dict) -> float:
        scope = cases_in_scope(query=query, caller=Caller(role=Role.NAIO))
        compiled = select(scope.c.id).compile(connection)
        (plan,) = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
        return plan["Plan"]["Plan Rows"]

    # Without statistics on the expression, PostgreSQL guesses a third of the cases (10) for any range.
    assert estimated_cases({"started_to": date(2025, 12, 31)}) >= 27
    assert estimated_cases({"started_from": date(2025, 1, 21)}) <= 13
    assert estimated_cases({"started_from": date(2026, 1, 1)}) <= 2


def _sqlite_statistics(engine: Engine, index: str) -> list[int] | None:
    """The row count and rows per key of `index` that ANALYZE last measured, or None."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("sqlite_stat1"):
            return None
        stat = connection.scalar(text("SELECT stat FROM sqlite_stat1 WHERE idx = :index"), {"index": index})
    return [int(number) for number in stat.split()] if stat else None


def test_sqlite_measures_its_tables_for_the_planner_as_the_registry_grows(fresh_engine):
    if fresh_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's autovacuum analyzes its tables")
    app = committed_app(fresh_engine)
    client = app.test_client()
    admin = bearer(make_key(Role.ADMIN))
    agency = {"slug": "moe", "name": "MOE", "kind": "ministry"}
    assert client.post("/api/v1/agencies", json=agency, headers=admin).status_code == 201
    owner = bearer(make_key(Role.AGENCY, "moe"))
    measured = {}
    for count in range(1, 61):
        assert client.post("/api/v1/cases", json=case_body(), headers=owner).status_code == 201
        measured[count] = _sqlite_statistics(fresh_engine, "ix_cases_sandbox_type")
        # A read that plans with the index, on the pool's one connection, before the next write.
        assert client.get("/api/v1/cases?sandbox_type=flagship_project", headers=owner).status_code == 200
    # Measured at the first write after a read of the table (two cases then, of one sandbox type), not
    # again at each write, and again once the table had grown 25 times.
    assert measured[1] is None
    assert measured[2] == measured[10] == [2, 2]
    rows, per_sandbox_type = measured[60]
    assert 40 <= rows <= 60 and per_sandbox_type == rows
