"""Resources rendered as JSON by the database, field by field from their marshmallow schemas.

The schema stays the one definition of the wire format (and of the OpenAPI document); this module
derives from it one SQL expression per resource that builds the same JSON in the database, so a
list of resources costs no object construction and no Python serialisation per row.
"""

from functools import cache

import marshmallow as ma
from sqlalchemy import ColumnElement, Label, Select, Text, case, cast, func, literal_column, select, type_coerce
from sqlalchemy.ext.associationproxy import AssociationProxyInstance
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import RelationshipProperty, Session
from sqlalchemy.sql.visitors import InternalTraversal

from sandbox_api.storage.sql import json_array_of, json_bool, json_embed, json_object, key, timestamp_text, uuid_text


class Members:
    """A nested object made of the model's attributes named `<prefix><member>`, one per field of the nested
    schema that renders it: the schema decides the members, so a field added to it needs only its column.
    `present` names the attribute whose null makes the whole object null."""

    def __init__(self, prefix: str, *, present: str | None = None) -> None:
        self.prefix = prefix
        self.present = present

    def __get__(self, instance, owner):
        if instance is None:
            return self
        if self.present is not None and getattr(instance, self.present) is None:
            return None
        return _MembersOf(instance, self.prefix)


class _MembersOf:
    """An instance's members, read as attributes (what `Schema.dump` reads)."""

    def __init__(self, instance, prefix: str) -> None:
        self._instance = instance
        self._prefix = prefix

    def __getattr__(self, name: str):
        return getattr(self._instance, self._prefix + name)


def _nested_schema(field: ma.fields.Field) -> ma.Schema | None:
    """The schema of a `Nested` field, or of a `List` of them."""
    if isinstance(field, ma.fields.List):
        field = field.inner
    return field.schema if isinstance(field, ma.fields.Nested) else None


def _related_rows(field: ma.fields.Field, relationship: RelationshipProperty) -> ColumnElement:
    """The related rows, each rendered by the nested schema: a JSON array in the relationship's order, or the
    one row of a many-to-one relationship as one object, null when there is none."""
    schema = _nested_schema(field)
    if (
        schema is None
        or relationship.uselist != isinstance(field, ma.fields.List)
        or (relationship.secondary is not None and relationship.uselist)
    ):
        raise TypeError(
            f"`{relationship}` renders only as a nested schema: a list of them over a foreign key, or one object "
            "for a many-to-one relationship (over a foreign key, or through a secondary table's)"
        )
    members = _json_object(schema.dump_fields, relationship.mapper.class_)
    if not relationship.uselist:
        # A correlated look-up of the row that the foreign key names, by its primary key, through the secondary
        # table's row when there is one. A JSON value loses its JSON subtype through the subquery on SQLite:
        # `json_embed` gives it back.
        row = select(members).where(relationship.primaryjoin).correlate_except(relationship.target)
        if relationship.secondary is not None and relationship.secondaryjoin is not None:
            row = row.where(relationship.secondaryjoin).correlate_except(relationship.secondary)
        return json_embed(row.scalar_subquery())
    order_by = relationship.order_by
    if not order_by or len(order_by) != 1:
        raise TypeError(f"`{relationship}` needs one `order_by` column: the order its rows are listed in")
    return json_array_of(members, where=relationship.primaryjoin, order_by=order_by[0])


def _proxied_values(field: ma.fields.Field, proxy: AssociationProxyInstance) -> ColumnElement:
    """The JSON array of one attribute of the related rows (an association proxy), in the relationship's order."""
    if not isinstance(field, ma.fields.List):
        raise TypeError(f"`{proxy}` renders only as a list")
    relationship = proxy.local_attr.property  # type: ignore[attr-defined]  # an InstrumentedAttribute
    value = getattr(proxy.target_class, proxy.value_attr).expression
    if relationship.secondary is not None:
        # The link table holds the related row's key: read it there, without joining the related table.
        value = dict(relationship.secondary_synchronize_pairs)[value]
        order_by = value
    elif relationship.order_by and len(relationship.order_by) == 1:
        order_by = relationship.order_by[0]
    else:
        raise TypeError(f"`{relationship}` needs one `order_by` column: the order its values are listed in")
    return json_array_of(_as_json(field.inner, value), where=relationship.primaryjoin, order_by=order_by)


