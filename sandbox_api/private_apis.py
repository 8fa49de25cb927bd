"""Every use of a library's private API, in one place, under names that say what each does.

A library may change or drop an underscore attribute in any release. The registry uses the few below
because no public API does the same job; each was checked against the versions in `CHECKED_AGAINST` (the
pins of requirements.txt), and tests/test_private_apis.py fails, naming the attribute, if one changes
shape (missing, another signature, another type returned, no longer called where it was). An upgrade of
one of these libraries re-runs those tests, then updates `CHECKED_AGAINST`. Two classes extend a library's
internals rather than read them (psycopg's connection waits, gunicorn's worker); the Linux socket
filter that the worker's stop needs lives beside it, its only user.

Not counted as private, though spelled with an underscore: SQLAlchemy's `Row._asdict()` (documented
public; the underscore keeps it apart from column names) and marshmallow's `Field._serialize` and
`Field._deserialize` (the documented way to write a custom field). Replaced by public APIs: flask-smorest's
`Api._register_error_handlers` and `Api._app` (`http.api.Api.init_app` registers the registry's
handlers after flask-smorest's, which Flask then replaces) and marshmallow's `Schema._declared_fields`
(`Schema().declared_fields`).
"""

import ctypes
import selectors
import socket
import struct
import sys
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from functools import partial
from typing import Any, Protocol

import psycopg
from apispec import APISpec
from flask import Response
from flask_smorest import Blueprint
from flask_smorest.etag import _get_etag_ctx
from gunicorn.workers.gthread import ThreadWorker
from psycopg.connection import _WAIT_INTERVAL
from psycopg.errors import _WaitTimeout
from psycopg.rows import TupleRow
from sqlalchemy import BindParameter, ColumnElement, Select

CHECKED_AGAINST = {
    "SQLAlchemy": "2.1.9",
    "flask-smorest": "0.47.0",
    "apispec": "6.10.1",
    "gunicorn": "27.0.1",
    "psycopg": "3.3.9",
}


# SQLAlchemy


def order_by_clauses(statement: Select) -> tuple[ColumnElement, ...]:
    """The statement's ORDER BY expressions, in order (`Select._order_by_clauses`).

    A Select has no public reader of its ORDER BY: paging rebuilds the order on the columns of its
    inner query from it (`http.pagination`).
    """
    return tuple(statement._order_by_clauses)


def shape_and_parameters(statement: Select) -> tuple[tuple, Sequence[BindParameter]]:
    """The statement's structure without its values, and its bound parameters in the order that the
    structure lists them (`ClauseElement._generate_cache_key()`, the key of SQLAlchemy's compiled cache).

    Two statements of equal structure compile to the same SQL, and their parameters correspond position by
    position: paging builds its statements once per structure and binds each request's values into them.
    SQLAlchemy memoizes the key on the statement object. Raises `TypeError` for a statement that SQLAlchemy
    does not cache (an element with `cache_ok = False`).
    """
    key = statement._generate_cache_key()
    if key is None:
        raise TypeError(f"SQLAlchemy does not cache this statement, so it has no shape: {statement}")
    return key.key, key.bindparams


# flask-smorest


def note_etag_checked() -> None:
    """Tell flask-smorest that the view checked If-Match, so that it does not warn that the view did not
    (`flask_smorest.etag._get_etag_ctx()["etag_checked"]`). Within a request.

    The public `Blueprint.check_etag` does this too, but compares its own digest of the data, where the
    registry's ETags are digests of the representation's bytes (`http.responses.etag_of`).
    """
    _get_etag_ctx()["etag_checked"] = True


def docs_of_last_rule(blueprint: Blueprint) -> dict[str, Any]:
    """What flask-smorest keeps to document the endpoint that the blueprint registered last, to complete in
    place: one dict per method (`"get"`, `"post"`...), whose `"manual_doc"` is merged into the operation,
    and `"parameters"` (`Blueprint._docs[Blueprint._endpoints[-1]]`).

    The public `Blueprint.doc` decorates a view before it is registered, with the same doc for each of a
    MethodView's methods; the registry adds per method the errors that its path and method can answer,
    beneath what the view declares.
    """
    return blueprint._docs[blueprint._endpoints[-1]]


