"""Rate limits: one budget per caller (its API key, or its address without one) over every route, and a
stricter one on failed authentication per address (OWASP API4).

limits counts (fixed windows, in each process's memory or in Redis); this module decides whose budget a
request spends and writes the headers. It replaces flask-limiter, whose work at every request to find which
limits apply to the route (this registry has one budget over every route) cost about a quarter of the CPU
of a filtered list (docs/performance.md, "What hardening costs").
"""

import math
import threading
import time
import weakref
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, g, request
from limits import RateLimitItem, WindowStats, parse, parse_many
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from sandbox_api.errors import Problem
from sandbox_api.policy import auth

EXTENSION = "sandbox_rate_limits"
BUDGET_SCOPE = "budget"
FAILED_AUTHENTICATION_SCOPE = "failed-authentication"
# What every counted answer carries (and Retry-After on a 429).
HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
_INTEGER = {"type": "integer", "minimum": 0}
OPENAPI_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "How many requests the caller's tightest limit allows in its window.",
        "schema": _INTEGER,
    },
    "X-RateLimit-Remaining": {"description": "How many requests are left in that window.", "schema": _INTEGER},
    "X-RateLimit-Reset": {"description": "When that window ends, in seconds since the epoch.", "schema": _INTEGER},
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer", "minimum": 1}},
}


class TooManyRequests(Problem):
    status = 429


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process storage, with one long-lived thread that drops ended windows.

    The stock storage expires counts from a 10 ms `threading.Timer`, and starts a new one on the first
    count after the last has fired: under steady traffic, a thread every 10 ms in each worker, and starting
    one waits for it to run (docs/performance.md, "What hardening costs"). Here `timer` is one thread for the storage's
    life (a timer that fires at once and then sweeps), always alive, so the stock storage never schedules
    another. A caller's own count is dropped as
    soon as it is read after its window (limits' `get`); the sweep drops the counts of callers that do not
    come back, every `SWEEP_SECONDS`, so memory stays bounded by the callers of one window. The thread
    ends with the storage.
    """

    STORAGE_SCHEME = ["swept-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self.timer = threading.Timer(0, _sweep_while_alive, args=(weakref.ref(self),))
        self.timer.name = "rate-limit-sweep"
        self.timer.daemon = True
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


@dataclass
class RateLimits:
    """The app's limits, the storage that counts them and the blueprints they do not apply to."""

    storage: Storage
    budget: list[RateLimitItem]
    failed_authentication: RateLimitItem
    key_prefix: str
    exempt_blueprints: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.counter = FixedWindowRateLimiter(self.storage)

    @classmethod
    def from_config(cls, config) -> "RateLimits":
        storage = storage_from_string(config["RATELIMIT_STORAGE_URI"])
        if not isinstance(storage, Storage):
            # An `async+...` storage: its counts are coroutines, which this module never awaits.
            raise ConfigurationError(
                f"RATELIMIT_STORAGE_URI {config['RATELIMIT_STORAGE_URI']!r} is an asyncio storage; "
                "the rate limits need a synchronous one (`swept-memory://`, `redis://...`)."
            )
        failed_authentication = parse(config["RATELIMIT_FAILED_AUTHENTICATION"])
        if isinstance(storage, MemoryStorage):
            failed_authentication = _share_of(failed_authentication, config["WEB_CONCURRENCY"])
        return cls(
            storage=storage,
            budget=parse_many(config["RATELIMIT_APPLICATION"]),
            failed_authentication=failed_authentication,
            key_prefix=config["RATELIMIT_KEY_PREFIX"],
        )

    def exempt(self, blueprint: Blueprint) -> None:
        self.exempt_blueprints.add(blueprint.name)


def _share_of(limit: RateLimitItem, processes: int) -> RateLimitItem:
    """One process's share of a limit that each worker counts in its own memory: the workers together never
    allow more than the limit, wherever the kernel sends an address's connections."""
    return type(limit)(max(1, limit.amount // processes), limit.multiples, limit.namespace)


def _rate_limits() -> RateLimits:
    return current_app.extensions[EXTENSION]


def _retry_after(window: WindowStats) -> str:
    return str(max(1, math.ceil(window.reset_time - time.time())))


def _client_address() -> str:
    """The client's address (ProxyFix puts the forwarded one here behind trusted proxies); a server on a
    Unix socket has none."""
    return request.remote_addr or "unknown"


def caller_identity() -> str:
    """The budget a request draws on: its key's, once authenticated, or its client address's."""
    caller = auth.current_caller()
    return f"key:{caller.key_id}" if caller.key_id else f"address:{_client_address()}"


def _failed_authentications() -> tuple[RateLimits, tuple[str, ...]]:
    """The app's limits, and the identifiers of the failed authentications counted for this address and
    the key that the request names (by its prefix; one count for every token not shaped like a key)."""
    limits = _rate_limits()
    named_key = auth.presented_key_prefix() or "not-a-key"
    return limits, (limits.key_prefix, FAILED_AUTHENTICATION_SCOPE, _client_address(), named_key)


def refuse_locked_out_addresses() -> None:
    """Before authentication: an address that failed too often with one key may not try that key again
    until its window ends. Its other keys go on: the guesses are throttled, not the keys' owners."""
    if "Authorization" not in request.headers:
        return
    limits, identifiers = _failed_authentications()
    limit = limits.failed_authentication
    if not limits.counter.test(limit, *identifiers):
        retry_after = _retry_after(limits.counter.get_window_stats(limit, *identifiers))
        raise TooManyRequests(
            f"Too many failed authentications with this key from this address ({limit}); "
            f"retry after {retry_after} seconds.",
            headers={"Retry-After": retry_after},
        )


def spend_budget() -> None:
    """After authentication: count the request against its caller's budget, and refuse it past the budget.

    Requests that no route matches (404, 405) and the exempt blueprints' are not counted. The answer's
    headers describe the caller's tightest limit: the one with the fewest requests left.
    """
    limits = _rate_limits()
    if request.endpoint is None or request.blueprint in limits.exempt_blueprints:
        return
    identifiers = (limits.key_prefix, BUDGET_SCOPE, caller_identity())
    tightest = None
    for limit in limits.budget:
        allowed = limits.counter.hit(limit, *identifiers)
        window = limits.counter.get_window_stats(limit, *identifiers)
        if tightest is None or window.remaining < tightest[1].remaining:
            tightest = (limit, window)
        if not allowed:
            g.rate_limit = (limit, window)
            raise TooManyRequests(
                f"Too many requests from this caller: the limit is {limit}. Retry after `Retry-After` seconds.",
                headers={"Retry-After": _retry_after(window)},
            )
    g.rate_limit = tightest


def add_rate_limit_headers(response: Response) -> Response:
    counted = g.pop("rate_limit", None)
    if counted is not None:
        limit, window = counted
        response.headers.extend(
            zip(HEADERS, (str(limit.amount), str(window.remaining), str(math.ceil(window.reset_time))), strict=True)
        )
    return response


def count_failed_authentication(response: Response) -> Response:
    if response.status_code == 401 and "Authorization" in request.headers:
        limits, identifiers = _failed_authentications()
        limits.counter.hit(limits.failed_authentication, *identifiers)
    return response


def init_app(app: Flask) -> None:
    """Call after auth's before_request, so that the budget spent is the authenticated key's."""
    app.extensions[EXTENSION] = RateLimits.from_config(app.config)
    app.before_request(spend_budget)
    app.after_request(add_rate_limit_headers)
    app.after_request(count_failed_authentication)
