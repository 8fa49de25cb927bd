"""What each cache of sandbox_api/caches.py saves: the same requests, in-process, with every cache and with one
cache emptied before every request, in alternating rounds of the same run.

    .venv/bin/python -m bench.caches                          # SQLite (the bench's file, built if missing)
    BENCH_DATABASE_URL=... .venv/bin/python -m bench.caches --postgresql

A request goes through Flask's test client (no HTTP, no gunicorn), as in bench/profiling.py, so that what a
cache saves is not lost in the noise of the loopback and of wrk. For each cache and route the table gives the
median milliseconds per request of each side, as wall-clock time and as CPU time: this process's, plus on
PostgreSQL the CPU time of its server processes serving this database (from /proc/<pid>/schedstat). CPU time
is what other work on a shared machine inflates least: the share of the uncached request's CPU time that the
cache saves is the figure judged. A cache that saves under 5 % on every route it serves, on both databases,
does not pay for itself (docs/adr/0006-caches.md).
"""

import argparse
import itertools
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import INSIGHT_PATHS, LESSONS_PATH, LIST_PATH, UNEXHAUSTIBLE_RATE_LIMIT, build

RISKS_OF_A_CASE = "/api/v1/cases/{case_id}/risks"
# A new question of the list's shape at each request: a planned start on or before a day no request asked
# before (from 2100 on), so that no statement, total or parsed query of an earlier request serves it.
NEW_LIST_QUESTION = LIST_PATH + "&planned_start_to={day}"
_days = itertools.count(1)


@dataclass
class Scenario:
    """A cache, emptied before every request of the uncached side, and the routes it serves."""

    cache: str
    routes: tuple[str, ...]
    note: str = ""
    # Also emptied on the uncached side: caches that depend on this one.
    with_caches: tuple[str, ...] = ()
    requests: int = 100


SCENARIOS = (
    Scenario("PARSED_QUERIES", (LIST_PATH, LESSONS_PATH, INSIGHT_PATHS[2])),
    Scenario("LIST_STATEMENTS", (LIST_PATH, LESSONS_PATH)),
    Scenario(
        "PAGE_STATEMENTS",
        (NEW_LIST_QUESTION, RISKS_OF_A_CASE),
        note="served when a statement is new: a new question (where no total is kept either way), or a list "
        "that is not built once per query; new page statements also miss LIST_TOTALS, which is keyed by the "
        "count statement: compare the risks of a case with LIST_TOTALS emptied alone",
    ),
    Scenario("LIST_TOTALS", (LIST_PATH, LESSONS_PATH, RISKS_OF_A_CASE)),
    Scenario("INSIGHT_ANSWERS", INSIGHT_PATHS, requests=3),
)


@dataclass
class Row:
    database: str
    cache: str
    route: str
    cached_ms: float
    emptied_ms: float
    cached_cpu_ms: float
    emptied_cpu_ms: float
    saving: float
    rounds: list[dict[str, float]] = field(default_factory=list)


def _server_cpu_seconds(pids: list[int]) -> float:
    """CPU time that these processes have run for (the first field of schedstat, in nanoseconds)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def _timed(
    call: Callable[[], Any], requests: int, before: Callable[[], None], server_pids: Callable[[], list[int]]
) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds per call (`before` runs outside the measured time)."""
    pids = server_pids()
    wall = cpu = 0.0
    for _ in range(requests):
        before()
        started_server = _server_cpu_seconds(pids)
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        cpu += _server_cpu_seconds(pids) - started_server
    return wall / requests * 1000, cpu / requests * 1000


