"""Resources rendered as JSON by the database, field by field from their marshmallow schemas.

The schema stays the one definition of the wire format (and of the OpenAPI document); this module
derives from it one SQL expression per resource that builds the same JSON in the database, so a
list of resources costs no object construction and no Python serialisation per row.
"""

import hashlib
from functools import cache

import marshmallow as ma
from flask import Response
from sqlalchemy import JSON, ColumnElement, Label, Select, Text, case, cast, func, literal_column, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.sql.visitors import InternalTraversal

from sandbox_api.schemas import Timestamp


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
    # SQLite 3.40 has no ORDER BY inside aggregates: rows come in the order of the index that the
    # correlated subquery scans, and each link table's key is laid out in the order to show.
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
    """The JSON array of `value` over the rows matching `where` (a correlated subquery), in `order_by` order."""
    return json_embed(select(json_array_agg(value, order_by)).where(where).scalar_subquery())


def _as_json(field: ma.fields.Field, expression):
    if isinstance(field, ma.fields.UUID):
        return uuid_text(expression)
    if isinstance(field, Timestamp):
        return timestamp_text(expression)
    if isinstance(field, ma.fields.Boolean):
        return json_bool(expression)
    if isinstance(field, ma.fields.List | ma.fields.Nested | ma.fields.Dict):
        # A column property built with json_array_of is embedded already: parsing it twice costs SQLite time.
        inner = expression.element if isinstance(expression, Label) else expression
        return inner if isinstance(inner, json_embed) else json_embed(expression)
    return expression


class StoredDocument:
    """A model's rendering stored by the writes that change the row, read through the model's attribute
    `column_name`: `schema_class` rendered, without the object's closing `}`, so that reads append members
    to it (see `Representation`)."""

    def __init__(self, schema_class: type[ma.Schema], column_name: str) -> None:
        self.column_name = column_name
        self.field_names = frozenset(schema_class().dump_fields)


def _json_object_of(fields: dict[str, ma.fields.Field], model) -> ColumnElement:
    pairs = []
    for name, field in fields.items():
        attribute = getattr(model, field.attribute or name)
        pairs.extend((key(name), _as_json(field, attribute.expression)))
    return cast(json_object(*pairs), Text)


def _json_text(field: ma.fields.Field, expression) -> ColumnElement:
    """A value as JSON text, to append to a stored document: a boolean, or a JSON document."""
    if isinstance(field, ma.fields.Boolean):
        return case(
            (expression.is_(None), literal_column("'null'", Text)),
            (expression, literal_column("'true'", Text)),
            else_=literal_column("'false'", Text),
        )
    if isinstance(field, ma.fields.Nested | ma.fields.Dict):
        return func.coalesce(cast(expression, Text), literal_column("'null'", Text))
    raise TypeError(f"a {type(field).__name__} field cannot be appended to a stored document")


class Representation(ColumnElement):
    """One row of a model rendered as its schema dumps it, as JSON text.

    Every field of the schema must name a mapped column or column property of the model (derived
    fields are SQL expressions on the model), so that the database computes all of it. The SQL is
    built once; its cache key is just the names, so SQLAlchemy compiles it once per statement shape
    instead of walking the whole expression on every request.

    A model with a `stored_document` (a `StoredDocument`) is rendered from it: the stored text, then the
    schema's other fields (those computed when read), then `}`. Text is only concatenated, so the stored
    document is copied, never parsed. `live` asks for the rendering built field by field instead, which is
    what the stored document is made from.
    """

    inherit_cache = True
    _traverse_internals = [("name", InternalTraversal.dp_string)]

    def __init__(self, schema_class: type[ma.Schema], model, *, live: bool = False) -> None:
        self.type = Text()
        self.name = f"{model.__name__}/{schema_class.__name__}{'/live' if live else ''}"
        fields = schema_class().dump_fields
        stored: StoredDocument | None = None if live else getattr(model, "stored_document", None)
        if stored is None or not stored.field_names <= fields.keys():
            self.json = _json_object_of(fields, model)
            return
        text = type_coerce(getattr(model, stored.column_name).expression, Text)
        for name, field in fields.items():
            if name not in stored.field_names:
                assert name.isidentifier(), name  # written into the SQL, like `key`
                attribute = getattr(model, field.attribute or name)
                text = text + literal_column(f"',\"{name}\":'", Text) + _json_text(field, attribute.expression)
        self.json = text + literal_column("'}'", Text)


@compiles(Representation)
def _compile_representation(element, compiler, **kw):
    # Literal values are written into the SQL, so the statement carries no parameters of its own.
    return compiler.process(element.json, literal_binds=True)


@cache
def representation(schema_class: type[ma.Schema], model, *, live: bool = False) -> Representation:
    return Representation(schema_class, model, live=live)


def rendered(schema_class: type[ma.Schema], statement: Select, *columns) -> Select:
    """`statement` (a `select(Model)...`) selecting each row's JSON instead, followed by `columns`, then by
    the statement's own further columns (its annotations, see `annotate`)."""
    model = statement.column_descriptions[0]["entity"]
    annotations = [description["expr"] for description in statement.column_descriptions[1:]]
    return statement.with_only_columns(
        representation(schema_class, model), *columns, *annotations, maintain_column_froms=True
    )


def annotation_names(statement: Select) -> list[str]:
    """The names of the annotations that `statement` (a `select(Model, *annotations)`) adds to each row."""
    return [description["name"] for description in statement.column_descriptions[1:]]


def annotate(body: str, names: list[str], values) -> str:
    """A rendered resource with members added: each value is JSON text (or None, for `null`).

    Annotations say something about a resource in one answer (why a search matched it, why it ranks
    where it does) without being part of the resource, so its ETag and its other representations stay
    the same.
    """
    if not names:
        return body
    members = "".join(
        f',"{name}":{"null" if value is None else value}' for name, value in zip(names, values, strict=True)
    )
    return f"{body[:-1]}{members}}}"


def render_one(session: Session, schema_class: type[ma.Schema], statement: Select) -> str | None:
    """The JSON of the one row that `statement` (a `select(Model)...`) selects, or None."""
    # A single text column needs no ORM loading: the connection runs it directly. A read of one row by
    # its key has the same best plan whatever the key.
    return session.connection().scalar(rendered(schema_class, statement).execution_options(generic_plan=True))


def render_list(session: Session, schema_class: type[ma.Schema], statement: Select) -> str:
    """The JSON array of the rows that `statement` selects, in its order."""
    return f"[{','.join(session.connection().scalars(rendered(schema_class, statement)))}]"


def render_rows(session: Session, schema_class: type[ma.Schema], statement: Select, *columns) -> list[tuple]:
    """Each selected row's JSON, followed by the values of `columns`, in the statement's order."""
    return [tuple(row) for row in session.connection().execute(rendered(schema_class, statement, *columns))]


def json_response(body: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status=status, headers=headers, mimetype="application/json")


def etag_of(body: str | bytes) -> str:
    """A strong ETag: a digest of the exact bytes of the representation."""
    data = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()[:40]
