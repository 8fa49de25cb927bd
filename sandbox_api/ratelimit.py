"""Rate limits: one budget per caller (its API key, or its address without one) over every route, and a
stricter one on failed authentication per address (OWASP API4)."""

import threading
import time
import weakref

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import MemoryStorage

from sandbox_api import auth
from sandbox_api.errors import Problem, problem_response

EXTENSION = "sandbox_rate_limiter"
FAILED_AUTHENTICATION_SCOPE = "failed-authentication"
# What flask-limiter sends on every limited answer (and Retry-After on a 429).
HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
# Statuses whose Retry-After means something.
RETRY_STATUSES = (429, 503)


class TooManyFailedAuthentications(Problem):
    status = 429


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process storage, with one long-lived thread that drops ended windows.

    The stock storage expires counts from a 10 ms `threading.Timer`, and starts a new one on the first
    count after the last has fired: under steady traffic, a thread every 10 ms in each worker, and starting
    one waits for it to run (README, "What hardening costs"). Here `timer` is one thread for the storage's
    life, always alive, so the stock storage never schedules another. A caller's own count is dropped as
    soon as it is read after its window (limits' `get`); the sweep drops the counts of callers that do not
    come back, every `SWEEP_SECONDS`, so memory stays bounded by the callers of one window. The thread
    ends with the storage.
    """

    STORAGE_SCHEME = ["swept-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self.timer = threading.Thread(
            target=_sweep_while_alive, args=(weakref.ref(self),), name="rate-limit-sweep", daemon=True
        )
        self.timer.start()

    def sweep(self) -> None:
        """Drop every count whose window has ended."""
        for key in list(self.expirations):
            self.get(key)


def _sweep_while_alive(storage_reference: weakref.ref) -> None:
    while (storage := storage_reference()) is not None:
        interval = storage.SWEEP_SECONDS
        storage.sweep()
        del storage  # the sleeping thread must not keep the storage alive
        time.sleep(interval)


def caller_identity() -> str:
    """The budget a request draws on: its key's, once authenticated, or its client address's."""
    caller = auth.current_caller()
    return f"key:{caller.key_id}" if caller.key_id else f"address:{get_remote_address()}"


def _failed_authentications():
    """The limit on failed authentications, and the strategy that counts them in the limiter's storage."""
    return parse(current_app.config["RATELIMIT_FAILED_AUTHENTICATION"]), current_app.extensions[EXTENSION].limiter


def refuse_locked_out_addresses() -> None:
    """Before authentication: an address that failed too often may not try a key until its window ends."""
    if "Authorization" not in request.headers:
        return
    limit, strategy = _failed_authentications()
    address = get_remote_address()
    if not strategy.test(limit, FAILED_AUTHENTICATION_SCOPE, address):
        reset_at, _remaining = strategy.get_window_stats(limit, FAILED_AUTHENTICATION_SCOPE, address)
        wait = max(1, int(reset_at - time.time()))
        raise TooManyFailedAuthentications(
            f"Too many failed authentications from this address ({limit}); retry after {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


def count_failed_authentication(response: Response) -> Response:
    if response.status_code == 401 and "Authorization" in request.headers:
        limit, strategy = _failed_authentications()
        strategy.hit(limit, FAILED_AUTHENTICATION_SCOPE, get_remote_address())
    return response


def drop_meaningless_retry_after(response: Response) -> Response:
    """flask-limiter's headers put a Retry-After on every answer; it belongs only on a 429 or a 503."""
    if response.status_code not in RETRY_STATUSES:
        response.headers.pop("Retry-After", None)
    return response


def handle_rate_limit_exceeded(error: RateLimitExceeded) -> Response:
    return problem_response(
        429,
        f"Too many requests from this caller: the limit is {error.limit.limit}. Retry after `Retry-After` seconds.",
    )


def init_app(app: Flask) -> None:
    """Call after auth's before_request, so that the budget is the authenticated key's."""
    # Registered before flask-limiter's own after_request, so it runs after it (Flask runs them in reverse).
    app.after_request(drop_meaningless_retry_after)
    app.extensions[EXTENSION] = Limiter(key_func=caller_identity, app=app)
    app.after_request(count_failed_authentication)
    app.register_error_handler(RateLimitExceeded, handle_rate_limit_exceeded)
