"""Faults the tests inflict: a TCP proxy in front of PostgreSQL that can freeze or go down, and steady traffic."""

import http.client
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import make_url

CHUNK = 65536


class DatabaseProxy:
    """Forwards 127.0.0.1:<port> to a PostgreSQL server, and plays its faults.

    `freeze()` is a server that stops running (SIGSTOP) but whose kernel still holds its connections: bytes
    sent are kept and nothing comes back, new connections are taken and never greeted; `thaw()` delivers
    what was kept. `stop()` is a server that went away: every connection is cut and new ones are refused at
    once; `start()` brings it back.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._up = True
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url_for(self, database_url: str) -> str:
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def stop(self) -> None:
        with self._lock:
            self._up = False
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def start(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self._closed = True
        self.thaw()
        self.stop()
        with suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if not self._up:
                    client.close()
                    continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._flowing.wait()  # a frozen server takes the connection but does not greet it
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        with self._lock:
            if not self._up:
                client.close()
                server.close()
                return
            self._sockets |= {client, server}
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                self._flowing.wait()
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets -= {source, target}
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@contextmanager
def database_proxy(database_url: str) -> Iterator[DatabaseProxy]:
    url = make_url(database_url)
    proxy = DatabaseProxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield proxy
    finally:
        proxy.close()


class Traffic:
    """Clients that each send GET requests one after another, each on a new connection, until stopped; what
    became of every request is counted: answered (by status), refused (nothing listened: sent after the
    server was gone) or dropped (accepted, then reset or left unanswered)."""

    def __init__(self, base_url: str, path: str, *, clients: int, timeout: float = 10) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.address = (host, int(port))
        self.path, self.timeout = path, timeout
        self.answered: Counter[int] = Counter()
        self.slowest: dict[int, float] = {}  # by status, in seconds
        self.refused = 0
        self.dropped: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def __enter__(self) -> "Traffic":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def summary(self) -> str:
        answered = ", ".join(f"{count} x {status}" for status, count in sorted(self.answered.items()))
        slowest = ", ".join(f"{status} in {seconds:.2f} s" for status, seconds in sorted(self.slowest.items()))
        return f"answered {answered} (slowest: {slowest}); refused {self.refused}; dropped {len(self.dropped)}"

    def _client(self) -> None:
        while not self._stopping.is_set():
            connection = http.client.HTTPConnection(*self.address, timeout=self.timeout)
            started = time.monotonic()
            try:
                connection.request("GET", self.path, headers={"Connection": "close"})
                response = connection.getresponse()
                response.read()
                with self._lock:
                    self.answered[response.status] += 1
                    elapsed = time.monotonic() - started
                    self.slowest[response.status] = max(elapsed, self.slowest.get(response.status, 0))
            except ConnectionRefusedError:
                with self._lock:
                    self.refused += 1
                time.sleep(0.01)
            except (OSError, http.client.HTTPException) as error:
                with self._lock:
                    self.dropped.append(repr(error))
            finally:
                connection.close()


def send(base_url: str, method: str, path: str, *, body=None, headers=None, timeout: float = 30):
    """One request on a new connection: (status, headers, parsed JSON body or None)."""
    host, _, port = base_url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        sent_headers = {"Content-Type": "application/json", **(headers or {})} if payload else headers or {}
        connection.request(method, path, body=payload, headers=sent_headers)
        response = connection.getresponse()
        content = response.read()
        parsed = json.loads(content) if content and "json" in response.headers.get("Content-Type", "") else None
        return response.status, dict(response.headers), parsed
    finally:
        connection.close()


def send_until_answered(base_url: str, method: str, path: str, *, seconds: float = 60, **request) -> tuple:
    """Send the same request again (an Idempotency-Key makes that safe) until a server answers it;
    (answer, how many times the connection failed)."""
    deadline, failures = time.monotonic() + seconds, 0
    while True:
        try:
            return send(base_url, method, path, **request), failures
        except (OSError, http.client.HTTPException):
            failures += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
