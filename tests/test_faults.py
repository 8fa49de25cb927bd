"""Faults inflicted on the real server (bin/start: gunicorn, 2 workers) under steady traffic, each bounded in time.

Slow: `make chaos` runs them (and `.ci/run` runs `make chaos`); `make test` leaves them out.
"""

import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

from tests.conftest import POSTGRES_URL, case_body
from tests.faults import Traffic, database_proxy, send, send_until_answered
from tests.test_deployment import ROOT, VENV_BIN, started_service, wait_until_ready

pytestmark = pytest.mark.chaos

# How long traffic runs before and after a fault: long enough for hundreds of requests on this machine.
TRAFFIC_SECONDS = 2
CLIENTS = 4
# What a bound may overrun by on a loaded machine: scheduling, the proxy, the answer itself.
SLACK_SECONDS = 1.5
DATABASE_TIMEOUT = 2
# The traffic comes from one address, faster than a caller's budget allows.
UNTHROTTLED = {"RATELIMIT_APPLICATION": "1000000 per minute"}


def worker_pids(master_pid: int) -> set[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


def wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.1)


def gunicorn_master(process: subprocess.Popen) -> int:
    # bin/start execs gunicorn: the process it started is the master.
    return process.pid


def test_a_graceful_stop_under_load_answers_every_request_it_took(tmp_path):
    log = tmp_path / "start.log"
    with started_service(f"sqlite:///{tmp_path / 'x.sqlite3'}", log, workers=2, **UNTHROTTLED) as (process, base_url):
        wait_until_ready(process, base_url, log)
        with Traffic(base_url, "/api/v1/taxonomies/sectors", clients=CLIENTS) as traffic:
            time.sleep(TRAFFIC_SECONDS)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
            wait_for(lambda: traffic.refused >= CLIENTS, seconds=10, what="the stopped server refuses connections")

    print(f"stop under load: {traffic.summary()}")
    assert traffic.dropped == []
    assert traffic.answered[200] > 100
    assert set(traffic.answered) == {200}


def test_a_rolling_restart_of_the_workers_under_load_loses_nothing(tmp_path):
    log = tmp_path / "start.log"
    with started_service(f"sqlite:///{tmp_path / 'x.sqlite3'}", log, workers=2, **UNTHROTTLED) as (process, base_url):
        wait_until_ready(process, base_url, log)
        before = worker_pids(gunicorn_master(process))
        with Traffic(base_url, "/api/v1/taxonomies/sectors", clients=CLIENTS) as traffic:
            time.sleep(TRAFFIC_SECONDS)
            process.send_signal(signal.SIGHUP)
            wait_for(
                lambda: len(worker_pids(process.pid) - before) == 2 and not worker_pids(process.pid) & before,
                seconds=30,
                what="new workers replace the old ones",
            )
            time.sleep(TRAFFIC_SECONDS)

    print(f"rolling restart under load: {traffic.summary()}")
    assert traffic.dropped == []
    assert traffic.refused == 0
    assert set(traffic.answered) == {200}


def cli_key(database_url: str, *options: str) -> dict[str, str]:
    """The headers that present a new key, made with the CLI as an operator would."""
    created = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "flask", "--app", "wsgi", "keys", "create", *options],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}


def agency_owner(base_url: str, database_url: str) -> dict[str, str]:
    admin = cli_key(database_url, "--role", "admin", "--name", "Chaos admin")
    agency = {"slug": "moe", "name": "Ministry of Education", "kind": "ministry"}
    assert send(base_url, "POST", "/api/v1/agencies", body=agency, headers=admin)[0] == 201
    return cli_key(database_url, "--role", "agency", "--agency", "moe", "--name", "Chaos writer")


