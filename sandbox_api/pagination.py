"""Page a filtered query: the items, plus the X-Pagination and RFC 8288 Link headers."""

import json
import math
import threading
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from cachetools import LRUCache
from flask import Response, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sandbox_api.db import RegistryVersion
from sandbox_api.rendering import json_response, render_list

# Totals of filtered lists, per process, keyed by the COUNT statement with its parameters and by the
# registry version. Every write transaction changes the version, so a total is never served for data
# that has changed since it was counted, and replicas need not share the cache. Counting the rows that
# match a filter is the largest cost of a list request (shared/design/performance.md); this pays it
# once per filter and version.
_totals: LRUCache = LRUCache(maxsize=4096)
_totals_lock = threading.Lock()

PAGINATION_HEADERS = {
    "X-Pagination": {
        "description": "Pagination metadata as JSON: `total`, `total_pages`, `first_page`, `last_page`, "
        "`page`, `previous_page`, `next_page`.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": "RFC 8288 links to the `first`, `prev`, `next` and `last` pages.",
        "schema": {"type": "string"},
    },
}


def _page_url(page: int) -> str:
    args = [(name, value) for name, value in request.args.items(multi=True) if name != "page"]
    return f"{request.path}?{urlencode([*args, ('page', page)])}"


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def count_rows(session: Session, statement: Select) -> int:
    """How many rows the statement selects, counted once per registry version."""
    model = statement.column_descriptions[0]["entity"]
    count = select(func.count()).select_from(statement.with_only_columns(model.id).order_by(None).subquery())
    # SQLAlchemy's cache key: the statement's structure plus its parameter values.
    cache_key = count._generate_cache_key()
    key = (cache_key.key, tuple(_freeze(parameter.effective_value) for parameter in cache_key.bindparams))
    connection = session.connection()
    version = connection.scalar(select(RegistryVersion.value))
    with _totals_lock:
        total = _totals.get((key, version))
    if total is None:
        total = connection.scalar(count) or 0
        with _totals_lock:
            _totals[(key, version)] = total
    return total


def paginate(
    session: Session, statement: Select, schema_class: type[ma.Schema], *, page: int, page_size: int
) -> Response:
    """One page of the rows that `statement` selects, rendered by the database, with the headers that
    describe the page; the total comes from count_rows."""
    total = count_rows(session, statement)
    body = render_list(session, schema_class, statement.limit(page_size).offset((page - 1) * page_size))
    last_page = max(1, math.ceil(total / page_size))
    metadata: dict[str, int] = {"total": total, "total_pages": math.ceil(total / page_size)}
    if total:
        metadata.update(first_page=1, last_page=last_page, page=page)
        if page > 1:
            metadata["previous_page"] = min(page - 1, last_page)
        if page < last_page:
            metadata["next_page"] = page + 1
    links = {"first": 1, "last": last_page}
    if "previous_page" in metadata:
        links["prev"] = metadata["previous_page"]
    if "next_page" in metadata:
        links["next"] = metadata["next_page"]
    headers = {
        "X-Pagination": json.dumps(metadata),
        "Link": ", ".join(f'<{_page_url(number)}>; rel="{rel}"' for rel, number in links.items()),
    }
    return json_response(body, headers=headers)


def order_by(model, sort: str) -> tuple:
    """ORDER BY for a `sort` value like `-created_at`, with the id as the last tie-breaker."""
    descending = sort.startswith("-")
    column = getattr(model, sort.lstrip("-"))
    return (column.desc() if descending else column.asc(), model.id.desc() if descending else model.id.asc())
