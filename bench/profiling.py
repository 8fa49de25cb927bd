"""In-process profile of one registry route through Flask's test client: where a request's time goes."""

import argparse
import cProfile
import os
import pstats
import re
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import event

from bench import UNEXHAUSTIBLE_RATE_LIMIT, build
from bench.bare_app import BARE_PATH, create_bare_app

ROUTES = {
    "list": "/api/v1/cases?sector=education&status=active&page_size=20",
    "item": "/api/v1/cases/{case_id}",
    "lessons": "/api/v1/lessons?applies_to=health",
}

# (label, file suffix, function name): inclusive (cumulative) time of each, as a share of the request.
COMMON_MARKERS = [
    ("whole request in Flask (wsgi_app)", "flask/app.py", "wsgi_app"),
    ("auth hook (authorize_request)", "sandbox_api/auth.py", "authorize_request"),
    ("pool checkout (with pool_pre_ping's round trip, if on)", "sqlalchemy/pool/base.py", "_checkout"),
]
LIST_MARKERS = [
    ("webargs: parse the query string", "webargs/core.py", "parse"),
    ("build the filtered statement", "service.py", "list_statement"),
    ("paginate: total + page SELECT + headers", "sandbox_api/pagination.py", "paginate"),
    ("  total for X-Pagination (Session.scalar: COUNT, or version + cache)", "sqlalchemy/orm/session.py", "scalar"),
    ("  total for X-Pagination (pagination.count_rows)", "sandbox_api/pagination.py", "count_rows"),
    ("  page SELECT, its objects or rendering (the rest of paginate)", None, None),
    ("  Link header URLs (_page_url)", "sandbox_api/pagination.py", "_page_url"),
]
ITEM_MARKERS = [
    ("load the case (Session.scalar)", "sqlalchemy/orm/session.py", "scalar"),
    ("ETag: hash of the dumped case", "flask_smorest/etag.py", "_generate_etag"),
]
TAIL_MARKERS = [
    ("render JSON in the database (rendering.render_list)", "sandbox_api/rendering.py", "render_list"),
    ("render JSON in the database (rendering.render_one)", "sandbox_api/rendering.py", "render_one"),
    ("ETag of the rendered bytes (rendering.etag_of)", "sandbox_api/rendering.py", "etag_of"),
    ("marshmallow dump", "marshmallow/schema.py", "dump"),
    ("JSON encoding + Response (jsonify)", "flask/json/__init__.py", "jsonify"),
    ("session close / rollback (teardown)", "sandbox_api/db.py", "_close_session"),
]


def markers(route: str) -> list[tuple[str, str | None, str | None]]:
    return [*COMMON_MARKERS, *(ITEM_MARKERS if route == "item" else LIST_MARKERS), *TAIL_MARKERS]


def _cumulative(stats: pstats.Stats, file_suffix: str, function: str) -> float:
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    return sum(
        cumulative
        for (filename, _line, name), (_calls, _primitive, _own, cumulative, _callers) in table.items()
        if name == function and filename.replace(os.sep, "/").endswith(file_suffix)
    )


def _driver_time(stats: pstats.Stats) -> float:
    """Own time of the database drivers' C methods (execute, fetch): the part the database engine itself takes."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    pattern = re.compile(r"of '(sqlite3\.\w+|psycopg[\w.]*)' objects|psycopg")
    return sum(
        own
        for (filename, _line, name), (_calls, _primitive, own, _cumulative, _callers) in table.items()
        if pattern.search(name) or "psycopg" in filename
    )


def _timed(call: Callable[[], Any], requests: int) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds per call; CPU time is what other processes on the machine cannot inflate."""
    started, started_cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        call()
    return (time.perf_counter() - started) / requests * 1000, (time.process_time() - started_cpu) / requests * 1000


