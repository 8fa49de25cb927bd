"""Declarative base with a naming convention, the engine, the request session and SQLite pragmas."""

import enum
import math
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from time import monotonic

from flask import Flask, g, has_request_context, request
from psycopg import ClientCursor
from psycopg.errors import ConnectionTimeout
from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Enum,
    MetaData,
    ScalarSelect,
    String,
    TypeDecorator,
    cast,
    create_engine,
    event,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from sandbox_api.private_apis import BoundedWaitConnection
from sandbox_api.storage.sql import utc_today

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Reads go through a memory map of the database file instead of a read() into each connection's small
# page cache (2 MB by default): pages are shared by every connection and process through the OS page
# cache, and a page that is already cached costs no system call and no copy.
SQLITE_MMAP_BYTES = 1 << 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RegistryVersion(Base):
    """One row whose value every write transaction replaces, so that derived data can be cached per
    version and never served stale (see `registry_state`).

    The value is random rather than a counter: a counter would repeat after a rolled-back transaction
    (which the tests do after every test) or a restored backup, and a cache would then serve totals of
    other data under a version it had seen before.
    """

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)


def registry_state() -> ScalarSelect:
    """What a cached derived answer (a list's total, an insight) is kept under: the registry version and the
    database's date in UTC, as one text. A review falls overdue at midnight without any write, and
    `review_overdue` is a filter of the case list; an answer read with the state is cached under it."""
    separator = literal_column("':'", String)
    return select(cast(RegistryVersion.value, String) + separator + cast(utc_today(), String)).scalar_subquery()


def _note_orm_write(session: Session, _flush_context) -> None:
    if session.new or session.dirty or session.deleted:
        session.info["wrote"] = True


def _note_statement_write(orm_execute_state) -> None:
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        orm_execute_state.session.info["wrote"] = True


def insert_in_commit_order(session: Session, row: Base) -> None:
    """Insert `row` when the transaction commits, after it has taken the registry version's row lock.

    Writers commit one at a time past that lock, so identities handed out there (the audit events'
    ids) grow in commit order: a reader paging by id never skips a row that commits late.
    """
    session.info.setdefault("insert_in_commit_order", []).append(row)
    session.info["wrote"] = True


def _bump_registry_version(session: Session) -> None:
    if session.info.get("wrote"):
        session.execute(update(RegistryVersion).values(value=secrets.randbits(63)))
        session.add_all(session.info.pop("insert_in_commit_order", []))


def _refresh_sqlite_statistics(session: Session) -> None:
    # SQLite plans from the statistics that ANALYZE stores in the file, and nothing else runs it: without
    # them, at 100,000 cases, the insights took 2-7 times as long (the risk heatmap 1.5 s, not 0.5). Its
    # `PRAGMA optimize` analyzes each table that this connection's queries have read and whose statistics
    # are missing or date from when it had a 25th of its rows (in full up to SQLite 3.45, on a sample from
    # 3.46), and is otherwise a no-op.
    if session.info.get("wrote"):
        session.execute(text("PRAGMA optimize"))


def _forget_writes(session: Session, *_args) -> None:
    session.info.pop("wrote", None)
    session.info.pop("insert_in_commit_order", None)


def utcnow() -> datetime:
    return datetime.now(UTC)


# When the current request must be done waiting on the database (`limit_waits`); None outside requests.
_wait_deadline: ContextVar[float | None] = ContextVar("database_wait_deadline", default=None)


def limit_waits(seconds: float) -> Token[float | None]:
    """Waits on the database from now on end within `seconds`, or sooner if a limit already set says so,
    until `lift_wait_limit`. Outside such a limit (the CLI, the start-up) waits are not limited."""
    deadline = monotonic() + seconds
    enclosing = _wait_deadline.get()
    return _wait_deadline.set(deadline if enclosing is None else min(enclosing, deadline))


def lift_wait_limit(token: Token[float | None]) -> None:
    _wait_deadline.reset(token)


@contextmanager
def waits_within(seconds: float) -> Iterator[None]:
    token = limit_waits(seconds)
    try:
        yield
    finally:
        lift_wait_limit(token)


# What a 503 for the database tells the client to wait (`Retry-After`), and how long waits pause meanwhile.
DATABASE_RETRY_AFTER_SECONDS = 5


