"""Wire format of cases."""

import enum

import marshmallow as ma
from marshmallow import validate

from sandbox_api.agencies.schemas import AgencyNameSchema
from sandbox_api.cases.models import (
    CASE_FACETS,
    CaseStatus,
    ExitDecision,
    LifecycleAction,
    PartnerRole,
    RiskTier,
    SandboxType,
)
from sandbox_api.http.facets import facets_field
from sandbox_api.taxonomies.data import CAPABILITIES, PRINCIPLES, RISK_SUBDOMAINS, SECTORS
from sandbox_api.wire.fields import (
    LONG_TEXT,
    MAX_LIST_ITEMS,
    PLAIN_TEXT,
    ListQuerySchema,
    Timestamp,
    choice,
    created_at_field,
    email,
    filter_values,
    id_field,
    required_text,
    term,
    term_list,
    text,
    updated_at_field,
    url,
)
from sandbox_api.wire.search import SearchableQuerySchema, match_field, search_sort_field

# ISO 3166-2 subdivision (MY-14) or ISO 3166-1 alpha-2 country (SG).
LOCATION_PATTERN = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


class DataCategory(enum.StrEnum):
    PERSONAL = "personal"
    SENSITIVE_PERSONAL = "sensitive_personal"
    CHILDREN = "children"
    GOVERNMENT_CONFIDENTIAL = "government_confidential"
    PUBLIC = "public"
    SYNTHETIC = "synthetic"


class Treatment(enum.StrEnum):
    TESTED = "tested"
    CLARIFIED = "clarified"
    WAIVED = "waived"
    COMPLIED = "complied"


class LinkKind(enum.StrEnum):
    SOURCE = "source"
    REPORT = "report"
    EVIDENCE = "evidence"
    MEDIA = "media"


class PartnerSchema(ma.Schema):
    """An organisation involved in the pilot: a registered agency (`agency_id`) or any other by `name`."""

    name = text(200, "Name of an organisation not registered as an agency, e.g. `Google Cloud`.", allow_none=True)
    agency_id = ma.fields.UUID(allow_none=True, metadata={"description": "A registered agency."})
    agency = ma.fields.Nested(
        AgencyNameSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "The agency of `agency_id`, named: its slug and its current name; null without one."},
    )
    role = choice(PartnerRole, "What the partner does in the pilot.", required=True)

    @ma.validates_schema
    def names_the_partner(self, data, **kwargs):
        if not data.get("name") and not data.get("agency_id"):
            raise ma.ValidationError("A partner needs a `name` or an `agency_id`.", "_schema")


class RegulatoryInstrumentSchema(ma.Schema):
    """A law, guideline or code that the pilot tested, clarified, waived or complied with."""

    name = required_text(300, "The instrument, e.g. `Personal Data Protection Act 2010`.")
    treatment = choice(Treatment, "What the sandbox did with it.", required=True)
    note = text(2000, "How, and with what result.", allow_none=True)


class LinkSchema(ma.Schema):
    """A public link about the pilot; the server stores it and never fetches it."""

    title = required_text(200, "What the link is.")
    url = url("The address.", required=True)
    kind = choice(LinkKind, "Source, report, evidence or media.", required=True)


class ExitSchema(ma.Schema):
    """What was decided when the pilot left the sandbox."""

    decision = choice(ExitDecision, "Scale, replicate, extend, continue or discontinue.", required=True)
    summary = required_text(LONG_TEXT, "What was decided and why.")
    report_url = url("The exit report.", allow_none=True)
    decided_on = ma.fields.Date(required=True, metadata={"description": "When it was decided."})


class ContactSchema(ma.Schema):
    """Who answers questions about the pilot. Never shown to callers without a key."""

    name = required_text(200, "A person or a unit, e.g. `AI Unit, Ministry of Digital`.")
    email = email("An e-mail address.", allow_none=True)
    phone = text(40, "A telephone number.", allow_none=True)


def _date(description: str) -> ma.fields.Date:
    return ma.fields.Date(allow_none=True, metadata={"description": description})


