"""Settings from the environment, one class per profile."""

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'registry.sqlite3'}"


class Config:
    """Production settings; everything that differs between deployments comes from the environment."""

    DATABASE_URL = os.environ.get("DATABASE_URL") or default_database_url()
    # The pool must hold at least one connection per gunicorn thread, or bursts open and close
    # connections (docs/deployment.md, "Configuration").
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "8"))
    # Seconds a request may wait on the database in all, or on SQLite for a lock, before it answers 503
    # (docs/deployment.md, "When the database is sick"). /health/ready waits at most HEALTH_READY_TIMEOUT.
    DATABASE_TIMEOUT = float(os.environ.get("DATABASE_TIMEOUT", "5"))
    HEALTH_READY_TIMEOUT = float(os.environ.get("HEALTH_READY_TIMEOUT", "2"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(256 * 1024)))

    # Rate limits (ratelimit.py, counted by limits): one budget per caller (its key, or its address) over all
    # routes, and a stricter one for failed authentications per address. The default storage is each process's memory
    # (`swept-memory://`, see ratelimit.SweptMemoryStorage): with several workers or replicas, point
    # RATELIMIT_STORAGE_URI at Redis (`redis://host:6379`) so that they share one count.
    RATELIMIT_APPLICATION = os.environ.get("RATELIMIT_APPLICATION", "1200 per minute")
    RATELIMIT_FAILED_AUTHENTICATION = os.environ.get("RATELIMIT_FAILED_AUTHENTICATION", "10 per minute")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "swept-memory://")
    RATELIMIT_KEY_PREFIX = "sandbox-registry"
    # gunicorn's worker processes (gunicorn.conf.py reads the same variable): with the in-process storage,
    # each counts a share of the failed authentications allowed, so that together they allow no more.
    WEB_CONCURRENCY = int(os.environ.get("WEB_CONCURRENCY", "2"))
    # Behind a reverse proxy, how many of them set X-Forwarded-For: the client address that the rate
    # limits count comes from there. 0 (the default) trusts no forwarded header.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Browser origins allowed to call the API (CORS), comma-separated; none by default.
    CORS_ORIGINS = [origin.strip() for origin in os.environ.get("CORS_ORIGINS", "").split(",") if origin.strip()]

    API_TITLE = "Sandbox Case Registry"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    DOCS_URL = "/docs"


class TestConfig(Config):
    """Settings for the test suite: the database comes from the test fixtures."""

    TESTING = True
    # The suite sends thousands of requests from one address; the rate-limit tests set their own limits.
    RATELIMIT_APPLICATION = "100000 per minute"
    RATELIMIT_FAILED_AUTHENTICATION = "100000 per minute"
    RATELIMIT_STORAGE_URI = "swept-memory://"
    WEB_CONCURRENCY = 1  # the test client is one process
    # Two test processes share two cores: a slow answer must fail its own assertion, not time its shared
    # connection out (tests/test_database_waits.py sets its own short limit).
    DATABASE_TIMEOUT = 30
