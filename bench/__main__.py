"""`make bench`: wrk against the registry, a bare Flask endpoint and Datasette, under the production gunicorn settings."""

import itertools
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bench import INSIGHT_PATHS, LESSONS_PATH, LIST_PATH, UNEXHAUSTIBLE_RATE_LIMIT, build
from bench.bare_app import BARE_PATH
from bench.vocabulary import COMMON_TERM, MEDIUM_TERM

ROOT = build.ROOT
BENCH_DIR = build.BENCH_DIR
LOG_DIR = BENCH_DIR / "logs"
PAYLOAD_PATH = BENCH_DIR / "bare_payload.json"
VENV_BIN = ROOT / ".venv" / "bin"
# Datasette and its pins live in their own virtualenv (`make bench` installs bench/requirements.txt there).
DATASETTE_PYTHON = BENCH_DIR / "datasette-venv" / "bin" / "python"

DURATION_SECONDS = int(os.environ.get("BENCH_DURATION", "15"))
WARMUP_SECONDS = 3
WRK_THREADS = 2
WRK_TIMEOUT_SECONDS = 5
# Each URL is measured this many times and the median run (by req/s) reported; every run is kept in results.json.
RUNS = max(1, int(os.environ.get("BENCH_RUNS", "1")))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A gthread worker keeps the keep-alive connections it accepted; when one worker holds all of wrk's connections
# the other idles and the route measures at half speed, at random. Such a run is measured again, this many
# times at most.
IDLE_WORKER_RETRIES = int(os.environ.get("BENCH_IDLE_RETRIES", "2"))
# How far wrk's mean latency x requests may exceed duration x connections before its latencies are not believed
# (the latency of the requests in flight when the run ends is counted, their time is not all in the run).
LATENCY_SLACK = 1.1
CONNECTIONS = 16
READY_TIMEOUT_SECONDS = 120
P99_TARGET_MS = 50.0
LIST_RATIO_TARGETS = {"sqlite": 0.40, "postgresql": 0.30}
# Other work on a shared machine skews the figures: wait up to this long for the CPUs to be mostly idle.
QUIET_WAIT_SECONDS = int(os.environ.get("BENCH_QUIET_WAIT", "120"))
QUIET_CPU_SHARE = 0.25
# A run during which processes outside the benchmark used more than this share of the CPUs says so in its note.
OTHER_WORK_NOTE_SHARE = 0.05

# Per database: how busy the machine was with other work around the measurements.
CONDITIONS: dict[str, dict] = {}
# Process groups of the servers this run started (each runs in its own session).
SERVER_GROUPS: set[int] = set()

ITEM_PATH = "/api/v1/cases/{case_id}"
# Search, for a term in about 1.5 % of the rows and for one in about 20 % (ranking many matches is the hard case).
SEARCH_PATHS = (
    f"/api/v1/cases?q={MEDIUM_TERM}",
    f"/api/v1/lessons?q={MEDIUM_TERM}",
    f"/api/v1/lessons?q={COMMON_TERM}",
)
SEARCH_P50_TARGET_MS = 25.0
FOR_SECTOR_PATH = "/api/v1/lessons?for_sector=health"
# The filtered list with its facet counts (in the X-Facets header).
FACETS_PATH = f"{LIST_PATH}&facets=sandbox_type"
# Latency rows (insights for dashboards; search, for_sector and similar cases as one person asks them): one
# request at a time, so that the latency is the request's own, not a queue's.
LATENCY_CONNECTIONS = 1
INSIGHT_TARGET_MS = 250.0
# Insights are kept per question and registry state; rows marked `(1 connection, new questions)` measure
# what an answer costs when it is computed: each request asks with a `started_to` no request asked before.
NEW_QUESTION_SCRIPT = Path(__file__).resolve().parent / "new_question.lua"
# Days of `started_to` each wrk run may use (one per request), so that no two runs ask the same question.
NEW_QUESTIONS_PER_RUN = 10_000
_new_question_runs = itertools.count(1)
SIMILAR_PATH = "/api/v1/cases/{case_id}/similar"
EXPORT_PATHS = ("/api/v1/exports/cases?format=ndjson", "/api/v1/exports/cases?format=csv")
EXPORT_READ_BYTES = 64 * 1024
# Constant memory: a streamed export may grow its worker by a working set, never by a share of its size.
EXPORT_RSS_GROWTH_TARGET_MB = 25.0
# Datasette's closest equivalents of the filtered list and its facet query, on the same SQLite file: its
# table view cannot filter through a link table with plain parameters, so `_where` selects the sectors'
# cases. `published=1` and the sort are the registry's anonymous view and default order (`-created_at`).
DATASETTE_LIST_PATH = "/{database}/cases.json?" + urllib.parse.urlencode(
    {
        "_where": "id in (select case_id from case_sectors where sector_code = 'education')",
        "status": "active",
        "published": "1",
        "_sort_desc": "created_at",
        "_size": "20",
        "_shape": "objects",
        "_nosuggest": "1",
    }
)
DATASETTE_FACETS_PATH = DATASETTE_LIST_PATH + "&_facet=sandbox_type"
PEER_RATIO_TARGET = 3.0


