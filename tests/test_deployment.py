"""The Docker recipe lints clean, and its start command migrates and serves on SQLite and PostgreSQL."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import yaml
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sysconfig.get_path("scripts"))
START_SCRIPT = ROOT / "bin" / "start"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
READY_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    instructions, pending = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def test_hadolint_finds_nothing_in_the_dockerfile():
    result = subprocess.run(
        [str(VENV_BIN / "hadolint"), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_image_starts_with_the_start_script():
    instructions = dockerfile_instructions()
    commands = [arguments for keyword, arguments in instructions if keyword == "CMD"]
    assert json.loads(commands[-1]) == ["bin/start"]
    assert "ENTRYPOINT" not in {keyword for keyword, _ in instructions}
    assert os.access(START_SCRIPT, os.X_OK)


def test_the_image_holds_what_the_start_script_runs():
    copied = {
        source
        for keyword, arguments in dockerfile_instructions()
        if keyword == "COPY" and "--from" not in arguments
        for source in [word for word in arguments.split() if not word.startswith("--")][:-1]
    }
    assert {"alembic.ini", "gunicorn.conf.py", "wsgi.py", "migrations", "sandbox_api", "bin/start"} <= copied
    assert all((ROOT / source).exists() for source in copied)


def test_compose_serves_on_loopback_only_once_postgres_is_healthy():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    api = services["api"]
    assert all(str(port).startswith("127.0.0.1:") for port in api["ports"])
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in services["db"]
    assert api["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def migrations_head() -> str:
    return ScriptDirectory.from_config(AlembicConfig(str(ROOT / "alembic.ini"))).get_current_head()


def log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-40:])


@contextmanager
def started_service(
    database_url: str, log: Path, *, workers: int = 1, **environment: str
) -> Iterator[tuple[subprocess.Popen, str]]:
    """bin/start in its own process group, as a container runs it; yields the process and its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "LOAD_DEMO_DATA": "0",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # gunicorn's control socket defaults to one path per user; keep each test's server on its own.
        "XDG_RUNTIME_DIR": str(log.parent),
        **environment,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(START_SCRIPT)], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group, a bounded wait, then SIGKILL to whatever is left."""
    with suppress(ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT_SECONDS)


def wait_until_ready(process: subprocess.Popen, base_url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bin/start exited with {process.returncode}:\n{log_tail(log)}")
        try:
            if get(f"{base_url}/health/ready")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"/health/ready did not answer 200 within {READY_TIMEOUT_SECONDS} s:\n{log_tail(log)}")


def test_the_start_script_migrates_then_serves(fresh_url, tmp_path):
    log = tmp_path / "start.log"
    with started_service(fresh_url, log) as (process, base_url):
        wait_until_ready(process, base_url, log)

        status, body = get(f"{base_url}/openapi.json")
        assert status == 200
        assert json.loads(body)["openapi"].startswith("3.1")

        status, body = get(f"{base_url}/api/v1/taxonomies/sectors")
        assert status == 200
        assert "education" in {term["code"] for term in json.loads(body)["terms"]}

    engine = create_engine(fresh_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            migrations_head()
        ]
    engine.dispose()


def test_the_server_stops_gracefully_when_its_first_process_gets_sigterm(tmp_path):
    # `docker stop` signals only PID 1: bin/start must hand PID 1 to gunicorn (exec), which then stops its workers.
    log = tmp_path / "start.log"
    with started_service(f"sqlite:///{tmp_path / 'x.sqlite3'}", log) as (process, base_url):
        wait_until_ready(process, base_url, log)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, log_tail(log)
        assert not accepts_connections(int(base_url.rpartition(":")[2]))


def raw_answer(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (an HTTP client would refuse to) and read the answer to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /api/v1/cases?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /api/v1/cases HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (b"GET /api/v1/cases HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n", 400),
    ],
)
def test_what_the_server_refuses_itself_is_problem_details_with_the_security_headers(tmp_path, request_bytes, status):
    # gunicorn answers these before the application sees them; they were HTML pages without the headers.
    log = tmp_path / "start.log"
    with started_service(f"sqlite:///{tmp_path / 'x.sqlite3'}", log) as (process, base_url):
        wait_until_ready(process, base_url, log)
        answered, headers, body = raw_answer(int(base_url.rpartition(":")[2]), request_bytes)

    assert answered == status
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == status
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_a_second_server_on_a_busy_address_refuses_to_start_and_the_log_names_the_address(tmp_path):
    # With SO_REUSEPORT, the second server's workers joined the first's port and took half of its requests.
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with started_service(f"sqlite:///{tmp_path / 'first.sqlite3'}", first_log) as (first, base_url):
        wait_until_ready(first, base_url, first_log)
        assert f"Serving on {base_url}" in first_log.read_text()
        with started_service(
            f"sqlite:///{tmp_path / 'second.sqlite3'}", second_log, BIND=base_url.removeprefix("http://")
        ) as (second, _):
            assert second.wait(timeout=READY_TIMEOUT_SECONDS) != 0
        assert f"Another server listens on {base_url.removeprefix('http://')}; not starting." in second_log.read_text()
        assert get(f"{base_url}/health/live")[0] == 200


def test_a_liveness_probe_never_waits_behind_requests_that_hold_every_thread(tmp_path):
    # While a frozen database held every thread, /health/live queued behind them for up to DATABASE_TIMEOUT,
    # long enough for an orchestrator to kill a healthy process. A client that sends half a request head
    # holds the worker's one thread here for as long as it likes.
    log = tmp_path / "start.log"
    with started_service(f"sqlite:///{tmp_path / 'x.sqlite3'}", log, GUNICORN_THREADS="1") as (process, base_url):
        wait_until_ready(process, base_url, log)
        port = int(base_url.rpartition(":")[2])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as holder:
            holder.sendall(b"GET /api/v1/taxonomies/sectors HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.5)
            with pytest.raises(TimeoutError):
                urllib.request.urlopen(f"{base_url}/api/v1/taxonomies/sectors", timeout=1)

            # Queued behind the held thread, a probe would never be answered: these time out after 5 s.
            probes = [get(f"{base_url}/health/live")[0] for _ in range(5)]
            kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            for _ in range(2):
                kept_alive.request("GET", "/health/live")
                answer = kept_alive.getresponse()
                answer.read()
                probes.append(answer.status)
            kept_alive.close()
        assert get(f"{base_url}/api/v1/taxonomies/sectors")[0] == 200  # the thread is free again

    assert probes == [200] * 7