def _members(field: ma.fields.Field, members: Members, model) -> ColumnElement:
    schema = _nested_schema(field)
    if schema is None or isinstance(field, ma.fields.List):
        raise TypeError(f"`{members.prefix}*` renders only as one nested object")
    rendered = _json_object(schema.dump_fields, model, prefix=members.prefix)
    if members.present is None:
        return json_embed(rendered)
    return json_embed(case((getattr(model, members.present).is_(None), None), else_=rendered))


def _field(field: ma.fields.Field, model, name: str) -> ColumnElement:
    """One field of a row of `model` as SQL: a JSON value, or a scalar that JSON takes as it is."""
    attribute = model.__dict__.get(name)
    if isinstance(attribute, Members):
        return _members(field, attribute, model)
    attribute = getattr(model, name)
    if isinstance(attribute, AssociationProxyInstance):
        return _proxied_values(field, attribute)
    if isinstance(getattr(attribute, "property", None), RelationshipProperty):
        return _related_rows(field, attribute.property)
    return _as_json(field, attribute.expression)


def _as_json(field: ma.fields.Field, expression):
    if isinstance(field, ma.fields.UUID):
        return uuid_text(expression)
    if isinstance(field, ma.fields.DateTime):  # every timestamp of the API is a `wire.fields.Timestamp`
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


def _json_object(fields: dict[str, ma.fields.Field], model, *, prefix: str = "") -> ColumnElement:
    """A row of `model` as the JSON object of `fields`, each from the model's attribute `<prefix><name>`."""
    pairs: list[ColumnElement] = []
    for name, field in fields.items():
        pairs.extend((key(name), _field(field, model, prefix + (field.attribute or name))))
    return json_object(*pairs)


def _json_text(field: ma.fields.Field, model, name: str) -> ColumnElement:
    """A field as JSON text, to append to a stored document: a boolean, or a JSON document."""
    if isinstance(field, ma.fields.Boolean):
        expression = getattr(model, name).expression
        return case(
            (expression.is_(None), literal_column("'null'", Text)),
            (expression, literal_column("'true'", Text)),
            else_=literal_column("'false'", Text),
        )
    if isinstance(field, ma.fields.Nested | ma.fields.Dict):
        return func.coalesce(cast(_field(field, model, name), Text), literal_column("'null'", Text))
    raise TypeError(f"a {type(field).__name__} field cannot be appended to a stored document")


class Representation(ColumnElement):
    """One row of a model rendered as its schema dumps it, as JSON text.

    Each field of the schema names an attribute of the model that the database can compute: a column or a
    column property (a derived value, an SQL expression on the model), a relationship (a list of a nested
    schema, over the related rows; one nested object, over the row a many-to-one relationship names, directly
    or through a secondary table's row), an association proxy (a list of one column of the related rows), or
    a `Members` (one nested object from the model's own columns). Nested schemas are rendered field by field
    too, so that no part of the wire format is written twice; a field without such an attribute fails when
    the representation is first built. The SQL is
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
        self.json: ColumnElement[str]
        self.name = f"{model.__name__}/{schema_class.__name__}{'/live' if live else ''}"
        fields = schema_class().dump_fields
        stored: StoredDocument | None = None if live else getattr(model, "stored_document", None)
        if stored is None or not stored.field_names <= fields.keys():
            self.json = cast(_json_object(fields, model), Text)
            return
        text: ColumnElement[str] = type_coerce(getattr(model, stored.column_name).expression, Text)
        for name, field in fields.items():
            if name not in stored.field_names:
                assert name.isidentifier(), name  # written into the SQL, like `key`
                value = _json_text(field, model, field.attribute or name)
                text = text + literal_column(f"',\"{name}\":'", Text) + value
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
