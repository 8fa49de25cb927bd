"""List statements built once per query: the same filters, sort and caller get the same statement."""

import threading
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache
from sqlalchemy import Select
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # auth imports the pagination that imports this module
    from sandbox_api.auth import Caller

# Query arguments that choose a page of the list, not the list: the page's own statement binds them.
PAGE_ARGUMENTS = frozenset({"page", "page_size"})

# A kept statement, with the cache key that SQLAlchemy memoizes on it, takes about 30 KiB: at most 4 MiB per
# list and process, whatever queries arrive.
STATEMENTS_PER_BUILDER = 128

ListStatement = Callable[..., Select]


def frozen(value: Any) -> Any:
    """A query argument's value in a hashable form (lists become tuples)."""
    return tuple(value) if isinstance(value, list) else value


def arguments_key(query: dict, *, leaving_out: frozenset[str] = frozenset()) -> tuple:
    """The query's arguments as a hashable key, the same whatever order they came in."""
    return tuple(sorted((name, frozen(value)) for name, value in query.items() if name not in leaving_out))


def built_once_per_query(build: ListStatement) -> ListStatement:
    """Memoize a `list_statement(*, session, query, caller)` by what it is built from.

    Building the filtered statement, and SQLAlchemy's walk of it for its cache key, cost a list request
    about as much as running the page's SQL on SQLite; a statement is an immutable value, so one built
    for a query serves every later request with the same query. `build` must be a pure function of
    the query, the caller's role and agency, and the database's dialect: it reads nothing from the
    database (a value that the data decides, such as an agency's slug, goes into the SQL as a subquery).
    """
    statements: LRUCache = LRUCache(maxsize=STATEMENTS_PER_BUILDER)
    lock = threading.Lock()

    @wraps(build)
    def cached(*, session: Session, query: dict, caller: "Caller") -> Select:
        arguments = arguments_key(query, leaving_out=PAGE_ARGUMENTS)
        key = (session.get_bind().dialect.name, caller.role, caller.agency_id, arguments)
        with lock:
            statement = statements.get(key)
        if statement is None:
            statement = build(session=session, query=query, caller=caller)
            with lock:
                statements[key] = statement
        return statement

    return cached