class CaseSchema(ma.Schema):
    """A sandbox pilot with its scope, lifecycle and governance."""

    id = id_field()
    reference = ma.fields.String(
        dump_only=True,
        metadata={"description": "Human code given by the server at creation and never changed, e.g. `SBX-2025-0007`."},
    )
    title = required_text(200, "Name of the pilot, e.g. `AI at Work 2.0`.")
    summary = required_text(2000, "What the pilot does and why, in plain text.")
    description = text(LONG_TEXT, "Longer account; Markdown allowed.", allow_none=True)
    lead_agency_id = ma.fields.UUID(
        metadata={
            "description": "The agency that owns the pilot. Required for a `naio` key. An `agency` key's cases "
            "always belong to its own agency: it may omit this field or send its own agency's id."
        }
    )
    lead_agency = ma.fields.Nested(
        AgencyNameSchema,
        dump_only=True,
        metadata={"description": "The agency of `lead_agency_id`, named: its slug and its current name."},
    )
    partners = ma.fields.List(
        ma.fields.Nested(PartnerSchema),
        validate=validate.Length(max=MAX_LIST_ITEMS),
        metadata={"description": "Organisations involved."},
    )
    primary_sector = term(SECTORS, "The sector the pilot mainly serves.", required=True)
    sectors = term_list(SECTORS, "Every sector the pilot touches; always includes `primary_sector`.")
    capabilities = term_list(CAPABILITIES, "Kinds of AI the pilot uses.")
    sandbox_type = choice(SandboxType, "What kind of sandbox.", required=True)
    status = choice(
        CaseStatus,
        "Lifecycle status; owned by the server (changed by lifecycle actions, not by PATCH).",
        dump_only=True,
    )
    status_changed_at = Timestamp(dump_only=True, metadata={"description": "When the status last changed."})
    planned_start = _date("Planned start.")
    planned_end = _date("Planned end; not before `planned_start`.")
    actual_start = _date("Actual start.")
    actual_end = _date("Actual end; not before `actual_start`.")
    participants_count = ma.fields.Integer(
        allow_none=True,
        validate=validate.Range(min=0, max=100_000_000),
        metadata={"description": "How many took part, e.g. 270."},
    )
    participants_description = text(500, "Who took part, e.g. `public officers`.", allow_none=True)
    locations = ma.fields.List(
        ma.fields.String(validate=[validate.Length(max=6), validate.Regexp(LOCATION_PATTERN)]),
        validate=validate.Length(max=MAX_LIST_ITEMS),
        metadata={"description": "ISO 3166-2 codes (`MY-14` Kuala Lumpur) or ISO 3166-1 alpha-2 country codes."},
    )
    risk_tier = choice(RiskTier, "The pilot's own assessment of its risk.", allow_none=True)
    personal_data = ma.fields.Boolean(metadata={"description": "Whether the pilot processes personal data."})
    data_categories = ma.fields.List(
        choice(DataCategory, "A category of data."),
        validate=validate.Length(max=len(DataCategory)),
        metadata={"description": "Categories of data processed; personal ones require `personal_data`."},
    )
    principles = term_list(PRINCIPLES, "AIGE principles the pilot engages.")
    regulatory_instruments = ma.fields.List(
        ma.fields.Nested(RegulatoryInstrumentSchema),
        validate=validate.Length(max=MAX_LIST_ITEMS),
        metadata={"description": "Laws and guidelines involved."},
    )
    exit = ma.fields.Nested(
        ExitSchema, dump_only=True, allow_none=True, metadata={"description": "Set when the pilot exits."}
    )
    links = ma.fields.List(
        ma.fields.Nested(LinkSchema),
        validate=validate.Length(max=MAX_LIST_ITEMS),
        metadata={"description": "Public links."},
    )
    next_review_due = _date("When NAIO next reviews the pilot.")
    review_overdue = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "True when `next_review_due` has passed while the pilot is still live."},
    )
    contact = ma.fields.Nested(
        ContactSchema,
        allow_none=True,
        metadata={"description": "Contact point for the pilot; left out of responses to callers without a key."},
    )
    published = ma.fields.Boolean(dump_only=True, metadata={"description": "Whether NAIO has published the case."})
    published_at = Timestamp(dump_only=True, allow_none=True, metadata={"description": "When it was published."})
    created_at = created_at_field()
    updated_at = updated_at_field()


class CaseListItemSchema(CaseSchema):
    """A case in a list: the case, and how it matched when the list was searched with `q`."""

    match = match_field()


class PublicCaseSchema(CaseSchema):
    """What callers without a key see of a case: everything but the contact point."""

    class Meta:
        exclude = ("contact",)


class StoredCaseSchema(CaseSchema):
    """What each case's stored document holds (cases/documents.py): what every caller sees of it, but
    `review_overdue`, which changes with the date and is computed when the case is read."""

    class Meta:
        exclude = ("contact", "review_overdue")