class DatabaseWaits:
    """The wait budget of one PostgreSQL engine's connections: the current limit, and a pause once the
    database stops answering.

    A wait that runs out on a server that does not take the cancellation of its statement either pauses the
    engine's limited waits for `pause` seconds: they fail at once instead of holding the worker's threads,
    which would leave none for the routes that need no database. After the pause, one wait tries the
    database while the others still fail; its answer ends the pause. A server that takes the cancellation
    is running, only slow: nothing pauses.
    """

    def __init__(self, *, pause: float) -> None:
        self.pause = pause
        self._paused_until = 0.0
        self._trying_thread: int | None = None
        self._lock = threading.Lock()

    def seconds_left(self) -> float | None:
        deadline = _wait_deadline.get()
        if deadline is None:
            return None
        if self._paused_until and not self._may_try():
            return 0.0
        return deadline - monotonic()

    def _may_try(self) -> bool:
        with self._lock:
            now = monotonic()
            if self._trying_thread == threading.get_ident():
                return True  # the thread trying the database makes all of its request's waits
            if now < self._paused_until:
                return False
            self._paused_until = now + self.pause  # the others keep failing meanwhile
            self._trying_thread = threading.get_ident()
            return True

    def answered(self) -> None:
        if self._paused_until:
            with self._lock:
                self._paused_until, self._trying_thread = 0.0, None

    def timed_out(self) -> None:
        with self._lock:
            self._paused_until, self._trying_thread = monotonic() + self.pause, None


def _connect_within_the_wait_limit(waits: DatabaseWaits):
    def connect(_dialect, _record, cargs, cparams) -> BoundedWaitConnection:
        limit = waits.seconds_left()
        if limit is not None:
            if limit <= 0:
                raise ConnectionTimeout("The database did not answer in time.")
            cparams = {**cparams, "connect_timeout": max(2, math.ceil(limit))}  # libpq waits 2 s at least
        connection = BoundedWaitConnection.connect(*cargs, **cparams)
        connection.budget = waits
        return connection

    return connect


def _configure_sqlite_connection(busy_timeout_ms: int):
    def configure(dbapi_connection, _record) -> None:
        # SQLAlchemy emits BEGIN itself (see _begin_sqlite_transaction), so pysqlite must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
        cursor.close()

    return configure


def _begin_sqlite_transaction(connection) -> None:
    # A writer takes the write lock up front: a deferred transaction that reads and then writes
    # cannot wait for the lock and fails at once with "database is locked".
    if connection.get_execution_options().get("write_lock"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def _prepare_only_generic_plans(cursor, statement, parameters, context) -> bool:
    """Run a statement as its execution option `generic_plan` says: prepared at once, on a generic plan, or
    planned for its values at each execution.

    psycopg would prepare any statement after its fifth execution, and PostgreSQL would still plan most of
    them for their values each time (a generic plan that has to guess LIMIT and the filters' values never
    looks as cheap). The connection uses generic plans for what it plans once (`plan_cache_mode`), and only
    statements whose best plan does not depend on their values are prepared: a page of a filtered list, a
    read by id. Every other statement goes with its values written in by psycopg (client-side binding, the
    simple query protocol), so that PostgreSQL plans it for them: `plan_cache_mode` applies to every
    statement whose values travel apart, prepared or not. A search is planned for its word: for a word in
    20 % of the lessons, the generic plan took 229 ms where the plan for the word took 131.
    """
    if context.execution_options.get("stream_results"):
        return False  # a server-side cursor (an export) is declared, never prepared: run as usual
    if context.execution_options.get("generic_plan"):
        cursor.execute(statement, parameters, prepare=True)
    else:
        cursor.execute(ClientCursor(cursor.connection).mogrify(statement, parameters), prepare=False)
    return True


def make_engine(url: str, *, pool_size: int = 8, timeout: float = 5) -> Engine:
    """The engine of `url`; `timeout` bounds a wait for a pooled connection, and on SQLite for a lock."""
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=timeout)
        event.listen(engine, "connect", _configure_sqlite_connection(round(timeout * 1000)))
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    # JIT off: PostgreSQL compiles a statement whose estimated cost passes `jit_above_cost`, which the
    # ranked and aggregated reads of this API do (the ranking of `for_sector` spent 300 of its 700 ms
    # compiling), while none runs long enough to win the compilation back.
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout,
        connect_args={"options": "-c jit=off -c plan_cache_mode=force_generic_plan"},
    )
    waits = DatabaseWaits(pause=DATABASE_RETRY_AFTER_SECONDS)
    event.listen(engine, "do_connect", _connect_within_the_wait_limit(waits))
    event.listen(engine, "do_execute", _prepare_only_generic_plans)
    return engine


