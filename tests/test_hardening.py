"""OWASP API Top 10 hardening: rate limits, security and caching headers on every answer, CORS closed by default."""

import gc
import os
import threading
import time
import uuid

import pytest
import redis
from flask import Flask
from limits.errors import ConfigurationError

from sandbox_api import create_app
from sandbox_api.config import TestConfig
from sandbox_api.http.ratelimit import EXTENSION, SweptMemoryStorage
from sandbox_api.policy.auth import Role
from tests.conftest import bearer, make_key

REDIS_URL = os.environ.get("TEST_REDIS_URL")


def app_with(engine, connection, **settings) -> Flask:
    config = type("Settings", (TestConfig,), settings)
    return create_app(config, engine=engine, connection=connection)


@pytest.fixture
def limited_app(engine, connection) -> Flask:
    return app_with(
        engine, connection, RATELIMIT_APPLICATION="3 per minute", RATELIMIT_FAILED_AUTHENTICATION="2 per hour"
    )


def test_a_caller_over_its_budget_gets_429_with_retry_after_and_rate_limit_headers(limited_app):
    client = limited_app.test_client()

    answers = [client.get("/api/v1/cases") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers[:3]] == ["2", "1", "0"]
    refused = answers[-1]
    assert refused.content_type == "application/problem+json"
    assert refused.json["status"] == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3"


def test_with_several_limits_the_headers_describe_the_tightest_and_any_breach_refuses(engine, connection):
    client = app_with(engine, connection, RATELIMIT_APPLICATION="5 per minute;2 per hour").test_client()

    answers = [client.get("/api/v1/cases") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert [(answer.headers["X-RateLimit-Limit"], answer.headers["X-RateLimit-Remaining"]) for answer in answers] == [
        ("2", "1"),
        ("2", "0"),
        ("2", "0"),
    ]
    assert int(answers[-1].headers["Retry-After"]) > 60  # the hour's window, not the minute's


def test_each_key_has_its_own_budget_apart_from_its_address(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        first, second = make_key(Role.NAIO), make_key(Role.NAIO)

    for _ in range(3):
        client.get("/api/v1/cases")

    assert client.get("/api/v1/cases").status_code == 429
    assert client.get("/api/v1/cases", headers=bearer(first)).status_code == 200
    for _ in range(2):
        client.get("/api/v1/cases", headers=bearer(first))
    assert client.get("/api/v1/cases", headers=bearer(first)).status_code == 429
    assert client.get("/api/v1/cases", headers=bearer(second)).status_code == 200


@pytest.mark.parametrize(("trusted_proxies", "separate_budgets"), [(0, False), (1, True)])
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    engine, connection, trusted_proxies, separate_budgets
):
    settings = {"RATELIMIT_APPLICATION": "2 per minute", "TRUSTED_PROXIES": trusted_proxies}
    client = app_with(engine, connection, **settings).test_client()

    for _ in range(2):
        client.get("/api/v1/cases", headers={"X-Forwarded-For": "203.0.113.7"})
    other_client = client.get("/api/v1/cases", headers={"X-Forwarded-For": "198.51.100.9"})

    # Without a trusted proxy the forwarded header is the client's own claim, and is ignored.
    assert (other_client.status_code == 200) == separate_budgets


def test_health_probes_are_never_throttled(limited_app):
    client = limited_app.test_client()

    assert {client.get("/health/live").status_code for _ in range(10)} == {200}


def test_requests_that_match_no_route_spend_no_budget(limited_app):
    client = limited_app.test_client()

    strays = [client.get("/api/v1/nothing").status_code for _ in range(4)] + [client.put("/api/v1/cases").status_code]
    reads = [client.get("/api/v1/cases").status_code for _ in range(4)]

    assert strays == [404, 404, 404, 404, 405]
    assert reads == [200, 200, 200, 429]


def test_failed_authentications_lock_the_address_out_of_keyed_requests(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        key = make_key(Role.NAIO)
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")

    failures = [client.get("/health/live", headers=bearer(forged)).status_code for _ in range(2)]
    locked = client.get("/api/v1/cases", headers=bearer(key))

    assert failures == [401, 401]
    assert locked.status_code == 429
    assert locked.content_type == "application/problem+json"
    assert int(locked.headers["Retry-After"]) > 0
    assert client.get("/api/v1/cases").status_code == 200  # reads without a key go on


def test_failed_authentications_with_other_keys_do_not_lock_a_valid_key_out(limited_app):
    # One anonymous client sending bad tokens used to lock every integrator behind the same address out.
    client = limited_app.test_client()
    with limited_app.app_context():
        key = make_key(Role.NAIO)
    bad_tokens = ["sbx_000000000000_guess", "sbx_0123456789ab_guess", "not-a-key", "sbx_nothex_guess"]

    failures = [client.get("/api/v1/cases", headers=bearer(token)).status_code for token in bad_tokens * 3]

    assert set(failures[:4]) == {401}
    assert set(failures[-4:]) == {429}  # each guessed key, or the malformed ones, is locked out in turn
    assert client.get("/api/v1/cases", headers=bearer(key)).status_code == 200


def test_the_workers_of_the_default_storage_together_allow_the_limit(engine, connection):
    # Each worker counts in its own memory: with 2 workers, each allows half, so an address whose
    # connections the kernel spreads over both still gets 10 failures a minute, not 20.
    app = app_with(engine, connection, RATELIMIT_FAILED_AUTHENTICATION="10 per minute", WEB_CONCURRENCY=2)
    client = app.test_client()
    forged = {"Authorization": "Bearer sbx_0123456789ab_guess"}

    answers = [client.get("/api/v1/cases", headers=forged).status_code for _ in range(6)]

    assert answers == [401] * 5 + [429]


def test_counting_requests_starts_no_thread(limited_app, monkeypatch):
    client = limited_app.test_client()
    client.get("/api/v1/cases")
    started = []
    original_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread) or original_start(thread))

    for _ in range(3):
        time.sleep(0.02)  # longer than limits' stock expiry timer, which a count after it would start again
        client.get("/api/v1/cases")

    assert started == []
    assert isinstance(limited_app.extensions[EXTENSION].storage, SweptMemoryStorage)


