"""Facets of a list: in the `X-Facets` header of the list, or as the body of its companion route
`<list>/facets`; and the `facets` query parameter."""

import json
from collections.abc import Mapping
from functools import cache

import marshmallow as ma
from flask import Response
from marshmallow import validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from sandbox_api.http.responses import json_response
from sandbox_api.storage.facets import MAX_FACET_VALUES, Facet, counts
from sandbox_api.wire.fields import schema_without

HEADER = "X-Facets"
# What a list's companion `facets` route does not take: the counts are of the whole filtered list, in no order.
NOT_FACET_PARAMETERS = ("page", "page_size", "sort")


class FacetCountSchema(ma.Schema):
    value = ma.fields.Raw(
        allow_none=True,
        metadata={
            "type": ["string", "integer", "boolean"],
            "description": "A value of the field (a code, an agency id, a boolean...); `null` for the rows without one.",
        },
    )
    count = ma.fields.Integer(metadata={"description": "How many rows of the filtered list have the value."})


COUNTS_DESCRIPTION = (
    "For each facet asked for, the counts per value over the whole filtered list (not one page): highest count "
    f"first, then value; at most {MAX_FACET_VALUES} values per facet; a missing value is `null`. A row with "
    "several values (e.g. a case's `sectors`) counts once under each."
)
OPENAPI_HEADERS = {
    HEADER: {
        "description": f"Sent when `facets` is given. {COUNTS_DESCRIPTION} The same JSON as the body of the list's "
        '`/facets` route: `{"sector": [{"value": "education", "count": 123}, ...]}`.',
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "array",
                        "maxItems": MAX_FACET_VALUES,
                        "items": {"$ref": "#/components/schemas/FacetCount"},
                    },
                }
            }
        },
    }
}
FACETS_HEADER = {HEADER: HEADER}


def facets_field(
    facets: Mapping[str, Facet], *, answered: str = f"answered in the `{HEADER}` header"
) -> ma.fields.List:
    """The `facets` query parameter of a list that may be faceted by `facets`."""
    names = list(facets)
    return ma.fields.List(
        ma.fields.String(validate=validate.OneOf(names), metadata={"enum": names}),
        load_default=list,
        validate=validate.Length(max=len(names)),
        metadata={
            "description": f"Count the filtered list's rows per value of this field, {answered}. Repeat the "
            "parameter for several fields."
        },
    )


def facets_schemas(
    list_query_schema: type[ma.Schema], facets: Mapping[str, Facet], name: str
) -> tuple[type[ma.Schema], type[ma.Schema]]:
    """The query schema of a list's `facets` route, `<name>FacetQuerySchema` (the list's own filters and `q`,
    a subclass so that it gains whatever the list gains), and its body, `<name>FacetsSchema`."""
    query_schema = schema_without(
        list_query_schema,
        f"{name}FacetQuerySchema",
        NOT_FACET_PARAMETERS,
        facets=facets_field(facets, answered="every field when not given"),
    )
    body_schema = ma.Schema.from_dict(
        {
            facet: ma.fields.List(
                ma.fields.Nested(FacetCountSchema),
                validate=validate.Length(max=MAX_FACET_VALUES),
                metadata={"description": f"Counts per `{facet}`."},
            )
            for facet in facets
        },
        name=f"{name}FacetsSchema",
    )
    return query_schema, body_schema


@cache
def _list_defaults(list_query_schema: type[ma.Schema]) -> dict:
    return list_query_schema().load({})


def list_query(list_query_schema: type[ma.Schema], facet_query: dict) -> dict:
    """The list's query that a `facets` route counts: its defaults (the paging and order it does not take),
    then the filters given."""
    return {**_list_defaults(list_query_schema), **facet_query}


def with_facets(
    response: Response, *, session: Session, statement: Select, facets: Mapping[str, Facet], names: list[str]
) -> Response:
    """`response` (a page of `statement`) with the `X-Facets` header when any facet was asked for."""
    if names:
        response.headers[HEADER] = json.dumps(counts(session, statement, facets, names), default=str)
    return response


def facet_counts(*, session: Session, statement: Select, facets: Mapping[str, Facet], names: list[str]) -> Response:
    """The body of a `facets` route: the counts of the facets named (every one without names) over `statement`."""
    return json_response(json.dumps(counts(session, statement, facets, names or list(facets)), default=str))