@dataclass
class Measurement:
    """One wrk run, or the reason there was none."""

    database: str
    route: str
    url: str
    requests_per_second: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int | None = None
    non_2xx: int = 0
    timeouts: int = 0
    socket_errors: int = 0
    worker_restarts: int = 0
    connections_per_worker: list[list[int]] = field(default_factory=list)
    idle_workers: int = 0
    inconsistent_latencies: bool = False
    other_work_cpu_share: float = 0.0
    # throughput (wrk at 16 connections); at one connection, search (judged on its p50), insight (on its p99)
    # or latency (not judged); export (one whole download); or peer.
    kind: str = "throughput"
    ratio_to_bare: float | None = None
    # The registry route's req/s over Datasette's for the same question, in the same run.
    ratio_to_peer: float | None = None
    details: dict = field(default_factory=dict)
    target: str = ""
    met: bool | None = None
    note: str = ""
    runs: list[dict] = field(default_factory=list)


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package when it is missing; exits with a clear message if it cannot."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's package (apt-get install -y wrk) ...", flush=True)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("wrk is not installed and cannot be installed here: run `apt-get install -y wrk` as root.")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    installed = subprocess.run(["apt-get", "install", "-y", "wrk"], env=environment, check=False)
    if installed.returncode != 0:
        subprocess.run(["apt-get", "update"], env=environment, check=False)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=environment, check=False)
    found = shutil.which("wrk")
    if not found:
        sys.exit("Could not install wrk (apt-get install -y wrk failed): install it, then rerun `make bench`.")
    return found


def cpu_busy(seconds: float = 2.0) -> float | None:
    """Share of all CPUs busy over a short sample (from /proc/stat), or None where there is no /proc."""

    def sample() -> tuple[int, int]:
        values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values), idle

    try:
        total_before, idle_before = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except OSError:
        return None
    elapsed = total_after - total_before
    return 1 - (idle_after - idle_before) / elapsed if elapsed else None


