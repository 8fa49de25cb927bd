"""Facets, Datasette-style: counts per value of named fields over a whole filtered list, in `X-Facets`."""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import marshmallow as ma
from flask import Response
from marshmallow import validate
from sqlalchemy import ColumnElement, Select, desc, func
from sqlalchemy.orm import Session, aliased

MAX_FACET_VALUES = 30
HEADER = "X-Facets"

FACETS_HEADER = {
    HEADER: {
        "description": "Sent when `facets` is given: for each facet named, the counts per value over the whole "
        'filtered list (not just this page), as JSON: `{"sector": [{"value": "education", "count": 123}, ...]}`. '
        f"Highest count first, then value; at most {MAX_FACET_VALUES} values per facet; a missing value is "
        "`null`. A row with several values (e.g. a case's `sectors`) counts once under each.",
        "schema": {"type": "string"},
    }
}


@dataclass(frozen=True)
class Facet:
    """Where one field's values are: `value`, reached from the listed model through `joins` (target, onclause)."""

    value: ColumnElement
    joins: tuple[tuple[object, ColumnElement[bool]], ...] = ()


def linked(model, *, value: str, on: Callable[[object], ColumnElement[bool]]) -> Facet:
    """A facet whose values are in another table (a link table, a parent), joined by `on(table)`.

    The table is aliased, so that the list's own filters, which may test the same table in correlated
    subqueries, still see only their own rows and not the joined ones.
    """
    table = aliased(model)
    return Facet(getattr(table, value), ((table, on(table)),))


def facets_field(facets: Mapping[str, Facet]) -> ma.fields.List:
    """The `facets` query parameter of a list that may be faceted by `facets`."""
    names = list(facets)
    return ma.fields.List(
        ma.fields.String(validate=validate.OneOf(names), metadata={"enum": names}),
        load_default=list,
        validate=validate.Length(max=len(names)),
        metadata={
            "description": f"Count the filtered list's rows per value of this field, answered in the `{HEADER}` "
            "header. Repeat the parameter for several fields."
        },
    )


def counts(session: Session, statement: Select, facets: Mapping[str, Facet], names: list[str]) -> dict[str, list]:
    """For each facet named, `[{"value", "count"}]` over every row that `statement` (a `select(Model)`) selects;
    one GROUP BY per facet, whatever the page."""
    found = {}
    for name in dict.fromkeys(names):
        facet = facets[name]
        count = func.count()
        grouped = statement.with_only_columns(facet.value, count, maintain_column_froms=True)
        for target, onclause in facet.joins:
            grouped = grouped.join(target, onclause)
        grouped = (
            grouped.group_by(facet.value)
            .order_by(None)
            .order_by(desc(count), facet.value.asc().nulls_last())
            .limit(MAX_FACET_VALUES)
        )
        found[name] = [{"value": value, "count": n} for value, n in session.execute(grouped)]
    return found


def with_facets(
    response: Response, *, session: Session, statement: Select, facets: Mapping[str, Facet], names: list[str]
) -> Response:
    """`response` (a page of `statement`) with the `X-Facets` header when any facet was asked for."""
    if names:
        response.headers[HEADER] = json.dumps(counts(session, statement, facets, names), default=str)
    return response
