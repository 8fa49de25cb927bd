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
    # connections (see shared/design/performance.md).
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "8"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(256 * 1024)))

    API_TITLE = "Sandbox Case Registry"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    DOCS_URL = "/docs"


class TestConfig(Config):
    """Settings for the test suite: the database comes from the test fixtures."""

    TESTING = True
