"""List statements built once per query: the same filters, sort and caller get the same statement."""

from collections.abc import Callable, Hashable
from typing import Any, Protocol

from cachetools import cached
from sqlalchemy import Select
from sqlalchemy.orm import Session

from sandbox_api import caches


class Asker(Protocol):
    """Who asks, as far as a statement depends on it (`policy.auth.Caller`): its role and agency."""

    @property
    def role(self) -> Hashable: ...

    @property
    def agency_id(self) -> Hashable: ...


# Query arguments that choose a page of the list, not the list: the page's own statement binds them.
PAGE_ARGUMENTS = frozenset({"page", "page_size"})

ListStatement = Callable[..., Select]


def frozen(value: Any) -> Any:
    """A query argument's value in a hashable form (lists become tuples)."""
    return tuple(value) if isinstance(value, list) else value


def question_key(*, session: Session, query: dict, caller: Asker, leaving_out: frozenset[str] = frozenset()) -> tuple:
    """What a request asks, as a hashable key: the database's dialect, the caller's role and agency, and
    the query's arguments (but those `leaving_out`), whatever order they came in."""
    arguments = tuple(sorted((name, frozen(value)) for name, value in query.items() if name not in leaving_out))
    return (session.get_bind().dialect.name, caller.role, caller.agency_id, arguments)


def built_once_per_query(build: ListStatement) -> ListStatement:
    """Memoize a `list_statement(*, session, query, caller)` by what it is built from (`caches.LIST_STATEMENTS`).

    Building the filtered statement, and SQLAlchemy's walk of it for its cache key, cost a list request
    about as much as running the page's SQL on SQLite; a statement is an immutable value, so one built
    for a query serves every later request with the same query. `build` must be a pure function of
    the query, the caller's role and agency, and the database's dialect: it reads nothing from the
    database (a value that the data decides, such as an agency's slug, goes into the SQL as a subquery).
    """

    def key(*, session: Session, query: dict, caller: Asker) -> tuple:
        return (build, *question_key(session=session, query=query, caller=caller, leaving_out=PAGE_ARGUMENTS))

    return cached(caches.LIST_STATEMENTS, key=key, lock=caches.LIST_STATEMENTS_LOCK)(build)


def order_by(model, sort: str) -> tuple:
    """ORDER BY for a `sort` value like `-created_at`, with the id as the last tie-breaker."""
    descending = sort.startswith("-")
    column = getattr(model, sort.lstrip("-"))
    return (column.desc() if descending else column.asc(), model.id.desc() if descending else model.id.asc())
