"""Facets of a list in the `X-Facets` header, and the `facets` query parameter."""

import json
from collections.abc import Mapping

import marshmallow as ma
from flask import Response
from marshmallow import validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from sandbox_api.storage.facets import MAX_FACET_VALUES, Facet, counts

HEADER = "X-Facets"


OPENAPI_HEADERS = {
    HEADER: {
        "description": "Sent when `facets` is given: for each facet named, the counts per value over the whole "
        'filtered list (not just this page), as JSON: `{"sector": [{"value": "education", "count": 123}, ...]}`. '
        f"Highest count first, then value; at most {MAX_FACET_VALUES} values per facet; a missing value is "
        "`null`. A row with several values (e.g. a case's `sectors`) counts once under each.",
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {"type": "array"}}}},
    }
}
FACETS_HEADER = {HEADER: HEADER}


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


def with_facets(
    response: Response, *, session: Session, statement: Select, facets: Mapping[str, Facet], names: list[str]
) -> Response:
    """`response` (a page of `statement`) with the `X-Facets` header when any facet was asked for."""
    if names:
        response.headers[HEADER] = json.dumps(counts(session, statement, facets, names), default=str)
    return response
