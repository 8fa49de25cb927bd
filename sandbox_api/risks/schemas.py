"""Wire format of risks."""

import marshmallow as ma
from marshmallow import validate

from sandbox_api.http.facets import facets_field
from sandbox_api.risks.models import RISK_FACETS, RiskStatus
from sandbox_api.taxonomies.data import PRINCIPLES, RISK_DOMAINS, RISK_SUBDOMAINS
from sandbox_api.wire.fields import (
    LONG_TEXT,
    ListQuerySchema,
    case_capability_filter,
    case_primary_sector_field,
    case_reference_field,
    case_sector_filter,
    choice,
    created_at_field,
    filter_values,
    id_field,
    required_text,
    term,
    text,
    updated_at_field,
)
from sandbox_api.wire.search import SearchableQuerySchema, match_field, search_sort_field


def _rating(description: str, **kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(validate=validate.Range(min=1, max=5), metadata={"description": description}, **kwargs)


class RiskSchema(ma.Schema):
    """An entry in a case's risk register, classified by the MIT AI Risk Repository."""

    id = id_field()
    case_id = ma.fields.UUID(dump_only=True, metadata={"description": "The case whose register holds the risk."})
    title = required_text(200, "The risk in a few words.")
    description = text(LONG_TEXT, "What could go wrong, for whom.", allow_none=True)
    domain = term(RISK_DOMAINS, "MIT AI Risk Repository domain code, `1` to `7`.", required=True)
    subdomain = term(RISK_SUBDOMAINS, "MIT subdomain code within `domain`, e.g. `3.1`.", allow_none=True)
    principle = term(PRINCIPLES, "The AIGE principle most at stake.", allow_none=True)
    likelihood = _rating("Likelihood before mitigation, 1 (rare) to 5 (almost certain).", required=True)
    impact = _rating("Impact before mitigation, 1 (negligible) to 5 (severe).", required=True)
    score = ma.fields.Integer(dump_only=True, metadata={"description": "`likelihood` x `impact`, 1 to 25."})
    mitigation = text(LONG_TEXT, "What the pilot does about it.", allow_none=True)
    residual_likelihood = _rating(
        "Likelihood after mitigation; give it with `residual_impact`, or neither.", allow_none=True
    )
    residual_impact = _rating(
        "Impact after mitigation; give it with `residual_likelihood`, or neither.", allow_none=True
    )
    residual_score = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "`residual_likelihood` x `residual_impact`; null until both are known."},
    )
    status = choice(
        RiskStatus,
        "Where the risk stands; `materialised` needs a `materialised_note`.",
        load_default=RiskStatus.IDENTIFIED,
    )
    materialised_note = text(LONG_TEXT, "What happened when the risk materialised.", allow_none=True)
    owner = text(200, "Who owns the risk (a role, not a person's contact details).", allow_none=True)
    created_at = created_at_field()
    updated_at = updated_at_field()


class RiskListItemSchema(RiskSchema):
    """A risk in a list: the risk, and how it matched when the list was searched with `q`."""

    match = match_field()


RISK_SORT_FIELDS = ("created_at", "score", "residual_score", "title")


class RiskListQuerySchema(SearchableQuerySchema, ListQuerySchema):
    status = filter_values(choice(RiskStatus, "A status."), "Only risks in this status.")
    domain = filter_values(term(RISK_DOMAINS, "A domain."), "Only risks of this MIT domain.")
    sort = search_sort_field(RISK_SORT_FIELDS, "-score")


class RiskInCaseSchema(RiskSchema):
    """A risk read across cases, with its case's reference and sector."""

    case_reference = case_reference_field()
    case_primary_sector = case_primary_sector_field()


class RiskInCaseListItemSchema(RiskInCaseSchema):
    """A risk in the list across cases: the risk, and how it matched when the list was searched with `q`."""

    match = match_field()


class RiskAcrossCasesQuerySchema(RiskListQuerySchema):
    facets = facets_field(RISK_FACETS)
    subdomain = filter_values(term(RISK_SUBDOMAINS, "A subdomain."), "Only risks of this MIT subdomain.")
    principle = filter_values(term(PRINCIPLES, "A principle."), "Only risks putting this AIGE principle at stake.")
    sector = case_sector_filter()
    capability = case_capability_filter()
    min_score = ma.fields.Integer(
        validate=validate.Range(min=1, max=25), metadata={"description": "Only risks whose `score` is at least this."}
    )
    materialised = ma.fields.Boolean(
        metadata={
            "description": "`true`: only risks that materialised (status `materialised`, or a `materialised_note` "
            "kept after the status moved on, e.g. to `closed`); `false`: only the others."
        }
    )
