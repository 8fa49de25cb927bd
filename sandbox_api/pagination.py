"""Page a filtered query: the items, plus the X-Pagination and RFC 8288 Link headers."""

import json
import math
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

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
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page)]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def paginate(session: Session, statement: Select, *, page: int, page_size: int) -> tuple[list[Any], dict[str, str]]:
    """Run one COUNT and one page SELECT; return the items and the headers describing the page."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    items = list(session.scalars(statement.limit(page_size).offset((page - 1) * page_size)))
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
    return items, headers


def order_by(model, sort: str) -> tuple:
    """ORDER BY for a `sort` value like `-created_at`, with the id as the last tie-breaker."""
    descending = sort.startswith("-")
    column = getattr(model, sort.lstrip("-"))
    return (column.desc() if descending else column.asc(), model.id.desc() if descending else model.id.asc())
