"""Wire format of agencies."""

import marshmallow as ma
from marshmallow import validate

from sandbox_api.agencies.models import AgencyKind
from sandbox_api.wire.fields import (
    ListQuerySchema,
    choice,
    created_at_field,
    filter_values,
    id_field,
    required_text,
    sort_field,
    text,
    updated_at_field,
    url,
)

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class AgencySchema(ma.Schema):
    """An organisation that leads or partners in pilots: a ministry, agency, company or partner."""

    id = id_field()
    slug = ma.fields.String(
        required=True,
        validate=[validate.Length(min=2, max=40), validate.Regexp(SLUG_PATTERN)],
        metadata={"description": "Short unique name in lowercase, e.g. `moe`; it never changes once created."},
    )
    name = required_text(200, "Full name, e.g. `Ministry of Education`.")
    acronym = text(20, "Acronym, e.g. `MOE`.", allow_none=True)
    kind = choice(AgencyKind, "What kind of organisation it is.", required=True)
    country = ma.fields.String(
        load_default="MY",
        validate=[validate.Length(equal=2), validate.Regexp(r"^[A-Z]{2}$")],
        metadata={"description": "ISO 3166-1 alpha-2 country code; `MY` unless an ASEAN or other partner."},
    )
    parent_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "The agency it sits under, e.g. NAIO under the Ministry of Digital."}
    )
    website = url("Public website.", max_length=500, allow_none=True)  # the column's length
    created_at = created_at_field()
    updated_at = updated_at_field()


class AgencyNameSchema(AgencySchema):
    """An agency named where another record refers to it by id (a case's lead agency, a partner, an adopting
    case's agency): its slug and its current name, so that a reader needs no second look-up."""

    class Meta:
        fields = ("slug", "name")


class AgencyListQuerySchema(ListQuerySchema):
    kind = filter_values(choice(AgencyKind, "Agency kind."), "Only agencies of this kind.")
    country = filter_values(
        ma.fields.String(validate=[validate.Length(equal=2), validate.Regexp(r"^[A-Z]{2}$")]),
        "Only agencies of this country.",
    )
    sort = sort_field(("slug", "name", "created_at"), "slug")