def _count_statements(app: Flask, call: Callable[[], Any]) -> tuple[int, float, list[str]]:
    """Statements one request sends, and the time spent between sending each and its cursor returning."""
    from sandbox_api.storage.db import db

    seen: list[tuple[str, float]] = []
    started: dict[int, float] = {}

    def before(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        seen.append((statement, time.perf_counter() - started.pop(id(cursor), time.perf_counter())))

    assert db.engine is not None
    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    firsts = [" ".join(statement.split())[:110] for statement, _ in seen]
    return len(seen), sum(seconds for _, seconds in seen) * 1000, firsts


def profile(database_url: str, route: str, requests: int, top: int, save: str | None = None) -> None:
    from sandbox_api import create_app
    from sandbox_api.config import Config

    settings = type(
        "ProfileConfig", (Config,), {"DATABASE_URL": database_url, "RATELIMIT_APPLICATION": UNEXHAUSTIBLE_RATE_LIMIT}
    )
    app = create_app(settings)
    client = app.test_client()
    path = ROUTES[route]
    if "{case_id}" in path:
        first = client.get(ROUTES["list"]).json[0]["id"]  # type: ignore[index]
        path = path.format(case_id=first)
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")

    def call() -> None:
        client.get(path)

    _timed(call, 50)
    plain_ms, plain_cpu_ms = _timed(call, requests)
    statements, sql_ms, texts = _count_statements(app, call)

    bare_payload = build.BENCH_DIR / "bare_payload.json"
    if route == "list" and not bare_payload.exists():
        bare_payload.write_bytes(response.data)
    bare_client = create_bare_app(bare_payload).test_client()

    def bare_call() -> None:
        bare_client.get(BARE_PATH)

    _timed(bare_call, 50)
    bare_ms, bare_cpu_ms = _timed(bare_call, requests)

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    if save:
        stats.dump_stats(save)
    total = _cumulative(stats, "flask/app.py", "wsgi_app")

    print(f"GET {path} on {database_url.split('://')[0]}, {requests:,} requests through the test client")
    print(
        f"  without profiler: {plain_ms:.3f} ms per request ({plain_cpu_ms:.3f} ms CPU); bare Flask page: "
        f"{bare_ms:.3f} ms ({bare_cpu_ms:.3f} ms CPU); bare / route CPU ratio {bare_cpu_ms / plain_cpu_ms:.2f}"
    )
    print(f"  {statements} SQL statements per request, {sql_ms:.3f} ms from execute to cursor (one request, warm)")
    for text in texts:
        print(f"    {text}")
    shares: dict[str, float] = defaultdict(float)
    for label, suffix, function in markers(route):
        if suffix is not None and function is not None:
            shares[label] = _cumulative(stats, suffix, function)
    if route != "item":
        paginate, scalar, count_rows, page, links = (label for label, _, _ in LIST_MARKERS[2:7])
        total_cost = shares[count_rows] or shares[scalar]
        shares[page] = max(0.0, shares[paginate] - total_cost - shares[links])
        if shares[count_rows]:
            shares[scalar] = 0.0  # Session.scalar also runs inside count_rows: show count_rows alone
    print(
        f"\n  inclusive time under the profiler ({total / requests * 1000:.3f} ms per request with its overhead; "
        "a line includes whatever it calls, so lines overlap):"
    )
    for label, _suffix, _function in markers(route):
        seconds = shares[label]
        if not seconds:
            continue  # not on this route's path (the code may have moved on since these markers were written)
        print(f"    {label:<62} {seconds / requests * 1000:7.3f} ms  {seconds / total:6.1%}")
    driver = _driver_time(stats)
    print(
        f"    {'of which inside the database driver (C execute/fetch)':<62} {driver / requests * 1000:7.3f} ms  {driver / total:6.1%}"
    )
    print(f"\n  top {top} functions by own time:")
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--route", choices=sorted(ROUTES), default="list")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", metavar="PATH", help="also write the raw profile (for pstats or snakeviz) to PATH")
    parser.add_argument(
        "--postgresql", action="store_true", help="profile against BENCH_DATABASE_URL instead of SQLite"
    )
    arguments = parser.parse_args()
    if arguments.postgresql:
        url = os.environ.get("BENCH_DATABASE_URL")
        if not url:
            raise SystemExit("--postgresql needs BENCH_DATABASE_URL")
        database_url = build.ensure_postgres(url)
    else:
        database_url = build.ensure_sqlite()
    profile(database_url, arguments.route, arguments.requests, arguments.top, arguments.save)


if __name__ == "__main__":
    main()
