"""Wire format of lessons and adoptions."""

import marshmallow as ma
from marshmallow import validate

from sandbox_api.agencies.schemas import AgencyNameSchema
from sandbox_api.http.facets import facets_field
from sandbox_api.lessons.models import LESSON_FACETS, AdoptionResult, Curation, LessonKind, Transferability
from sandbox_api.outcomes.schemas import evidence_grade_field
from sandbox_api.taxonomies.data import PRINCIPLES, RISK_DOMAINS, SECTORS
from sandbox_api.wire.fields import (
    CONDITIONAL,
    LONG_TEXT,
    MAX_LIST_ITEMS,
    ListQuerySchema,
    case_reference_field,
    choice,
    created_at_field,
    filter_values,
    id_field,
    required_text,
    sort_field,
    term,
    term_list,
    text,
    updated_at_field,
    url,
)
from sandbox_api.wire.search import SearchableQuerySchema, match_field, search_sort_field


class EvidenceSchema(ma.Schema):
    """What backs a lesson: outcomes and risks of the same case, and public URLs."""

    outcome_ids = ma.fields.List(
        ma.fields.UUID(),
        validate=validate.Length(max=MAX_LIST_ITEMS),
        metadata={"description": "Outcomes of the same case."},
    )
    risk_ids = ma.fields.List(
        ma.fields.UUID(),
        validate=validate.Length(max=MAX_LIST_ITEMS),
        metadata={"description": "Risks of the same case."},
    )
    urls = ma.fields.List(
        url("A public document."), validate=validate.Length(max=20), metadata={"description": "Public documents."}
    )


class LessonSchema(ma.Schema):
    """What a pilot learned, stated so that another sector can act on it."""

    id = id_field()
    case_id = ma.fields.UUID(dump_only=True, metadata={"description": "The case that learned it."})
    title = required_text(200, "The lesson in a few words.")
    statement = required_text(LONG_TEXT, "What was learned.")
    recommendation = text(LONG_TEXT, "What others should do.", allow_none=True)
    kind = choice(LessonKind, "Good practice, pitfall, or a regulatory, technical or process insight.", required=True)
    origin_sector = term(SECTORS, "The primary sector of the case that learned it.", dump_only=True)
    applies_to_sectors = term_list(SECTORS, "Sectors where the lesson should hold.")
    conditions = text(LONG_TEXT, "When the lesson holds.", allow_none=True)
    principles = term_list(PRINCIPLES, "AIGE principles the lesson bears on.")
    risk_domains = term_list(RISK_DOMAINS, "MIT risk domains the lesson bears on.")
    evidence = ma.fields.Nested(EvidenceSchema, metadata={"description": "What backs the lesson."})
    transferability = choice(
        Transferability, "How readily it transfers to other sectors.", load_default=Transferability.MEDIUM
    )
    curation = choice(
        Curation,
        "`proposed` by the agency; NAIO `endorsed` it as good practice to scale, or `retired` it. Owned by the server.",
        dump_only=True,
    )
    adoption_count = ma.fields.Integer(
        dump_only=True,
        metadata={"description": "How many published cases adopted it (adoptions by unpublished cases are private)."},
    )
    created_at = created_at_field()
    updated_at = updated_at_field()


class LessonRankingSchema(ma.Schema):
    """Why a lesson ranks where it does in `GET /api/v1/lessons?for_sector=...` (see that operation)."""

    position_key = ma.fields.List(
        ma.fields.Raw(),
        validate=validate.Length(max=4),
        metadata={
            "description": "The values the list is ordered by, compared in this order: `curation` (`endorsed` "
            "before `proposed`), `best_evidence_grade` (A before B, C, D; none last), `attained_outcomes` (more "
            "first), then `adoptions_worked` minus `adoptions_did_not_work` (more first). Equal keys: newer "
            "lesson first, then by id.",
            "type": "array",
            "maxItems": 4,
        },
    )
    curation = choice(Curation, "`endorsed` or `proposed` (retired lessons are not listed).")
    best_evidence_grade = evidence_grade_field(
        "The best grade among the outcomes the lesson cites as evidence (A controlled experiment; B "
        "observational study or administrative data; C survey or expert review; D anecdotal); null when it "
        "cites none.",
        allow_none=True,
    )
    cited_outcomes = ma.fields.Integer(metadata={"description": "How many outcomes the lesson cites as evidence."})
    attained_outcomes = ma.fields.Integer(
        metadata={"description": "How many of those reached their target (`attained` true)."}
    )
    adoptions_worked = ma.fields.Integer(
        metadata={"description": "Adoptions with result `worked`, by adopting cases the caller may see."}
    )
    adoptions_did_not_work = ma.fields.Integer(
        metadata={"description": "Adoptions with result `did_not_work`, by adopting cases the caller may see."}
    )
    reasons = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=500), metadata={"description": "One reason, in English."}),
        validate=validate.Length(max=3),
        metadata={"description": "The three criteria in words: curation, evidence, adoptions (with their sectors)."},
    )