def _process_cpu_ticks() -> dict[int, tuple[int, str, int]]:
    """CPU ticks used so far, command line and process group of every process that /proc shows."""
    ticks: dict[int, tuple[int, str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        ticks[int(entry.name)] = (int(fields[11]) + int(fields[12]), command[:100], int(fields[2]))  # utime + stime
    return ticks


def _other_work_share(before: dict[int, tuple[int, str, int]], seconds: float) -> float:
    """Share of all CPUs that processes outside the benchmark used since `before`.

    The benchmark is this process group, the servers' groups and PostgreSQL's backends (which serve them).
    """
    hertz, cpus = os.sysconf("SC_CLK_TCK"), os.cpu_count() or 1
    ours = {os.getpgrp(), *SERVER_GROUPS}
    used = 0
    for pid, (ticks, command, group) in _process_cpu_ticks().items():
        if group in ours or command.startswith("postgres"):
            continue
        used += ticks - before.get(pid, (0, "", 0))[0]
    return used / hertz / seconds / cpus


def busiest_processes(seconds: float = 1.0, count: int = 3) -> list[str]:
    """The processes that used the most CPU over a short sample, to say what keeps the machine busy."""
    try:
        before = _process_cpu_ticks()
        time.sleep(seconds)
        after = _process_cpu_ticks()
    except OSError:
        return []
    hertz = os.sysconf("SC_CLK_TCK")
    used = [
        (ticks - before[pid][0], pid, command)
        for pid, (ticks, command, _group) in after.items()
        if pid in before and ticks > before[pid][0]
    ]
    return [
        f"{delta / hertz / seconds:.0%} pid {pid} {command}"
        for delta, pid, command in sorted(used, reverse=True)[:count]
    ]


def wait_for_quiet_machine() -> float | None:
    """Wait (bounded) until other work on the machine quietens down; return the share of CPU busy when starting."""
    deadline = time.monotonic() + QUIET_WAIT_SECONDS
    busy = cpu_busy()
    if busy is not None and busy > QUIET_CPU_SHARE:
        print(f"  the machine is {busy:.0%} busy with other work; waiting up to {QUIET_WAIT_SECONDS} s. Busiest:")
        for line in busiest_processes():
            print(f"    {line}", flush=True)
    while busy is not None and busy > QUIET_CPU_SHARE and time.monotonic() < deadline:
        time.sleep(3)
        busy = cpu_busy()
    if busy is not None and busy > QUIET_CPU_SHARE:
        print(
            f"  WARNING: measuring while other work keeps {busy:.0%} of the CPUs busy: figures are noisier", flush=True
        )
    return busy


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_environment(port: int, **extra: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "ACCESS_LOG": "0",
        "LOAD_DEMO_DATA": "0",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    environment.pop("FLASK_DEBUG", None)
    return environment


def http_status(url: str, timeout: float = 10) -> int:
    """The status of one GET, or 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, urllib.error.URLError):
        return 0


@contextmanager
def serving(name: str, command: list[str], environment: dict[str, str], ready_url: str) -> Iterator[subprocess.Popen]:
    """Run a server in its own process group until the block ends; wait (bounded) until ready_url answers 200."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    SERVER_GROUPS.add(process.pid)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while http_status(ready_url, timeout=2) != 200:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} before it was ready; see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} was not ready within {READY_TIMEOUT_SECONDS} s; see {log_path}")
            time.sleep(0.25)
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (gunicorn's master and workers), then SIGKILL what is left."""
    for signal_number, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, signal_number)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


_LATENCY_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()  # type: ignore[union-attr]
    return float(number) * _LATENCY_UNITS_MS[unit]


def _impossible_latencies(output: str, requests: int) -> bool:
    """Whether wrk's latencies cannot be true: a connection waits for one request at a time, so the mean latency
    times the requests cannot exceed the run's duration times the connections. wrk 4.1 at one connection now
    and then prints a distribution that breaks this (seen: a mean of 55 ms over 3,182 requests in 10 s,
    p99 968 ms, where a client timing each request found a p99 of 3.9 ms and no request over 7 ms)."""
    connections = re.search(r"(\d+) connections", output)
    mean = re.search(r"^\s+Latency\s+([\d.]+[a-z]+)\s", output, re.MULTILINE)
    duration = re.search(r"requests in ([\d.]+[a-z]+),", output)
    if not (connections and mean and duration):
        return False
    waited_ms = _milliseconds(mean.group(1)) * requests
    return waited_ms > _milliseconds(duration.group(1)) * int(connections.group(1)) * LATENCY_SLACK


def parse_wrk(output: str) -> dict:
    """Requests per second, p50 and p99 in ms, requests, non-2xx/3xx responses and socket errors from wrk --latency."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    requests = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if not (rate and requests and "50" in percentiles and "99" in percentiles):
        raise ValueError(f"unexpected wrk output:\n{output}")
    connect, read, write, timeouts = (int(count) for count in errors.groups()) if errors else (0, 0, 0, 0)
    p50, p99 = _milliseconds(percentiles["50"]), _milliseconds(percentiles["99"])
    # wrk leaves requests that timed out out of its latency distribution, and prints zeros when that leaves none.
    no_latencies = p99 == 0
    return {
        "inconsistent_latencies": _impossible_latencies(output, int(requests.group(1))),
        "requests_per_second": float(rate.group(1)),
        "p50_ms": None if no_latencies else p50,
        "p99_ms": None if no_latencies else p99,
        "requests": int(requests.group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "timeouts": timeouts,
        "socket_errors": connect + read + write,
    }


def connections_per_worker(port: int) -> list[int] | None:
    """Established connections to the server's port, counted per server process (None without `ss`)."""
    if not shutil.which("ss"):
        return None
    listing = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, check=False
    )
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", listing.stdout):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def _new_questions_arguments() -> tuple[list[str], list[str]]:
    """wrk's script, and its argument after the URL, for a run of new questions (bench/new_question.lua)."""
    first_day = next(_new_question_runs) * NEW_QUESTIONS_PER_RUN
    return ["-s", str(NEW_QUESTION_SCRIPT)], ["--", str(first_day)]


def run_wrk(
    url: str,
    seconds: int,
    *,
    connections: int = CONNECTIONS,
    threads: int = WRK_THREADS,
    new_questions: bool = False,
) -> dict:
    """One wrk run, bounded by its duration (and a hard timeout a little longer).

    Halfway through, it notes how wrk's connections are spread over the gunicorn workers: a gthread worker
    keeps the keep-alive connections it accepted, and when one worker holds all of them the other sits idle.
    With `new_questions`, every request asks a question that no earlier request asked.
    """
    script, script_arguments = _new_questions_arguments() if new_questions else ([], [])
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{WRK_TIMEOUT_SECONDS}s",
        "--latency",
        *script,
        url,
        *script_arguments,
    ]
    port = urllib.parse.urlsplit(url).port or 80
    samples: list[list[int]] = []
    processes_before, started = _process_cpu_ticks(), time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as wrk:
        try:
            for _ in range(2):  # at a third and at two thirds of the run
                time.sleep(seconds / 3)
                spread = connections_per_worker(port)
                if spread is not None:
                    samples.append(spread)
            output, errors = wrk.communicate(timeout=seconds + 30)
        except BaseException:
            wrk.kill()
            raise
    if wrk.returncode != 0:
        raise subprocess.CalledProcessError(wrk.returncode, command, output, errors)
    other_work = _other_work_share(processes_before, time.monotonic() - started)
    # Fewer connections than workers leave a worker idle by design.
    idle = max((WORKERS - len(sample) for sample in samples), default=0) if connections >= WORKERS else 0
    return {
        **parse_wrk(output),
        "connections_per_worker": samples,
        "idle_workers": idle,
        "other_work_cpu_share": round(other_work, 3),
    }


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["requests_per_second"])[len(runs) // 2]


def _restarts_since(log_path: Path, offset: int) -> int:
    """Workers that gunicorn recycled (max_requests) since `offset` in its log."""
    with log_path.open("rb") as log:
        log.seek(offset)
        return log.read().count(b"Autorestarting worker")


def _not_answering(measurement: Measurement, status: int) -> bool:
    """Whether the probe failed; if so, the measurement says so (the others are still measured)."""
    if 200 <= status < 300:
        return False
    measurement.note = f"not measured: the warm-up GET answered {status or 'nothing'}"
    print(f"  WARNING {measurement.route}: {measurement.note}", flush=True)
    return True


def measure(
    database: str,
    route: str,
    url: str,
    log_path: Path,
    *,
    kind: str = "throughput",
    connections: int = CONNECTIONS,
    probe: Callable[[str], str | None] | None = None,
    new_questions: bool = False,
) -> Measurement:
    """Probe once, warm up, then measure; a route that does not answer 2xx is reported, not measured.

    `probe`, when given, checks the answer's content and returns what is wrong with it, or None;
    `new_questions` makes every request a question no earlier one asked (`run_wrk`).
    """
    measurement = Measurement(database=database, route=route, url=url, kind=kind)
    if _not_answering(measurement, http_status(url)):
        return measurement
    if probe and (problem := probe(url)):
        measurement.note = f"not measured: {problem}"
        print(f"  WARNING {route}: {measurement.note}", flush=True)
        return measurement
    threads = min(WRK_THREADS, connections)
    run_wrk(url, WARMUP_SECONDS, connections=connections, threads=threads, new_questions=new_questions)
    runs, attempts = [], []
    for _ in range(RUNS):
        for _attempt in range(1 + IDLE_WORKER_RETRIES):
            log_offset = log_path.stat().st_size
            run = {
                **run_wrk(url, DURATION_SECONDS, connections=connections, threads=threads, new_questions=new_questions),
                "worker_restarts": _restarts_since(log_path, log_offset),
            }
            attempts.append(run)
            if not (run["idle_workers"] or run["inconsistent_latencies"]):
                break
        runs.append(run)
    result = _median_run(runs)
    for key, value in result.items():
        setattr(measurement, key, value)
    measurement.runs = attempts
    retried = len(attempts) - len(runs)
    problems = {
        "non-2xx responses": measurement.non_2xx,
        f"timed out (> {WRK_TIMEOUT_SECONDS} s)": measurement.timeouts,
        "socket errors": measurement.socket_errors,
        "worker restarts (max_requests)": measurement.worker_restarts,
        "idle worker (wrk's connections all on the other), even after retries": measurement.idle_workers,
        "latencies that wrk reported inconsistently (see _impossible_latencies), even after retries": int(
            measurement.inconsistent_latencies
        ),
        "runs retried for an idle worker or inconsistent latencies": retried,
    }
    notes = [f"{count} {problem}" for problem, count in problems.items() if count]
    if measurement.other_work_cpu_share > OTHER_WORK_NOTE_SHARE:
        notes.append(f"other work used {measurement.other_work_cpu_share:.0%} of the CPUs")
    measurement.note = ", ".join(notes)
    if RUNS > 1:
        rates = sorted(run["requests_per_second"] for run in runs)
        measurement.note = ", ".join(
            filter(None, [f"median of {' / '.join(f'{rate:,.0f}' for rate in rates)}", measurement.note])
        )
    print(
        f"  {route:<64} {result['requests_per_second']:>7,.0f} req/s  p50 {_cell(measurement.p50_ms, '8.2f')} ms  "
        f"p99 {_cell(measurement.p99_ms, '8.2f')} ms  {measurement.note}",
        flush=True,
    )
    return measurement


class CsvRecordCounter:
    """Counts the records of a CSV stream fed in chunks: line breaks outside quoted fields (which may hold some).

    A doubled quote inside a quoted field toggles the state twice, so it needs no special case.
    """

    def __init__(self) -> None:
        self.records = 0
        self._quoted = False

    def feed(self, chunk: bytes) -> None:
        for index, part in enumerate(chunk.split(b'"')):
            if index:
                self._quoted = not self._quoted
            if not self._quoted:
                self.records += part.count(b"\n")


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers, for its master)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                children.append(int(entry.name))
    return children