class EtagHooks:
    """Replaces the two private methods that flask-smorest's `Blueprint.etag` wrapper calls around a view
    (`EtagMixin._check_precondition()` before it, `EtagMixin._set_etag_in_response(response)` after it)
    with the blueprint's `precondition_before_view` and `etag_after_view`. Mix in before flask-smorest's
    Blueprint."""

    def precondition_before_view(self) -> None:
        raise NotImplementedError

    def etag_after_view(self, response: Response) -> None:
        raise NotImplementedError

    def _check_precondition(self) -> None:
        self.precondition_before_view()

    def _set_etag_in_response(self, response: Response) -> None:
        self.etag_after_view(response)


class ResponsesHook:
    """Replaces the private method that flask-smorest's `Api.init_app` calls to register a response
    component per HTTP status, and `DEFAULT_ERROR` (`Api._register_responses()`), with the Api's
    `register_default_responses`. Mix in before flask-smorest's Api.

    Its public attributes set the error schema and one content type for every response, successes included;
    the registry's errors are problem details (`application/problem+json`)."""

    def register_default_responses(self) -> None:
        raise NotImplementedError

    def _register_responses(self) -> None:
        self.register_default_responses()


# apispec


def openapi_paths(spec: APISpec) -> dict[str, dict[str, Any]]:
    """The paths of the document, live: what is changed in them is in the document (`APISpec._paths`).

    `APISpec.path` only adds a path, from a Flask rule (flask-smorest's plugin needs one); the links from a
    creating POST to the operations on what it created are derived from every path once all are in
    (`http.openapi_links`).
    """
    return spec._paths


# psycopg


class WaitBudget(Protocol):
    def seconds_left(self) -> float | None:
        """Seconds the next wait may take; None for no limit."""

    def answered(self) -> None:
        """The server answered a wait."""

    def timed_out(self) -> None:
        """A wait ran out of time and the server did not take its cancellation; its connection is closed."""


class BoundedWaitConnection(psycopg.Connection[TupleRow]):
    """A psycopg connection whose every wait on the server (a statement, its rows, a commit, a ping) ends
    when its `budget` says, through the `timeout` of `Connection.wait`, which raises
    `psycopg.errors._WaitTimeout` (the wait interval is `psycopg.connection._WAIT_INTERVAL`).

    psycopg bounds only the connection attempt (`connect_timeout`). A server that took the connection and
    then stopped answering (frozen, or cut off by the network) holds a request for ever: neither
    `statement_timeout` nor TCP keepalives reach a server process that does not run. A wait that runs out
    has its statement cancelled, which tells the budget whether the server answers (`timed_out` only if it
    does not), then leaves the exchange with the server half done: the connection is closed, as psycopg
    closes one whose cancelled query does not end, and `psycopg.errors.ConnectionTimeout` raised.
    """

    budget: WaitBudget | None = None
    CANCEL_SECONDS = 0.5

    def wait(self, gen, interval: float = _WAIT_INTERVAL, timeout: float | None = None):
        if self.budget is None:
            return super().wait(gen, interval, timeout)
        limit = self.budget.seconds_left()
        if limit is not None:
            timeout = limit if timeout is None else min(timeout, limit)
        try:
            if timeout is not None and timeout <= 0:
                raise _WaitTimeout("no time left")  # before anything is sent
            answer = super().wait(gen, interval, timeout)
        except _WaitTimeout:
            if self._cancelled():
                self.budget.answered()  # the server is slow, not sick
            else:
                self.budget.timed_out()
            self.pgconn.finish()
            raise psycopg.errors.ConnectionTimeout("The database did not answer in time.") from None
        self.budget.answered()
        return answer

    def _cancelled(self) -> bool:
        """Whether the server took the cancellation of what outlasted the wait, within `CANCEL_SECONDS`
        (`Connection.cancel_safe`): a server that takes it is running, a frozen one never does."""
        try:
            self.cancel_safe(timeout=self.CANCEL_SECONDS)
        except psycopg.Error:
            return False
        return True


# gunicorn


def answer_refused_requests_with(write_error: Callable[[socket.socket, int, str, str], None]) -> None:
    """Make gunicorn's workers answer what they refuse before the application sees it (a request line or
    headers over their limits, a malformed request) with `write_error(sock, status, reason, message)`
    instead of an HTML page (`gunicorn.util.write_error`, which `Worker.handle_error` calls by that name).
    """
    import gunicorn.util

    gunicorn.util.write_error = write_error


# Linux's SO_ATTACH_FILTER and a classic BPF program of one instruction, `ret #0`: drop every packet.
SO_ATTACH_FILTER = 26
DROP_EVERY_PACKET = struct.pack("HBBI", 0x06, 0, 0, 0)