def in_threads(count: int, work) -> None:
    threads = [threading.Thread(target=work, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a writer is still waiting"


def feed_events(base_url: str, headers: dict[str, str]) -> list[dict]:
    events, after = [], None
    while True:
        query = f"?limit=100&after={after}" if after else "?limit=100"
        status, _, page = send(base_url, "GET", f"/api/v1/changes{query}", headers=headers)
        assert status == 200
        if not page["events"]:
            return events
        events += page["events"]
        after = page["next"]


WRITERS = 4
WRITES_PER_WRITER = 40
KILLS = 4


def test_workers_killed_during_idempotent_writes_lose_and_duplicate_nothing(fresh_url, tmp_path):
    log = tmp_path / "start.log"
    with started_service(fresh_url, log, workers=2, **UNTHROTTLED) as (process, base_url):
        wait_until_ready(process, base_url, log)
        owner = agency_owner(base_url, fresh_url)
        answers: dict[str, int] = {}
        resent = []

        def write(writer: int) -> None:
            for number in range(WRITES_PER_WRITER):
                title = f"Pilot {writer}-{number}"
                headers = {**owner, "Idempotency-Key": str(uuid.uuid4())}
                (status, _, _), failures = send_until_answered(
                    base_url, "POST", "/api/v1/cases", body=case_body(title=title), headers=headers
                )
                answers[title] = status
                resent.append(failures)

        def kill_workers() -> None:
            for _ in range(KILLS):
                time.sleep(0.5)
                victim = min(worker_pids(process.pid))
                os.kill(victim, signal.SIGKILL)
                wait_for(lambda: len(worker_pids(process.pid)) == 2, seconds=30, what="a new worker")

        killer = threading.Thread(target=kill_workers)
        killer.start()
        in_threads(WRITERS, write)
        killer.join(60)
        feed = feed_events(base_url, cli_key(fresh_url, "--role", "naio", "--name", "Chaos reader"))

    print(
        f"{KILLS} workers killed during {len(answers)} idempotent writes: {sum(resent)} connections failed "
        f"and were sent again, {len(feed)} events in the feed"
    )
    titles = {f"Pilot {writer}-{number}" for writer in range(WRITERS) for number in range(WRITES_PER_WRITER)}
    assert set(answers) == titles and set(answers.values()) == {201}
    engine = create_engine(fresh_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT title, count(*) FROM cases GROUP BY title")).all()
        case_events = connection.execute(
            text("SELECT count(*) FROM events WHERE entity_type = 'case' AND action = 'create'")
        ).scalar_one()
        all_events = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
    engine.dispose()
    assert dict(stored) == dict.fromkeys(titles, 1)  # none lost, none twice
    assert case_events == len(titles)  # one event per write
    ids = [event["id"] for event in feed]
    assert ids == sorted(set(ids)) and len(ids) == all_events  # the feed has every event, in order


def test_sixteen_writers_on_sqlite_never_meet_a_locked_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    log = tmp_path / "start.log"
    with started_service(url, log, workers=2, GUNICORN_THREADS="8", **UNTHROTTLED) as (process, base_url):
        wait_until_ready(process, base_url, log)
        owner = agency_owner(base_url, url)
        statuses: list[int] = []

        def write(writer: int) -> None:
            for number in range(10):
                body = case_body(title=f"Pilot {writer}-{number}")
                statuses.append(send(base_url, "POST", "/api/v1/cases", body=body, headers=owner)[0])

        in_threads(16, write)

    print(f"16 writers on SQLite: {Counter(statuses)}")
    assert statuses == [201] * 160
    assert "database is locked" not in log.read_text()


@pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set")
def test_a_frozen_then_stopped_postgresql_gets_bounded_503s_and_the_server_recovers_without_a_restart(
    fresh_url, tmp_path
):
    if not fresh_url.startswith("postgresql"):
        pytest.skip("the proxy plays a PostgreSQL server")
    log = tmp_path / "start.log"
    with database_proxy(fresh_url) as proxy:
        proxied = proxy.url_for(fresh_url)
        with started_service(proxied, log, workers=2, DATABASE_TIMEOUT=str(DATABASE_TIMEOUT), **UNTHROTTLED) as (
            process,
            base_url,
        ):
            wait_until_ready(process, base_url, log)
            with Traffic(base_url, "/api/v1/cases", clients=CLIENTS, timeout=30) as traffic:
                time.sleep(TRAFFIC_SECONDS)
                proxy.freeze()
                time.sleep(1)
                live = [timed(base_url, "/health/live") for _ in range(5)]
                time.sleep(TRAFFIC_SECONDS)
                proxy.thaw()
                proxy.stop()
                time.sleep(TRAFFIC_SECONDS)
                proxy.start()
                time.sleep(2 * TRAFFIC_SECONDS + 5)  # the pause that Retry-After announced, then traffic
                recovered = send(base_url, "GET", "/api/v1/cases")[0]

    print(f"PostgreSQL frozen, then stopped, then back: {traffic.summary()}; /health/live meanwhile: {live}")
    assert traffic.dropped == [] and traffic.refused == 0
    assert set(traffic.answered) == {200, 503}
    assert traffic.answered[503] > 0
    assert traffic.slowest[503] < DATABASE_TIMEOUT + SLACK_SECONDS
    assert all(status == 200 for status, _ in live)
    assert max(seconds for _, seconds in live) < 1  # no probe waited behind the threads held by the database
    assert recovered == 200


def timed(base_url: str, path: str) -> tuple[int, float]:
    started = time.monotonic()
    status = send(base_url, "GET", path, timeout=30)[0]
    return status, time.monotonic() - started