class TransitionSchema(ma.Schema):
    """A lifecycle action on a case."""

    action = choice(LifecycleAction, "What to do; see the table in the operation's description.", required=True)
    note = text(
        2000,
        "Why; required to `return` or `reject`. Shown to keyed callers, never to anonymous ones.",
        allow_none=True,
    )
    exit = ma.fields.Nested(
        ExitSchema, metadata={"description": "Required with `exit`, refused with any other action."}
    )


class PublicationSchema(ma.Schema):
    """Publishing or unpublishing a case."""

    published = ma.fields.Boolean(required=True, metadata={"description": "True to publish, false to unpublish."})
    note = text(2000, "Why; shown to keyed callers, never to anonymous ones.", allow_none=True)


def _range(description: str) -> dict:
    return {
        "from": ma.fields.Date(metadata={"description": f"Only cases whose {description} is on or after this date."}),
        "to": ma.fields.Date(metadata={"description": f"Only cases whose {description} is on or before this date."}),
    }


class SimilaritySchema(ma.Schema):
    """Why a case is like another: the terms they share, and the score those earn."""

    score = ma.fields.Integer(
        metadata={
            "description": "Points for the shared terms: 3 per capability, 2 per risk subdomain met by both, 2 per "
            "sector, 1 per AIGE principle, 1 per shared word. Higher is more alike."
        }
    )
    shared_capabilities = term_list(CAPABILITIES, "Capabilities both use.")
    shared_sectors = term_list(SECTORS, "Sectors both touch.")
    shared_principles = term_list(PRINCIPLES, "AIGE principles both engage.")
    shared_risk_subdomains = term_list(RISK_SUBDOMAINS, "MIT risk subdomains met in both risk registers.")
    shared_words = ma.fields.List(
        ma.fields.String(metadata={"maxLength": 200}),
        metadata={
            "description": "Distinctive words of the asked-about case's title and summary that this case's text "
            "contains too (matched as search matches a word: English by its stem), lower-cased, in alphabetical "
            "order. A word is distinctive when it is in at most a tenth of the cases the caller may see (and at "
            "most 1,000); the 10 rarest are compared.",
            "maxItems": 10,
        },
    )


class SimilarCaseSchema(CaseSchema):
    """A case like the one asked about, with why."""

    similarity = ma.fields.Nested(SimilaritySchema, dump_only=True, metadata={"description": "Why it is alike."})


class SimilarCaseQuerySchema(ListQuerySchema):
    """Pagination only: similar cases come best first."""


class CaseListQuerySchema(SearchableQuerySchema, ListQuerySchema):
    sector = filter_values(term(SECTORS, "A sector."), "Only cases touching this sector (in `sectors`).")
    primary_sector = filter_values(term(SECTORS, "A sector."), "Only cases whose primary sector is this.")
    status = filter_values(choice(CaseStatus, "A status."), "Only cases in this status.")
    lead_agency = filter_values(
        ma.fields.String(validate=[validate.Length(max=40), PLAIN_TEXT]),
        "Only cases led by this agency, named by id or slug.",
    )
    capability = filter_values(term(CAPABILITIES, "A capability."), "Only cases using this capability.")
    principle = filter_values(term(PRINCIPLES, "A principle."), "Only cases engaging this principle.")
    sandbox_type = filter_values(choice(SandboxType, "A sandbox type."), "Only cases of this sandbox type.")
    risk_tier = filter_values(choice(RiskTier, "A risk tier."), "Only cases of this risk tier.")
    personal_data = ma.fields.Boolean(
        metadata={"description": "Only cases that do (true) or do not (false) process personal data."}
    )
    review_overdue = ma.fields.Boolean(
        metadata={"description": "Only cases whose review is (true) or is not (false) overdue."}
    )
    planned_start_from, planned_start_to = _range("planned start").values()
    planned_end_from, planned_end_to = _range("planned end").values()
    actual_start_from, actual_start_to = _range("actual start").values()
    actual_end_from, actual_end_to = _range("actual end").values()
    next_review_due_from, next_review_due_to = _range("next review").values()
    facets = facets_field(CASE_FACETS)
    sort = search_sort_field(
        (
            "created_at",
            "updated_at",
            "reference",
            "title",
            "planned_start",
            "actual_start",
            "next_review_due",
            "status_changed_at",
        ),
        "-created_at",
    )