def memory_kb(status: str) -> dict[str, int]:
    """VmRSS (resident now) and its parts RssAnon (the process's own memory: heap, Python objects) and
    RssFile (pages of mapped files, such as a SQLite database read through mmap), in kB, from the text of
    /proc/<pid>/status."""
    values = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            values[key] = int(rest.split()[0])
    return values


def _worker_memory(pids: list[int]) -> dict[int, dict[str, int]]:
    memory = {}
    for pid in pids:
        try:
            memory[pid] = memory_kb(Path(f"/proc/{pid}/status").read_text())
        except OSError:
            continue
    return memory


def _sample_memory(pids: list[int], peaks: dict[int, dict[str, int]], stop: threading.Event) -> None:
    """Until `stop`, the largest RssAnon and VmRSS seen per process, every 20 ms."""
    while not stop.wait(0.02):
        for pid, memory in _worker_memory(pids).items():
            peak = peaks.setdefault(pid, {})
            for key in ("RssAnon", "VmRSS"):
                peak[key] = max(peak.get(key, 0), memory.get(key, 0))


def measure_export(database: str, route: str, url: str, master_pid: int) -> Measurement:
    """Download a whole export once through a small buffer, watching the memory of the gunicorn workers.

    Constant memory is judged on RssAnon, the memory the worker allocates itself: a SQLite worker also
    maps the database file (mmap), and the file pages it reads count in its RSS as the page cache they
    are, shared and reclaimable, growing with how much of the file was read rather than with what the
    export holds. The RSS is reported beside it.
    """
    measurement = Measurement(database=database, route=route, url=url, kind="export")
    workers = _children(master_pid)
    before = _worker_memory(workers)
    sampled: dict[int, dict[str, int]] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_memory, args=(workers, sampled, stop), daemon=True)
    sampler.start()
    is_csv = "format=csv" in url
    received, lines, csv_records = 0, 0, CsvRecordCounter()
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=600) as response:
            while chunk := response.read(EXPORT_READ_BYTES):
                received += len(chunk)
                if is_csv:
                    csv_records.feed(chunk)
                else:
                    lines += chunk.count(b"\n")
    except urllib.error.HTTPError as error:
        _not_answering(measurement, error.code)
        return measurement
    except OSError:
        _not_answering(measurement, 0)
        return measurement
    finally:
        seconds = time.monotonic() - started
        stop.set()
        sampler.join()
    after = _worker_memory(workers)

    def growth_kb(pid: int, key: str) -> int:
        peak = max(sampled.get(pid, {}).get(key, 0), after.get(pid, {}).get(key, 0))
        return peak - before[pid].get(key, 0)

    served = max(before, key=lambda pid: growth_kb(pid, "VmRSS")) if before else None
    rows = max(0, csv_records.records - 1) if is_csv else lines  # a CSV's header is not a row
    megabytes = received / 1e6

    def mib(kb: int) -> float:
        return round(kb / 1024, 1)

    measurement.details = {
        "bytes": received,
        "rows": rows,
        "seconds": round(seconds, 3),
        "mb_per_second": round(megabytes / seconds, 2) if seconds else None,
        "read_bytes": EXPORT_READ_BYTES,
        "worker_pid": served,
        "anon_before_mb": mib(before[served].get("RssAnon", 0)) if served else None,
        "anon_growth_mb": mib(growth_kb(served, "RssAnon")) if served else None,
        "rss_before_mb": mib(before[served].get("VmRSS", 0)) if served else None,
        "rss_growth_mb": mib(growth_kb(served, "VmRSS")) if served else None,
        "peak_from": "RssAnon and VmRSS sampled every 20 ms, and after",
        "workers": {str(pid): {"before_kb": before[pid], "after_kb": after.get(pid)} for pid in before},
    }
    details = measurement.details
    measurement.note = (
        f"{rows:,} rows, {megabytes:,.1f} MB in {seconds:.1f} s ({details['mb_per_second'] or 0:.1f} MB/s); "
        f"serving worker's own memory (RssAnon) {details['anon_before_mb']} MiB +{details['anon_growth_mb']} MiB "
        f"at its peak; RSS with mapped file pages {details['rss_before_mb']} MiB +{details['rss_growth_mb']} MiB"
    )
    print(f"  {route:<64} {measurement.note}", flush=True)
    return measurement