class Database:
    """One engine per process and one session per request, closed when the request ends."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._write_engine: Engine | Connection | None = None
        self._read_bind: Engine | Connection | None = None
        self._snapshot_bind: Engine | Connection | None = None
        self._sessions: sessionmaker[Session] | None = None

    def init_app(self, app: Flask, *, engine: Engine | None = None, connection: Connection | None = None) -> None:
        """Bind to the configured database; the tests pass an engine, or a connection whose
        transaction they roll back, in which case each commit only releases a savepoint."""
        timeout = app.config["DATABASE_TIMEOUT"]
        self.engine = engine or make_engine(
            app.config["DATABASE_URL"], pool_size=app.config["DATABASE_POOL_SIZE"], timeout=timeout
        )
        self._write_engine = self.engine.execution_options(write_lock=True)
        self._read_bind = self.engine
        if self.engine.dialect.name == "postgresql":
            # Under READ COMMITTED each statement reads its own snapshot, inside a transaction or not, so
            # for reads BEGIN and ROLLBACK are two round trips that change nothing.
            self._read_bind = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._snapshot_bind = self.engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        else:
            # A deferred transaction in WAL mode reads one snapshot from its first read to its end, and
            # blocks no writer.
            self._snapshot_bind = self.engine
        if connection is not None:
            self._write_engine = self._read_bind = self._snapshot_bind = connection
            self._sessions = sessionmaker(expire_on_commit=False, join_transaction_mode="create_savepoint")
        else:
            self._sessions = sessionmaker(expire_on_commit=False)
        event.listen(self._sessions, "after_flush", _note_orm_write)
        event.listen(self._sessions, "do_orm_execute", _note_statement_write)
        event.listen(self._sessions, "before_commit", _bump_registry_version)
        if self.engine.dialect.name == "sqlite":
            event.listen(self._sessions, "before_commit", _refresh_sqlite_statistics)
        event.listen(self._sessions, "after_commit", _forget_writes)
        event.listen(self._sessions, "after_rollback", _forget_writes)
        app.extensions["db"] = self

        @app.before_request
        def limit_the_request_waits() -> None:
            g.database_wait_limit = limit_waits(timeout)

        # Teardown functions run last registered first: the limit still holds while the session closes.
        @app.teardown_appcontext
        def lift_the_request_wait_limit(_exc: BaseException | None) -> None:
            if (token := g.pop("database_wait_limit", None)) is not None:
                lift_wait_limit(token)

        app.teardown_appcontext(self._close_session)

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            write = not has_request_context() or request.method not in SAFE_METHODS
            g.db_session = self.new_session(write=write)
        return g.db_session

    def new_session(self, *, write: bool) -> Session:
        assert self._sessions is not None, "Database.init_app() was not called"
        return self._sessions(bind=self._write_engine if write else self._read_bind)

    def snapshot_session(self) -> Session:
        """A read-only session whose every statement sees the registry as it was at its first one, for a
        read made of many fetches (an export); whoever opens it closes it.

        The request's session ends its transaction first. The snapshot outlives it: Flask tears the
        request down before a streamed body is sent, and in the tests, where both are savepoints of one
        connection, rolling back the request's earlier savepoint would end the snapshot's with it.
        """
        assert self._sessions is not None, "Database.init_app() was not called"
        if "db_session" in g:
            g.db_session.rollback()
        return self._sessions(bind=self._snapshot_bind)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction outside a request (CLI commands, demo data)."""
        with self.new_session(write=True) as session, session.begin():
            yield session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()


def str_enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """A portable enumeration: VARCHAR with a named CHECK constraint on both databases."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def replace_codes(links: list, codes: list[str], *, code_attribute: str, make_link) -> None:
    """Make a collection of code link rows hold exactly `codes`, keeping the rows that stay."""
    wanted = set(codes)
    for link in list(links):
        if getattr(link, code_attribute) not in wanted:
            links.remove(link)
    present = {getattr(link, code_attribute) for link in links}
    for code in sorted(wanted - present):
        links.append(make_link(code))