def measure(
    database_url: str, rounds: int, only: set[str] | None = None, requests_per_round: int | None = None
) -> list[Row]:
    from sandbox_api import caches, create_app
    from sandbox_api.config import Config

    settings = type(
        "CachesConfig", (Config,), {"DATABASE_URL": database_url, "RATELIMIT_APPLICATION": UNEXHAUSTIBLE_RATE_LIMIT}
    )
    app = create_app(settings)
    client = app.test_client()
    first = client.get(LIST_PATH)
    if first.status_code != 200:
        raise SystemExit(f"GET {LIST_PATH} answered {first.status_code}: {first.get_data(as_text=True)[:300]}")
    case_id = first.json[0]["id"]  # type: ignore[index]
    database = database_url.split(":", 1)[0].split("+", 1)[0]

    def server_pids() -> list[int]:
        if database != "postgresql":
            return []
        from sqlalchemy import text

        from sandbox_api.storage.db import db

        with app.app_context(), db.engine.connect() as connection:  # type: ignore[union-attr]
            return list(
                connection.scalars(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
                    )
                )
            )

    rows = []
    for scenario in SCENARIOS:
        if only and scenario.cache not in only:
            continue
        if not hasattr(caches, scenario.cache):
            print(f"{scenario.cache}: not in sandbox_api/caches.py (removed), skipped")
            continue
        emptied = [getattr(caches, name) for name in (scenario.cache, *scenario.with_caches)]

        def empty(emptied=emptied) -> None:
            for cache in emptied:
                cache.clear()

        for route in scenario.routes:

            def call(route=route) -> None:
                path = route.format(case_id=case_id, day=date(2100, 1, 1) + timedelta(days=next(_days)))
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            requests = requests_per_round or scenario.requests
            _timed(call, max(3, requests // 5), lambda: None, server_pids)
            _timed(call, max(3, requests // 5), empty, server_pids)
            sides: dict[str, list[tuple[float, float]]] = {"cached": [], "emptied": []}
            for _ in range(rounds):
                sides["cached"].append(_timed(call, requests, lambda: None, server_pids))
                sides["emptied"].append(_timed(call, requests, empty, server_pids))
            cached_cpu_ms = statistics.median(cpu for _, cpu in sides["cached"])
            emptied_cpu_ms = statistics.median(cpu for _, cpu in sides["emptied"])
            row = Row(
                database=database,
                cache=scenario.cache,
                route=route,
                cached_ms=statistics.median(wall for wall, _ in sides["cached"]),
                emptied_ms=statistics.median(wall for wall, _ in sides["emptied"]),
                cached_cpu_ms=cached_cpu_ms,
                emptied_cpu_ms=emptied_cpu_ms,
                saving=1 - cached_cpu_ms / emptied_cpu_ms,
                rounds=[
                    {
                        "cached_ms": cached[0],
                        "cached_cpu_ms": cached[1],
                        "emptied_ms": other[0],
                        "emptied_cpu_ms": other[1],
                    }
                    for cached, other in zip(sides["cached"], sides["emptied"], strict=True)
                ],
            )
            rows.append(row)
            print(
                f"{database:<10} {scenario.cache:<19} {route.removeprefix('/api/v1')[:58]:<58} "
                f"{row.cached_ms:8.3f} {row.emptied_ms:8.3f}  {cached_cpu_ms:8.3f} {emptied_cpu_ms:8.3f}  "
                f"{row.saving:6.1%}",
                flush=True,
            )
    for scenario in SCENARIOS:
        if scenario.note and (not only or scenario.cache in only):
            print(f"  {scenario.cache}: {scenario.note}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of each side (median reported)")
    parser.add_argument("--cache", action="append", help="measure only this cache (repeatable)")
    parser.add_argument("--requests", type=int, help="requests per round and side (default: 100, 3 for insights)")
    parser.add_argument("--postgresql", action="store_true", help="measure on BENCH_DATABASE_URL instead of SQLite")
    parser.add_argument("--json", metavar="PATH", help="also write the rows, with every round, to PATH")
    parser.add_argument("--url", help="measure on this database as it is (not checked against the bench's build)")
    arguments = parser.parse_args()
    if arguments.url:
        database_url = arguments.url
    elif arguments.postgresql:
        url = os.environ.get("BENCH_DATABASE_URL")
        if not url:
            raise SystemExit("--postgresql needs BENCH_DATABASE_URL")
        database_url = build.ensure_postgres(url)
    else:
        database_url = build.ensure_sqlite()
    print(
        f"{'database':<10} {'cache':<19} {'route (under /api/v1)':<58} {'wall ms: cached':>17} {'emptied':>8}  "
        f"{'CPU ms: cached':>8} {'emptied':>8}  CPU saved"
    )
    rows = measure(
        database_url, arguments.rounds, set(arguments.cache) if arguments.cache else None, arguments.requests
    )
    if arguments.json:
        with open(arguments.json, "w") as output:
            json.dump([row.__dict__ for row in rows], output, indent=2)


if __name__ == "__main__":
    main()