def _json(url: str) -> tuple[dict | list, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response), dict(response.headers)


def facets_problem(url: str) -> str | None:
    """What is wrong with the registry's facet answer (no X-Facets header), or None."""
    _body, headers = _json(url)
    return None if headers.get("X-Facets") else "the answer has no X-Facets header"


def datasette_problem(url: str) -> str | None:
    """What is wrong with Datasette's answer (not a full page, a facet missing or timed out), or None."""
    body, _headers = _json(url)
    rows = body.get("rows") or []
    if len(rows) != 20:
        return f"Datasette answered {len(rows)} rows, not 20"
    if "_facet=" in url:
        if body.get("facets_timed_out"):
            return f"Datasette's facet timed out: {body['facets_timed_out']}"
        if "sandbox_type" not in (body.get("facet_results") or {}):
            return "Datasette's answer has no sandbox_type facet"
    return None


def same_question(registry_url: str, datasette_url: str) -> str:
    """Whether the registry and Datasette answer the same rows: the same total and the same first page."""
    try:
        page, headers = _json(registry_url)
        peer, _headers = _json(datasette_url)
    except (OSError, ValueError) as error:
        return f"could not compare the answers: {error}"
    total = json.loads(headers.get("X-Pagination", "{}")).get("total")
    peer_total = peer.get("filtered_table_rows_count")
    ids = [item["id"].replace("-", "") for item in page]
    peer_ids = [str(row["id"]).replace("-", "") for row in peer.get("rows", [])]
    if total == peer_total and ids == peer_ids:
        return f"same rows: {total:,} in all, the same first page of {len(ids)}"
    return f"DIFFERENT rows: registry {total} in all, Datasette {peer_total}; first pages equal: {ids == peer_ids}"


def _datasette_rows(database: str, service: str, base: str, log_path: Path) -> list[Measurement]:
    """Datasette's list and facet query, after checking that its list answers the registry's rows."""
    list_url = base + DATASETTE_LIST_PATH.format(database=build.SQLITE_PATH.stem)
    facets_url = base + DATASETTE_FACETS_PATH.format(database=build.SQLITE_PATH.stem)
    comparison = same_question(service + LIST_PATH, list_url)
    print(f"  registry and Datasette: {comparison}", flush=True)
    peers = [
        ("Datasette: the filtered list (_where on case_sectors)", list_url, f"GET {LIST_PATH}"),
        ("Datasette: the filtered list with _facet=sandbox_type", facets_url, f"GET {FACETS_PATH}"),
    ]
    rows = []
    for route, url, peer_of in peers:
        measurement = measure(database, route, url, log_path, kind="peer", probe=datasette_problem)
        measurement.details["peer_of"] = peer_of
        rows.append(measurement)
    rows[0].details["same_question"] = comparison
    rows[0].note = ", ".join(filter(None, [comparison, rows[0].note]))
    return rows


