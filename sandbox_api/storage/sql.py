"""SQL functions that build JSON and text portably, compiled for SQLite and PostgreSQL."""

from sqlalchemy import JSON, Text, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction


class _JSONFunction(GenericFunction):
    inherit_cache = True
    type = JSON()


class json_object(_JSONFunction):
    """A JSON object from alternating keys and values."""

    inherit_cache = True
    name = "json_object"


class json_array_agg(_JSONFunction):
    """Aggregate: the JSON array of the first argument, in the order of the second; `[]` over no rows."""

    inherit_cache = True
    name = "json_array_agg"


class json_array(_JSONFunction):
    """A JSON array of its arguments."""

    inherit_cache = True
    name = "json_array"


class text_list_agg(GenericFunction):
    """Aggregate: the text values joined by `, `, in the order of the rows it aggregates (SQLite) or of the
    value (PostgreSQL); feed it an ordered subquery so both agree. NULL over no rows."""

    inherit_cache = True
    name = "text_list_agg"
    type = Text()


class json_embed(_JSONFunction):
    """A JSON value that an enclosing JSON object embeds as JSON, not as a string."""

    inherit_cache = True
    name = "json_embed"


class json_bool(_JSONFunction):
    """A boolean as JSON `true`, `false` or `null`."""

    inherit_cache = True
    name = "json_bool"


class json_without_key(_JSONFunction):
    """A JSON object without one key: `json_without_key(document, key("name"))`."""

    inherit_cache = True
    name = "json_without_key"


class uuid_text(GenericFunction):
    """A UUID in its canonical text form."""

    inherit_cache = True
    name = "uuid_text"
    type = Text()


class timestamp_text(GenericFunction):
    """A UTC timestamp as RFC 3339 text with microseconds and `Z`, as `schemas.Timestamp` writes it."""

    inherit_cache = True
    name = "timestamp_text"
    type = Text()


class utc_today(GenericFunction):
    """Today's date in UTC."""

    inherit_cache = True
    name = "utc_today"


def _arguments(element, compiler, **kw) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(json_object, "sqlite")
def _json_object_sqlite(element, compiler, **kw):
    return f"json_object({', '.join(_arguments(element, compiler, **kw))})"


@compiles(json_object, "postgresql")
def _json_object_postgresql(element, compiler, **kw):
    return f"json_build_object({', '.join(_arguments(element, compiler, **kw))})"


@compiles(json_array, "sqlite")
def _json_array_sqlite(element, compiler, **kw):
    return f"json_array({', '.join(_arguments(element, compiler, **kw))})"


@compiles(json_array, "postgresql")
def _json_array_postgresql(element, compiler, **kw):
    return f"json_build_array({', '.join(_arguments(element, compiler, **kw))})"


@compiles(text_list_agg, "sqlite")
def _text_list_agg_sqlite(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, ', ')"


@compiles(text_list_agg, "postgresql")
def _text_list_agg_postgresql(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"string_agg({value}, ', ' ORDER BY {value})"


@compiles(json_array_agg, "sqlite")
def _json_array_agg_sqlite(element, compiler, **kw):
    # SQLite 3.40 has no ORDER BY inside aggregates: json_array_of feeds it an ordered subquery.
    value, _order = _arguments(element, compiler, **kw)
    return f"json_group_array({value})"


@compiles(json_array_agg, "postgresql")
def _json_array_agg_postgresql(element, compiler, **kw):
    value, order = _arguments(element, compiler, **kw)
    return f"coalesce(json_agg({value} ORDER BY {order}), '[]'::json)"


@compiles(json_embed, "sqlite")
def _json_embed_sqlite(element, compiler, **kw):
    return f"json({compiler.process(element.clauses, **kw)})"


@compiles(json_embed, "postgresql")
def _json_embed_postgresql(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(json_bool, "sqlite")
def _json_bool_sqlite(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"CASE WHEN ({value}) IS NULL THEN NULL WHEN ({value}) THEN json('true') ELSE json('false') END"


@compiles(json_bool, "postgresql")
def _json_bool_postgresql(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(json_without_key, "sqlite")
def _json_without_key_sqlite(element, compiler, **kw):
    document, name = _arguments(element, compiler, **kw)
    return f"json_remove({document}, '$.' || {name})"


@compiles(json_without_key, "postgresql")
def _json_without_key_postgresql(element, compiler, **kw):
    document, name = _arguments(element, compiler, **kw)
    return f"(CAST({document} AS JSONB) - {name})"


@compiles(uuid_text, "sqlite")
def _uuid_text_sqlite(element, compiler, **kw):
    # SQLite stores UUIDs as 32 hexadecimal digits.
    value = compiler.process(element.clauses, **kw)
    parts = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    return "(" + " || '-' || ".join(f"substr({value}, {start}, {length})" for start, length in parts) + ")"


@compiles(uuid_text, "postgresql")
def _uuid_text_postgresql(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


@compiles(timestamp_text, "sqlite")
def _timestamp_text_sqlite(element, compiler, **kw):
    # SQLite stores timestamps as `YYYY-MM-DD HH:MM:SS.ffffff` in UTC.
    return f"(replace({compiler.process(element.clauses, **kw)}, ' ', 'T') || 'Z')"


@compiles(timestamp_text, "postgresql")
def _timestamp_text_postgresql(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"""to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


@compiles(utc_today, "sqlite")
def _utc_today_sqlite(element, compiler, **kw):
    return "date('now')"


@compiles(utc_today, "postgresql")
def _utc_today_postgresql(element, compiler, **kw):
    return "CAST(now() AT TIME ZONE 'UTC' AS DATE)"


def key(name: str):
    """A key of a JSON object, written into the SQL (names are identifiers, never user input)."""
    assert name.isidentifier(), name
    return literal_column(f"'{name}'")


def json_array_of(value, *, where, order_by):
    """The JSON array of `value` over the rows matching `where` (a correlated subquery), in `order_by` order,
    `order_by` being a column of the rows listed.

    The rows are read by an inner query in that order. SQLite 3.40 has no ORDER BY inside aggregates, and an
    aggregate over an ordered subquery keeps its order (SQLite never flattens one into the other); without
    it, the rows came in the order of whichever index the planner scanned. A JSON value loses its JSON
    subtype through the subquery on SQLite: `json_embed` gives it back.
    """
    rows = (
        select(value.label("value"), order_by.label("position"))
        .where(where)
        .order_by(order_by)
        .correlate_except(order_by.table)
        .subquery()
    )
    element = json_embed(rows.c.value) if isinstance(value, _JSONFunction) else rows.c.value
    return json_embed(select(json_array_agg(element, rows.c.position)).scalar_subquery())
