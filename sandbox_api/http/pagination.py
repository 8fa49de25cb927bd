"""Page a filtered query: the items, plus the X-Pagination and RFC 8288 Link headers."""

import json
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import marshmallow as ma
from flask import Response, request
from flask_smorest.pagination import PaginationMetadataSchema
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    UnaryExpression,
    asc,
    bindparam,
    desc,
    func,
    nulls_first,
    nulls_last,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators

from sandbox_api import caches, private_apis
from sandbox_api.http.responses import json_response
from sandbox_api.storage.db import registry_state
from sandbox_api.storage.rendering import annotate, annotation_names, rendered
from sandbox_api.storage.statements import frozen

# The headers of a page, as OpenAPI header components (registered by `http.api.Api`); a list's response
# refers to them by name.
OPENAPI_HEADERS = {
    "X-Pagination": {
        "description": "The page's place in the list, as JSON. `total` and `total_pages` always; `first_page`, "
        "`last_page` and `page` when the list is not empty; `previous_page` when not on the first page and "
        '`next_page` when not on the last. An empty list is `{"total": 0, "total_pages": 0}`.',
        "content": {"application/json": {"schema": "PaginationMetadata"}},
    },
    "Link": {
        "description": "RFC 8288 links to the `first`, `prev`, `next` and `last` pages, with the request's other "
        "query parameters kept.",
        "schema": {"type": "string"},
    },
}
PAGINATION_HEADERS = {name: name for name in OPENAPI_HEADERS}
_METADATA = PaginationMetadataSchema()


def _page_url(other_args: str, page: int) -> str:
    """The URL of another page; `other_args` is the request's query string without `page`, encoded."""
    return f"{request.path}?{other_args}&page={page}" if other_args else f"{request.path}?page={page}"


_REGISTRY_STATE = registry_state()


@dataclass(frozen=True)
class _PageStatements:
    """The statements that page one shape of filtered query, built from the first statement of that shape.

    `page` selects each row's JSON with the registry state it was read at, and `count` the total with
    its state, so neither costs a round trip of its own for the state. `filter_parameters` are the
    bound parameters of that first statement: a later statement of the same shape (equal cache key) has
    its values in the same order (see `paginate`). `annotation_names` name the members that the
    statement's annotations add to each item.
    """

    page: Select
    count: Select
    filter_parameters: tuple[BindParameter, ...]
    annotation_names: list[str]


# ORDER BY modifiers, and how to put each back on a sort key.
_ORDERINGS = {
    operators.asc_op: asc,
    operators.desc_op: desc,
    operators.nulls_first_op: nulls_first,
    operators.nulls_last_op: nulls_last,
}


def _sort_key(clause) -> tuple[ColumnElement, list]:
    """An ORDER BY clause as the expression it sorts by and its modifiers (`desc`, `nulls_last`...), outermost first."""
    modifiers = []
    while isinstance(clause, UnaryExpression) and clause.modifier in _ORDERINGS:
        modifiers.append(_ORDERINGS[clause.modifier])
        clause = clause.element
    return clause, modifiers


def _ordered(column, modifiers: list):
    for modifier in reversed(modifiers):
        column = modifier(column)
    return column


def _page_statement(statement: Select, schema_class: type[ma.Schema], model, *, generic_plan: bool) -> Select:
    """The page's rows, rendered, with the registry state and the statement's annotations.

    An inner query picks the page (the statement's filters, order, LIMIT and OFFSET) with only the ids
    and sort keys; the outer one renders and annotates those rows alone. A database that must sort the
    matching rows (by a field without an index, by relevance) then sorts ids, not rendered documents:
    SQLite computes a row's result columns before it sorts, so rendering (or a search's snippets) in the
    sorting query would be done for every matching row. Annotations are therefore computed in the outer
    query, and may refer only to the model's own row.
    """
    # On a generic plan (db._prepare_only_generic_plans) LIMIT and OFFSET are written into the SQL when it runs:
    # PostgreSQL guesses a tenth of the matching rows for a LIMIT it cannot see, and plans for that many.
    sort_keys = [_sort_key(clause) for clause in private_apis.order_by_clauses(statement)]
    labelled = [expression.label(f"sort_key_{position}") for position, (expression, _) in enumerate(sort_keys)]
    page = (
        statement.with_only_columns(model.id, *labelled)
        .limit(bindparam("page_limit", type_=Integer, literal_execute=generic_plan))
        .offset(bindparam("page_offset", type_=Integer, literal_execute=generic_plan))
        .subquery("page")
    )
    order = [_ordered(page.c[key.name], modifiers) for key, (_, modifiers) in zip(labelled, sort_keys, strict=True)]
    annotations = [description["expr"] for description in statement.column_descriptions[1:]]
    rows = select(model, *annotations).join(page, page.c.id == model.id).order_by(*order)
    return rendered(schema_class, rows, _REGISTRY_STATE).execution_options(generic_plan=generic_plan)