class LessonListItemSchema(LessonSchema):
    """A lesson in a list: the lesson, how it matched when the list was searched with `q`, and why it ranks
    where it does when the list was ranked `for_sector`."""

    match = match_field()
    ranking = ma.fields.Nested(
        LessonRankingSchema,
        dump_only=True,
        metadata={
            "description": "Only with `for_sector`: why the lesson ranks where it does. Not part of the lesson "
            "itself (its ETag and item representation do not include it).",
            CONDITIONAL: True,
        },
    )


class LessonInCaseSchema(LessonSchema):
    """A lesson read across cases, with its case's reference."""

    case_reference = case_reference_field()


class AdoptionSchema(ma.Schema):
    """A case taking up another case's lesson, and how it went: the unit of the transfer matrix."""

    id = id_field()
    lesson_id = ma.fields.UUID(dump_only=True, metadata={"description": "The lesson adopted."})
    adopting_case_id = ma.fields.UUID(
        required=True, metadata={"description": "The case that adopted it; not the lesson's own case. Cannot change."}
    )
    adopting_agency_id = ma.fields.UUID(dump_only=True, metadata={"description": "The adopting case's lead agency."})
    adopting_agency = ma.fields.Nested(
        AgencyNameSchema,
        dump_only=True,
        metadata={"description": "The agency of `adopting_agency_id`, named: its slug and its current name."},
    )
    adopting_sector = term(SECTORS, "The adopting case's primary sector.", dump_only=True)
    note = text(LONG_TEXT, "How the lesson was adapted.", allow_none=True)
    result = choice(AdoptionResult, "Planned, applied, worked or did not work.", load_default=AdoptionResult.PLANNED)
    created_at = created_at_field()
    updated_at = updated_at_field()


class CurationSchema(ma.Schema):
    """NAIO's judgement of a lesson."""

    curation = choice(
        Curation,
        "`endorsed`: good practice to scale; `retired`: no longer to follow; `proposed`: back to review.",
        required=True,
    )
    note = text(2000, "Why; shown to keyed callers, never to anonymous ones.", allow_none=True)


LESSON_SORT_FIELDS = ("created_at", "title", "kind")


def _lesson_sort() -> ma.fields.String:
    return search_sort_field(
        LESSON_SORT_FIELDS,
        "-created_at",
        note=" With `for_sector` the default is its ranking; an explicit `sort` orders the ranked lessons instead, "
        "each still carrying its `ranking`.",
    )


class CaseLessonListQuerySchema(ListQuerySchema):
    kind = filter_values(choice(LessonKind, "A kind."), "Only lessons of this kind.")
    sort = sort_field(LESSON_SORT_FIELDS, "-created_at")


class LessonListQuerySchema(SearchableQuerySchema, ListQuerySchema):
    for_sector = term(
        SECTORS,
        "A sector: the lessons learned in other sectors that apply to it, ranked for it (see the operation).",
    )
    origin_sector = filter_values(term(SECTORS, "A sector."), "Only lessons learned in cases of this primary sector.")
    applies_to = filter_values(
        term(SECTORS, "A sector."), "Only lessons whose `applies_to_sectors` include this sector."
    )
    kind = filter_values(choice(LessonKind, "A kind."), "Only lessons of this kind.")
    curation = filter_values(choice(Curation, "A curation state."), "Only lessons in this curation state.")
    principle = filter_values(term(PRINCIPLES, "A principle."), "Only lessons bearing on this AIGE principle.")
    risk_domain = filter_values(term(RISK_DOMAINS, "A risk domain."), "Only lessons bearing on this MIT risk domain.")
    transferability = filter_values(choice(Transferability, "A level."), "Only lessons of this transferability.")
    facets = facets_field(LESSON_FACETS)
    sort = _lesson_sort()

    @ma.post_load(pass_original=True)
    def relevance_by_default(self, data: dict, original, **kwargs) -> dict:
        # Without `sort`, a list ranked for a sector keeps its ranking (with `q` too); an explicit `sort`
        # orders it instead, and each item still carries its `ranking`.
        if data.get("for_sector") and "sort" not in original:
            data.pop("sort", None)
            return data
        return super().relevance_by_default(data, original, **kwargs)


class AdoptionListQuerySchema(ListQuerySchema):
    result = filter_values(choice(AdoptionResult, "A result."), "Only adoptions with this result.")
    sort = sort_field(("created_at",), "created_at")