def stop_taking_connections(listener: socket.socket) -> None:
    """Make a listening socket drop the connection requests that reach it, while it keeps those it holds.

    Closing a listener resets the connections the kernel completed on it and nobody accepted yet, and a
    drain before the close leaves a moment (another thread may hold the GIL) in which more arrive. Dropped,
    a request is sent again by its client a second later, to another worker or to nothing (refused).
    """
    if sys.platform != "linux":
        return  # no socket filters: the drain that follows still takes what the socket holds
    program = ctypes.create_string_buffer(DROP_EVERY_PACKET)
    # struct sock_fprog {unsigned short len; struct sock_filter *filter;}
    fprog = struct.pack("HL", 1, ctypes.addressof(program))
    listener.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def arrived_bytes(conn, size: int) -> bytes | None:
    """Up to `size` bytes of the next request on a gunicorn connection, without taking them; None if none
    arrived yet, and no bytes if the connection was reset or its bytes are in its parser's buffer."""
    if conn.parser is not None and conn.parser.unreader.buf.getvalue():
        return b""  # the parser read ahead into this request: it is not on the socket
    try:
        return conn.sock.recv(size, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return None
    except OSError:
        return b""  # reset or gone: gunicorn's own handling closes it, in a thread, not in the worker's loop


class RegistryWorker(ThreadWorker):
    """gunicorn's threaded worker with two changes: a graceful stop that drops no connection, and a thread
    of its own for liveness probes.

    The stop (`ThreadWorker.set_accept_enabled(False)`, called once as the stop begins, with `alive`,
    `_accepting`, `accept`, `wait_for_and_dispatch_events`, `nr_conns` and `sockets`): the worker goes on
    taking connections for `handover` seconds, then stops its listening sockets taking more, takes those
    they hold and closes them. gunicorn's own stops accepting at once but keeps its sockets open while its
    requests finish and its kept-alive connections linger, and the kernel goes on completing connections on
    them that nothing accepts: they were reset when the worker exited. The handover covers a rolling
    restart, whose new workers open their sockets only after the old ones were told to stop; once a socket
    of the `SO_REUSEPORT` group is closed, the kernel hands new connections to the others, or refuses them
    when none is left.

    The probes (`ThreadWorker.enqueue_req`, with `tpool`, `handle`, `finish_request`, `method_queue`,
    `pending_conns`, `poller`, `on_pending_socket_readable`, and a connection's `sock`, `timeout`, `parser`
    and its `unreader.buf`): a request queues for the worker's threads, and while the database holds them
    all, an orchestrator's `GET /health/live` would wait too, and the orchestrator kill a healthy process.
    A connection whose arrived bytes are a whole `probe_request_line` request head without a body goes to
    the probe thread instead, which therefore never waits for a client. A new connection on which nothing
    has arrived yet waits in the poller, as gunicorn's own waits once a thread gave up on it, rather than in
    a thread.
    """

    handover = 1.0
    probe_request_line = b"GET /health/live HTTP/1."
    largest_probe_head = 4096

    def init_process(self) -> None:
        self.probe_thread = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="liveness")
        super().init_process()

    def enqueue_req(self, conn) -> None:
        arrived = arrived_bytes(conn, self.largest_probe_head)
        if arrived is None:
            self._wait_for_bytes(conn)
        elif self._is_probe(arrived):
            answered = self.probe_thread.submit(self.handle, conn)
            answered.add_done_callback(lambda done: self.method_queue.defer(self.finish_request, conn, done))
        else:
            super().enqueue_req(conn)

    def _is_probe(self, arrived: bytes) -> bool:
        head, complete, _ = arrived.partition(b"\r\n\r\n")
        fields = head.lower()
        return (
            bool(complete)
            and head.startswith(self.probe_request_line)
            and b"\r\ncontent-length:" not in fields
            and b"\r\ntransfer-encoding:" not in fields
        )

    def _wait_for_bytes(self, conn) -> None:
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def set_accept_enabled(self, enabled: bool) -> None:
        if enabled or self.alive or not self._accepting:
            super().set_accept_enabled(enabled)
            return
        until = time.monotonic() + self.handover
        while (left := until - time.monotonic()) > 0:
            self.wait_for_and_dispatch_events(timeout=left)
        super().set_accept_enabled(False)
        for listener in self.sockets:
            stop_taking_connections(listener)  # gunicorn's socket passes setsockopt on
            taken = -1
            while taken != self.nr_conns:
                taken = self.nr_conns
                self.accept(listener)
            listener.close()
