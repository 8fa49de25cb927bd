"""Alembic environment: the database named by `sqlalchemy.url`, MIGRATION_DATABASE_URL or DATABASE_URL,
without the application.

A migration is frozen at its moment: `upgrade` and `downgrade` import nothing of `sandbox_api`, whose
models are today's (tests/test_migrations.py runs them where it cannot be imported). The models are
imported only to compare them with the database: `alembic revision --autogenerate` and `alembic check`,
or a caller that passes `config.attributes["target_metadata"]` (and `"include_name"`).
"""

import os
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# The application's default (sandbox_api/config.py), written out: the SQLite file under instance/.
DEFAULT_DATABASE_URL = f"sqlite:///{Path(__file__).resolve().parent.parent / 'instance' / 'registry.sqlite3'}"


def database_url() -> str:
    # MIGRATION_DATABASE_URL: the role that owns the schema, where the service connects as one that may
    # only add to the audit trail (docs/deployment.md, "Two roles on PostgreSQL").
    return (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("MIGRATION_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


def comparing_with_the_models() -> bool:
    """Whether this run compares the database with the models instead of migrating it."""
    options = config.cmd_opts
    if options is None:
        return False
    return bool(getattr(options, "autogenerate", False)) or options.cmd[0].__name__ == "check"


def comparison() -> dict:
    """`target_metadata` and `include_name` when comparing with the models, and nothing otherwise."""
    if "target_metadata" in config.attributes:
        return {
            "target_metadata": config.attributes["target_metadata"],
            "include_name": config.attributes.get("include_name"),
        }
    if not comparing_with_the_models():
        return {}
    import sandbox_api.models  # noqa: F401  (registers every table on the metadata)
    from sandbox_api.storage.db import Base
    from sandbox_api.storage.search import include_in_migrations

    # The search indexes are the migrations' alone (see search.include_in_migrations).
    return {"target_metadata": Base.metadata, "include_name": include_in_migrations}


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        literal_binds=True,
        compare_type=True,
        **comparison(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        # Autogenerate writes plain operations, not batch ones: on SQLite a batch that drops or alters a
        # column copies the table and loses its triggers (the full-text indexes' and the audit log's).
        # SQLite 3.35 and later add and drop columns in place.
        render_as_batch=False,
        compare_type=True,
        transaction_per_migration=True,
        **comparison(),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