def capture_bare_payload(database_url: str) -> str:
    """Write the registry's real first page of the filtered list to .bench/; return the id of its first case."""
    from sandbox_api import create_app
    from sandbox_api.config import Config
    from sandbox_api.storage.db import db

    settings = type("BenchConfig", (Config,), {"DATABASE_URL": database_url, "DATABASE_POOL_SIZE": 1})
    app = create_app(settings)
    try:
        response = app.test_client().get(LIST_PATH)
    finally:
        if db.engine is not None:
            db.engine.dispose()
    if response.status_code != 200 or not response.json:
        raise RuntimeError(
            f"GET {LIST_PATH} answered {response.status_code} in-process: {response.get_data(as_text=True)[:500]}"
        )
    page = response.json
    PAYLOAD_PATH.write_text(json.dumps(page))
    print(
        f"  bare payload: {len(page)} items, {len(response.data):,} bytes ({len(response.data) / len(page):,.0f} per item)"
    )
    return page[0]["id"]


def measure_database(database: str, database_url: str) -> list[Measurement]:
    """Bare before, the registry's routes (and Datasette's on SQLite), bare after, all in one run.

    So that the ratios compare like with like: the same machine, the same minutes.
    """
    print(f"\n== {database} ==", flush=True)
    case_id = capture_bare_payload(database_url)
    busy = wait_for_quiet_machine()
    CONDITIONS[database] = {
        "cpu_busy_before": None if busy is None else round(busy, 3),
        "load_average_before": [round(value, 2) for value in os.getloadavg()],
    }
    service_port, bare_port, peer_port = free_port(), free_port(), free_port()
    service = f"http://127.0.0.1:{service_port}"
    bare = f"http://127.0.0.1:{bare_port}{BARE_PATH}"
    peer = f"http://127.0.0.1:{peer_port}"
    python = str(VENV_BIN / "python")
    bare_command = [python, "-m", "gunicorn", "--config", "gunicorn.conf.py", "bench.bare_app:create_bare_app()"]
    bare_environment = _server_environment(bare_port, BENCH_BARE_PAYLOAD=str(PAYLOAD_PATH))
    service_environment = _server_environment(
        service_port, DATABASE_URL=database_url, RATELIMIT_APPLICATION=UNEXHAUSTIBLE_RATE_LIMIT
    )
    # Datasette serves SQLite files only: it is the peer of the SQLite registry, under the same gunicorn settings.
    with_peer = database == "sqlite" and DATASETTE_PYTHON.exists()
    peer_command = [
        str(DATASETTE_PYTHON),
        "-m",
        "gunicorn",
        "--config",
        "gunicorn.conf.py",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "bench.datasette_app:app",
    ]
    peer_environment = _server_environment(peer_port, BENCH_DATASETTE_FILE=str(build.SQLITE_PATH))
    with ExitStack() as servers:
        servers.enter_context(serving(f"{database}-bare", bare_command, bare_environment, bare))
        registry = servers.enter_context(
            serving(f"{database}-service", ["bin/start"], service_environment, f"{service}/health/ready")
        )
        if with_peer:
            servers.enter_context(
                serving(f"{database}-datasette", peer_command, peer_environment, f"{peer}/-/versions.json")
            )
        bare_log, service_log = LOG_DIR / f"{database}-bare.log", LOG_DIR / f"{database}-service.log"
        bare_before = measure(database, "bare Flask (before)", bare, bare_log)
        routes = [
            measure(database, f"GET {LIST_PATH}", service + LIST_PATH, service_log),
            measure(database, "GET /api/v1/cases/{id}", service + ITEM_PATH.format(case_id=case_id), service_log),
            measure(database, f"GET {LESSONS_PATH}", service + LESSONS_PATH, service_log),
            *(measure(database, f"GET {path}", service + path, service_log) for path in SEARCH_PATHS),
            measure(database, f"GET {FOR_SECTOR_PATH}", service + FOR_SECTOR_PATH, service_log),
            measure(database, f"GET {FACETS_PATH}", service + FACETS_PATH, service_log, probe=facets_problem),
        ]
        if with_peer:
            routes.extend(_datasette_rows(database, service, peer, LOG_DIR / f"{database}-datasette.log"))
        elif database == "sqlite":
            missing = Measurement(database=database, route="Datasette", url="", kind="peer")
            missing.note = f"not measured: {DATASETTE_PYTHON.relative_to(ROOT)} is missing (`make bench` installs it)"
            print(f"  WARNING {missing.note}", flush=True)
            routes.append(missing)
        one_at_a_time = [
            *((path, path, "search") for path in SEARCH_PATHS),
            (FOR_SECTOR_PATH, FOR_SECTOR_PATH, "latency"),
            (SIMILAR_PATH, SIMILAR_PATH.format(case_id=case_id), "latency"),
            *((path, path, "insight") for path in INSIGHT_PATHS),
        ]
        routes.extend(
            measure(
                database,
                f"GET {route} (1 connection)",
                service + path,
                service_log,
                kind=kind,
                connections=LATENCY_CONNECTIONS,
            )
            for route, path, kind in one_at_a_time
        )
        routes.extend(
            measure(
                database,
                f"GET {path} (1 connection, new questions)",
                service + path,
                service_log,
                kind="insight",
                connections=LATENCY_CONNECTIONS,
                new_questions=True,
            )
            for path in INSIGHT_PATHS
        )
        routes.extend(measure_export(database, f"GET {path}", service + path, registry.pid) for path in EXPORT_PATHS)
        bare_after = measure(database, "bare Flask (after)", bare, bare_log)
    CONDITIONS[database]["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    return [_bare_mean(database, bare, bare_before, bare_after), *routes]


def _bare_mean(database: str, url: str, before: Measurement, after: Measurement) -> Measurement:
    """The bare endpoint as the mean of its runs before and after the registry's routes."""
    runs = [run for run in (before, after) if run.requests_per_second is not None]
    mean = Measurement(database=database, route="bare Flask, constant page (mean of before/after)", url=url)
    mean.runs = [asdict(run) for run in (before, after)]
    if not runs:
        mean.note = "not measured"
        return mean
    mean.requests_per_second = sum(run.requests_per_second or 0 for run in runs) / len(runs)
    mean.p50_ms = sum(run.p50_ms or 0 for run in runs) / len(runs)
    mean.p99_ms = sum(run.p99_ms or 0 for run in runs) / len(runs)
    mean.requests = sum(run.requests or 0 for run in runs)
    mean.ratio_to_bare = 1.0
    mean.worker_restarts = sum(run.worker_restarts for run in runs)
    mean.note = " / ".join(f"{run.requests_per_second:,.0f}" for run in runs) + " req/s"
    if mean.worker_restarts:
        mean.note += f", {mean.worker_restarts} worker restarts (max_requests)"
    mean.other_work_cpu_share = max(run.other_work_cpu_share for run in runs)
    if mean.other_work_cpu_share > OTHER_WORK_NOTE_SHARE:
        mean.note += f", other work used up to {mean.other_work_cpu_share:.0%} of the CPUs"
    mean.idle_workers = max(run.idle_workers for run in runs)
    if mean.idle_workers:
        mean.note += ", an idle worker even after retries"
    return mean


def judge(measurements: list[Measurement]) -> None:
    """Ratios to that database's bare mean and to Datasette; each kind of row against its targets."""
    bare = {m.database: m.requests_per_second for m in measurements if m.route.startswith("bare")}
    peers = {
        (m.database, m.details["peer_of"]): m.requests_per_second
        for m in measurements
        if m.kind == "peer" and m.requests_per_second and "peer_of" in m.details
    }
    for m in measurements:
        if m.route.startswith("bare"):
            continue
        if m.kind != "export" and m.requests_per_second is not None and bare.get(m.database):
            m.ratio_to_bare = m.requests_per_second / bare[m.database]
        peer_rate = peers.get((m.database, m.route))
        if peer_rate and m.requests_per_second is not None:
            m.ratio_to_peer = m.requests_per_second / peer_rate
        if m.kind == "peer":
            continue  # a peer is measured, not judged
        if m.kind == "export":
            m.target = f"RssAnon growth <= {EXPORT_RSS_GROWTH_TARGET_MB:.0f} MiB"
            growth = m.details.get("anon_growth_mb")
            m.met = None if growth is None else growth <= EXPORT_RSS_GROWTH_TARGET_MB
            continue
        if m.kind == "latency":
            continue  # measured for the record; the issues set no target
        checks: list[tuple[str, bool]] = []
        if m.kind == "insight":
            checks.append((f"p99 <= {INSIGHT_TARGET_MS:.0f} ms", (m.p99_ms or 0) <= INSIGHT_TARGET_MS))
        elif m.kind == "search":
            checks.append((f"p50 <= {SEARCH_P50_TARGET_MS:.0f} ms", (m.p50_ms or 0) <= SEARCH_P50_TARGET_MS))
        else:
            if m.route == f"GET {LIST_PATH}" and (ratio_target := LIST_RATIO_TARGETS.get(m.database)):
                checks.append((f"ratio >= {ratio_target:.2f}", (m.ratio_to_bare or 0) >= ratio_target))
            if m.route == f"GET {LIST_PATH}" and peer_rate:
                checks.append((f">= {PEER_RATIO_TARGET:.0f}x Datasette", (m.ratio_to_peer or 0) >= PEER_RATIO_TARGET))
            checks.append((f"p99 <= {P99_TARGET_MS:.0f} ms", (m.p99_ms or 0) <= P99_TARGET_MS))
        m.target = ", ".join(name for name, _ in checks)
        if m.requests_per_second is None or m.non_2xx:
            m.met = None  # not measured, or measured answering errors: no verdict
            continue
        # A timed-out request is slower than any bound; a run with no completed request met nothing.
        m.met = m.p99_ms is not None and not m.timeouts and all(passed for _, passed in checks)


def _cell(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def table_rows(measurements: list[Measurement]) -> list[list[str]]:
    rows = [
        ["database", "route", "req/s", "p50 ms", "p99 ms", "ratio to bare", "x Datasette", "target", "met?", "note"]
    ]
    for m in measurements:
        met = "-" if not m.target else {True: "yes", False: "NO", None: "n/a"}[m.met]
        rows.append(
            [
                m.database,
                m.route,
                _cell(m.requests_per_second, ",.0f"),
                _cell(m.p50_ms, ".2f"),
                _cell(m.p99_ms, ".2f"),
                _cell(m.ratio_to_bare, ".2f"),
                _cell(m.ratio_to_peer, ".1f"),
                m.target or "-",
                met,
                m.note,
            ]
        )
    return rows


def render_text(rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_markdown(rows: list[list[str]], context: dict) -> str:
    escaped = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    lines = ["| " + " | ".join(row) + " |" for row in escaped]
    lines.insert(1, "|" + " --- |" * len(rows[0]))
    header = [
        "# `make bench` results",
        "",
        f"{context['finished_at']}; commit {context['commit']}; {context['cpus']} CPUs; "
        f"gunicorn {context['workers']} workers x {context['threads']} threads (gthread); "
        f"`wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{DURATION_SECONDS}s --latency` after a {WARMUP_SECONDS} s warm-up; "
        f"{context['cases']:,} cases. Ratios are to the bare endpoint's mean (before and after) in the same run; "
        f"`x Datasette` is the registry's req/s over Datasette's for the same question (SQLite, same run). "
        f"Rows marked (1 connection): `wrk -t1 -c{LATENCY_CONNECTIONS}` (one request at a time). "
        "Exports: one whole download, "
        f"read {EXPORT_READ_BYTES // 1024} KiB at a time. "
        + (f"Extra gunicorn arguments: `{context['gunicorn_cmd_args']}`." if context["gunicorn_cmd_args"] else ""),
        "",
    ]
    conditions = [
        f"- {database}: CPUs {_share(state.get('cpu_busy_before'))} busy with other work before; "
        f"load average {state.get('load_average_before')} before, {state.get('load_average_after')} after."
        for database, state in context["conditions"].items()
    ]
    return "\n".join([*header, *lines, "", "Machine:", *conditions, ""])


def _share(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"


def run_context() -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip() or "unknown",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "workers": WORKERS,
        "runs_per_url": RUNS,
        "gunicorn_cmd_args": os.environ.get("GUNICORN_CMD_ARGS", ""),
        "threads": int(os.environ.get("GUNICORN_THREADS", "4")),
        "duration_seconds": DURATION_SECONDS,
        "warmup_seconds": WARMUP_SECONDS,
        "wrk": f"-t{WRK_THREADS} -c{CONNECTIONS} --latency",
        "cases": build.CASE_COUNT,
        "bare": "mean of the bare endpoint's runs before and after the registry's routes",
        "conditions": CONDITIONS,
    }


def report(measurements: list[Measurement], failures: list[str]) -> None:
    judge(measurements)
    rows = table_rows(measurements)
    context = run_context()
    print("\n" + render_text(rows))
    (BENCH_DIR / "results.json").write_text(
        json.dumps(
            {"context": context, "failures": failures, "measurements": [asdict(m) for m in measurements]}, indent=2
        )
    )
    (BENCH_DIR / "results.md").write_text(render_markdown(rows, context))
    missed = [m for m in measurements if m.met is False]
    unmeasured = [m for m in measurements if m.target and m.met is None]
    print()
    for m in missed:
        print(
            f"MISSED  {m.database} {m.route}: {m.target} (ratio {_cell(m.ratio_to_bare, '.2f')}, p99 {_cell(m.p99_ms, '.1f')} ms)"
        )
    for m in unmeasured:
        print(f"NOT MEASURED  {m.database} {m.route}: {m.note}")
    for failure in failures:
        print(f"FAILED  {failure}")
    if not (missed or unmeasured or failures):
        print("Every target met.")
    print(
        f"\nWritten: {(BENCH_DIR / 'results.md').relative_to(ROOT)}, {(BENCH_DIR / 'results.json').relative_to(ROOT)}"
    )


def main() -> int:
    ensure_wrk()
    measurements: list[Measurement] = []
    failures: list[str] = []
    databases = [("sqlite", build.ensure_sqlite())]
    if postgres_url := os.environ.get("BENCH_DATABASE_URL"):
        try:
            databases.append(("postgresql", build.ensure_postgres(postgres_url)))
        except SQLAlchemyError as error:  # unreachable server, refused login: measure SQLite all the same
            failures.append(f"postgresql: could not build the registry in BENCH_DATABASE_URL: {error}")
            print(f"FAILED {failures[-1]}", file=sys.stderr)
    else:
        print("BENCH_DATABASE_URL is not set: PostgreSQL is not measured.")
    for database, url in databases:
        try:
            measurements.extend(measure_database(database, url))
        except (RuntimeError, subprocess.SubprocessError, ValueError) as error:
            failures.append(f"{database}: {error}")
            print(f"FAILED {database}: {error}", file=sys.stderr)
    report(measurements, failures)
    # A benchmark, not a test: missed targets do not fail the run; being unable to measure does.
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