def _build_page_statements(statement: Select, form: tuple, filter_parameters) -> _PageStatements:
    schema_class, dialect = form
    model = statement.column_descriptions[0]["entity"]
    matching = statement.with_only_columns(model.id).order_by(None).subquery()
    # A page of filters and a sort runs on one plan for any values on PostgreSQL, unless the statement says
    # its plan depends on them (a search, a ranking); SQLite plans each statement when it first runs it.
    generic_plan = dialect == "postgresql" and statement.get_execution_options().get("generic_plan", True)
    return _PageStatements(
        page=_page_statement(statement, schema_class, model, generic_plan=generic_plan),
        count=select(func.count(), _REGISTRY_STATE).select_from(matching),
        filter_parameters=tuple(filter_parameters),
        annotation_names=annotation_names(statement),
    )


def _page_statements_for(statement: Select, form: tuple) -> tuple[_PageStatements, dict, tuple]:
    """The page and count statements of the statement's shape in a form (schema and dialect), the parameters
    that give them this statement's values, and the key of its total (shape and values).

    Built once per shape and form (`caches.PAGE_STATEMENTS`): building the page and count statements, and
    SQLAlchemy's walk of each to find its compiled form, cost more than running them on SQLite; built once,
    they find their compiled form at once (the key is memoized on them). SQLAlchemy memoizes the shape on
    the statement too, so a statement built once per query (`statements.built_once_per_query`) is walked for
    it once."""
    shape, filter_parameters = private_apis.shape_and_parameters(statement)
    with caches.PAGE_STATEMENTS_LOCK:
        statements = caches.PAGE_STATEMENTS.get((shape, form))
    if statements is None:
        statements = _build_page_statements(statement, form, filter_parameters)
        with caches.PAGE_STATEMENTS_LOCK:
            caches.PAGE_STATEMENTS[(shape, form)] = statements
    values = [parameter.effective_value for parameter in filter_parameters]
    parameters = {template.key: value for template, value in zip(statements.filter_parameters, values, strict=True)}
    # The shape's own count statement stands for the shape: a key as small as the values, where SQLAlchemy's
    # cache key is a tuple of the whole statement's structure.
    total_key = (statements.count, tuple(frozen(value) for value in values))
    return statements, parameters, total_key


def paginate(
    session: Session, statement: Select, schema_class: type[ma.Schema], *, page: int, page_size: int
) -> Response:
    """One page of the rows that `statement` selects, rendered by the database, with the headers that
    describe the page; the total is counted once per filter and registry state (`caches.LIST_TOTALS`).

    `statement` is a `select(Model)`, optionally with labelled JSON columns after the model: each is
    added to its row's resource as a member of that name (`rendering.annotate`).
    """
    connection = session.connection()
    statements, parameters, total_key = _page_statements_for(statement, (schema_class, connection.dialect.name))
    rows = connection.execute(
        statements.page, {**parameters, "page_limit": page_size, "page_offset": (page - 1) * page_size}
    ).all()
    total = None
    if rows:
        with caches.LIST_TOTALS_LOCK:
            total = caches.LIST_TOTALS.get((total_key, rows[0][1]))
    if total is None:
        # The state read with the count, so the total is cached under the data it counted.
        total, state = connection.execute(statements.count, parameters).one()
        with caches.LIST_TOTALS_LOCK:
            caches.LIST_TOTALS[(total_key, state)] = total
    names = statements.annotation_names
    body = f"[{','.join(annotate(row[0], names, row[2:]) for row in rows)}]"
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
    other_args = urlencode([(name, value) for name, value in request.args.items(multi=True) if name != "page"])
    headers = {
        "X-Pagination": json.dumps(_METADATA.dump(metadata)),
        "Link": ", ".join(f'<{_page_url(other_args, number)}>; rel="{rel}"' for rel, number in links.items()),
    }
    return json_response(body, headers=headers)