def test_the_counts_of_callers_who_do_not_come_back_are_dropped():
    storage = SweptMemoryStorage()
    storage.incr("gone", expiry=0.01)
    storage.incr("still-counting", expiry=60)

    time.sleep(0.02)
    storage.sweep()

    assert storage.get("still-counting") == 1
    assert "gone" not in storage.storage and "gone" not in storage.expirations


def test_the_sweeping_thread_ends_with_its_storage():
    storage = SweptMemoryStorage()
    sweeper = storage.timer
    assert sweeper.is_alive()

    del storage
    gc.collect()
    sweeper.join(timeout=SweptMemoryStorage.SWEEP_SECONDS * 3)

    assert not sweeper.is_alive()


def test_an_asyncio_rate_limit_storage_is_refused_at_startup(engine, connection):
    with pytest.raises(ConfigurationError, match="asyncio storage"):
        app_with(engine, connection, RATELIMIT_STORAGE_URI="async+memory://")


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set: the shared-storage test needs Redis")
def test_replicas_sharing_redis_share_one_budget(engine, connection):
    prefix = f"sandbox-registry-test-{uuid.uuid4().hex}"
    settings = {
        "RATELIMIT_APPLICATION": "4 per minute",
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
    }
    replicas = [app_with(engine, connection, **settings).test_client() for _ in range(2)]
    try:
        statuses = [replicas[number % 2].get("/api/v1/cases").status_code for number in range(5)]
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        for name in store.scan_iter(f"*{prefix}*"):
            store.delete(name)

    assert statuses == [200, 200, 200, 200, 429]


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/cases", 200),
        ("GET", "/api/v1/nothing", 404),
        ("PUT", "/api/v1/cases", 405),
        ("POST", "/api/v1/cases", 401),
        ("GET", "/api/v1/cases?colour=blue", 422),
        ("GET", "/health/live", 200),
    ],
)
def test_every_answer_carries_the_security_headers(client, method, path, status):
    response = client.open(path, method=method, json={} if method == "POST" else None)

    assert response.status_code == status
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" in response.headers
    assert "Retry-After" not in response.headers


def test_a_server_error_carries_the_security_headers(app, monkeypatch):
    from sandbox_api.taxonomies import service

    monkeypatch.setattr(service, "get", lambda **kwargs: 1 / 0)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/api/v1/taxonomies/sectors")

    assert response.status_code == 500
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_docs_may_run_their_own_scripts_and_nothing_else(client):
    page = client.get("/docs/")

    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy  # no CDN or other origin


def test_authenticated_answers_are_never_stored_and_public_ones_vary_by_key(client, naio):
    keyed = naio.get("/api/v1/cases")
    keyed_error = naio.get("/api/v1/cases/00000000-0000-0000-0000-000000000000")
    public = client.get("/api/v1/cases")

    assert keyed.headers["Cache-Control"] == "no-store"
    assert keyed_error.headers["Cache-Control"] == "no-store"
    assert "no-store" not in public.headers.get("Cache-Control", "")
    assert "Authorization" in public.headers["Vary"]


def test_cors_is_closed_unless_origins_are_configured(client):
    preflight = client.options(
        "/api/v1/cases", headers={"Origin": "https://dashboard.example", "Access-Control-Request-Method": "POST"}
    )
    simple = client.get("/api/v1/cases", headers={"Origin": "https://dashboard.example"})

    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in simple.headers


def test_configured_origins_may_call_the_api_and_others_may_not(engine, connection):
    client = app_with(engine, connection, CORS_ORIGINS=["https://dashboard.naio.gov.my"]).test_client()
    preflight = client.options(
        "/api/v1/cases",
        headers={
            "Origin": "https://dashboard.naio.gov.my",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )
    read = client.get("/api/v1/cases", headers={"Origin": "https://dashboard.naio.gov.my"})
    stranger = client.get("/api/v1/cases", headers={"Origin": "https://evil.example"})

    assert preflight.headers["Access-Control-Allow-Origin"] == "https://dashboard.naio.gov.my"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert read.headers["Access-Control-Allow-Origin"] == "https://dashboard.naio.gov.my"
    assert {"ETag", "X-Pagination", "Link"} <= set(read.headers["Access-Control-Expose-Headers"].split(", "))
    assert "Access-Control-Allow-Origin" not in stranger.headers
