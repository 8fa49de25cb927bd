"""Facets, Datasette-style: counts per value of named fields over a whole filtered list."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, desc, func
from sqlalchemy.orm import QueryableAttribute, Session, aliased

MAX_FACET_VALUES = 30

_Model = TypeVar("_Model")


@dataclass(frozen=True)
class Facet:
    """Where one field's values are: `value`, reached from the listed model through `joins` (target, onclause)."""

    value: ColumnElement[Any] | QueryableAttribute[Any]
    joins: tuple[tuple[type[Any], ColumnElement[bool]], ...] = ()


def linked(model: type[_Model], *, value: str, on: Callable[[type[_Model]], ColumnElement[bool]]) -> Facet:
    """A facet whose values are in another table (a link table, a parent), joined by `on(table)`.

    The table is aliased, so that the list's own filters, which may test the same table in correlated
    subqueries, still see only their own rows and not the joined ones.
    """
    table = aliased(model)
    return Facet(getattr(table, value), ((table, on(table)),))


def counts(session: Session, statement: Select, facets: Mapping[str, Facet], names: list[str]) -> dict[str, list]:
    """For each facet named, `[{"value", "count"}]` over every row that `statement` (a `select(Model)`) selects;
    one GROUP BY per facet, whatever the page."""
    found: dict[str, list] = {}
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
