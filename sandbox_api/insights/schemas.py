"""Wire format of the insights: their filters and their grouped counts."""

import marshmallow as ma
from marshmallow import validate

from sandbox_api.cases.models import CaseStatus, SandboxType
from sandbox_api.lessons.models import AdoptionResult
from sandbox_api.outcomes.schemas import EVIDENCE_GRADE_LETTERS, evidence_grade_field
from sandbox_api.taxonomies.data import CAPABILITIES, RISK_DOMAINS, RISK_SUBDOMAINS, SECTORS
from sandbox_api.wire.fields import Enumerated, choice, enumerated, filter_values, term

SECTOR_DIMENSIONS = ["sector", "primary_sector"]
FILTER_SIDES = ["origin", "adopting"]
MAX_AGENCY_ROWS = 500
DEFAULT_AGENCY_ROWS = 100


def _one_of(enumeration: str, values: list[str], default: str, description: str) -> Enumerated:
    return enumerated(enumeration, values, f"{description} Default `{default}`.", load_default=default)


def _count(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(required=True, metadata={"description": description})


class InsightQuerySchema(ma.Schema):
    """The cases an insight aggregates, beyond what the caller may see: filters shared by every insight."""

    sector = filter_values(term(SECTORS, "A sector."), "Only cases touching this sector (in `sectors`).")
    capability = filter_values(term(CAPABILITIES, "A capability."), "Only cases using this capability.")
    sandbox_type = filter_values(choice(SandboxType, "A sandbox type."), "Only cases of this sandbox type.")
    status = filter_values(choice(CaseStatus, "A status."), "Only cases in this status.")
    started_from = ma.fields.Date(
        metadata={
            "description": "Only cases that started (`actual_start`, or `planned_start` while the pilot has not "
            "started) on or after this date; cases with neither date are left out."
        }
    )
    started_to = ma.fields.Date(
        metadata={
            "description": "Only cases that started (`actual_start`, or `planned_start` while the pilot has not "
            "started) on or before this date; cases with neither date are left out."
        }
    )


class SectorInsightQuerySchema(InsightQuerySchema):
    by = _one_of(
        "SectorDimension",
        SECTOR_DIMENSIONS,
        "sector",
        "Which sectors a case counts in: `sector`, every sector it touches (a case touching two sectors counts "
        "in both, so the sectors' counts may add up to more than the cases), or `primary_sector`, its primary "
        "sector only (each case counts once).",
    )


class LessonTransferQuerySchema(InsightQuerySchema):
    apply_filters_to = _one_of(
        "FilterSide",
        FILTER_SIDES,
        "origin",
        "Which case of an adoption the filters select: `origin`, the case the lesson was learned in, or "
        "`adopting`, the case that took it up. The other case need only be visible to the caller.",
    )


class OverdueReviewQuerySchema(InsightQuerySchema):
    limit = ma.fields.Integer(
        load_default=DEFAULT_AGENCY_ROWS,
        validate=validate.Range(min=1, max=MAX_AGENCY_ROWS),
        metadata={
            "description": f"At most this many agencies, the most overdue first (default {DEFAULT_AGENCY_ROWS}, "
            f"at most {MAX_AGENCY_ROWS}); `agency_count` says how many there are in all."
        },
    )


class _InsightSchema(ma.Schema):
    filters = ma.fields.Nested(
        InsightQuerySchema, required=True, metadata={"description": "The filters applied, as given."}
    )


class _SectorInsightSchema(_InsightSchema):
    by = enumerated(
        "SectorDimension", SECTOR_DIMENSIONS, "Which sectors a case counted in (see the `by` parameter).", required=True
    )


class CaseStatusCellSchema(ma.Schema):
    sector = ma.fields.String(required=True, metadata={"description": "A sector code."})
    status = choice(CaseStatus, "A case status.", required=True)
    case_count = _count("Cases of this sector in this status.")


class CaseStatusInsightSchema(_SectorInsightSchema):
    """Cases by sector and status."""

    case_count = _count("Cases aggregated, each counted once whatever its sectors.")
    cells = ma.fields.List(
        ma.fields.Nested(CaseStatusCellSchema),
        required=True,
        validate=validate.Length(max=len(SECTORS) * len(CaseStatus)),
        metadata={"description": "One per sector and status with at least one case, by sector code, then status."},
    )


class RiskHeatmapCellSchema(ma.Schema):
    domain = term(RISK_DOMAINS, "An MIT AI Risk Repository domain code.", required=True)
    sector = ma.fields.String(required=True, metadata={"description": "A sector code."})
    risk_count = _count("Risks of this domain recorded by cases of this sector.")
    mean_score = ma.fields.Float(
        required=True,
        metadata={"description": "Mean `score` (likelihood x impact, 1-25) of those risks, to 2 decimals."},
    )
    materialised_count = _count("Those of them whose status is `materialised`.")


class RiskHeatmapSchema(_SectorInsightSchema):
    """Risks by MIT risk domain and sector."""

    cells = ma.fields.List(
        ma.fields.Nested(RiskHeatmapCellSchema),
        required=True,
        validate=validate.Length(max=len(RISK_DOMAINS) * len(SECTORS)),
        metadata={"description": "One per domain and sector with at least one risk, by domain code, then sector code."},
    )


class SectorRiskCountSchema(ma.Schema):
    sector = ma.fields.String(required=True, metadata={"description": "A sector code."})
    case_count = _count("Cases of this sector that met the subdomain.")
    risk_count = _count("Their risks of this subdomain.")


class RecurringRiskSchema(ma.Schema):
    subdomain = term(RISK_SUBDOMAINS, "An MIT AI Risk Repository subdomain code.", required=True)
    label = ma.fields.String(required=True, metadata={"description": "The subdomain's name."})
    domain = ma.fields.String(required=True, metadata={"description": "Its domain's code."})
    sector_count = _count("Distinct sectors whose cases met it.")
    case_count = _count("Distinct cases that met it.")
    risk_count = _count("Risks of this subdomain.")
    materialised_count = _count("Those of them whose status is `materialised`.")
    sectors = ma.fields.List(
        ma.fields.Nested(SectorRiskCountSchema),
        required=True,
        validate=validate.Length(max=len(SECTORS)),
        metadata={"description": "The sectors that met it, by sector code."},
    )


class RecurringRisksSchema(_SectorInsightSchema):
    """Risk subdomains ranked by the number of sectors that met them."""

    rows = ma.fields.List(
        ma.fields.Nested(RecurringRiskSchema),
        required=True,
        validate=validate.Length(max=len(RISK_SUBDOMAINS)),
        metadata={
            "description": "Subdomains met at least once, by `sector_count`, then `case_count` (both descending), "
            "then code. Risks recorded without a subdomain are not counted."
        },
    )


AdoptionResultCountsSchema = ma.Schema.from_dict(
    {result.value: _count(f"Adoptions whose result is `{result}`.") for result in AdoptionResult},
    name="AdoptionResultCountsSchema",
)


class LessonTransferCellSchema(ma.Schema):
    origin_sector = term(SECTORS, "Primary sector of the case the lesson was learned in.", required=True)
    adopting_sector = term(SECTORS, "Primary sector of the adopting case.", required=True)
    adoption_count = _count("Adoptions from the origin sector's lessons by the adopting sector's cases.")
    lesson_count = _count("Distinct lessons among them.")
    results = ma.fields.Nested(
        AdoptionResultCountsSchema, required=True, metadata={"description": "The adoptions by `result`."}
    )


class LessonTransfersSchema(_InsightSchema):
    """Adoptions of lessons by origin sector and adopting sector."""

    apply_filters_to = enumerated(
        "FilterSide", FILTER_SIDES, "Which case of each adoption the filters selected.", required=True
    )
    cells = ma.fields.List(
        ma.fields.Nested(LessonTransferCellSchema),
        required=True,
        validate=validate.Length(max=len(SECTORS) ** 2),
        metadata={
            "description": "One per origin and adopting sector with at least one adoption, by origin sector code, "
            "then adopting sector code. The diagonal holds adoptions within one sector."
        },
    )


class OutcomeAttainmentCellSchema(ma.Schema):
    sector = ma.fields.String(required=True, metadata={"description": "A sector code."})
    evidence_grade = evidence_grade_field(
        "A: controlled experiment; B: observational study or administrative data; C: survey or expert review; "
        "D: anecdotal.",
        required=True,
    )
    outcome_count = _count("Outcomes of this sector's cases with this grade of evidence.")
    attained_count = _count("Those that reached their target (`attained` true).")
    not_attained_count = _count("Those that missed it (`attained` false).")
    unknown_count = _count("Those whose attainment cannot be computed (`attained` null, e.g. qualitative).")


class OutcomeAttainmentSchema(_SectorInsightSchema):
    """Outcomes by sector and evidence grade, with how many reached their target."""

    cells = ma.fields.List(
        ma.fields.Nested(OutcomeAttainmentCellSchema),
        required=True,
        validate=validate.Length(max=len(SECTORS) * len(EVIDENCE_GRADE_LETTERS)),
        metadata={"description": "One per sector and grade with at least one outcome, by sector code, then grade."},
    )


class AgencyReviewsSchema(ma.Schema):
    agency_id = ma.fields.UUID(required=True, metadata={"description": "The lead agency's id."})
    agency_slug = ma.fields.String(required=True, metadata={"description": "Its slug."})
    agency_name = ma.fields.String(required=True, metadata={"description": "Its name."})
    case_count = _count("Cases it leads, among those aggregated.")
    overdue_count = _count("Those whose review is overdue (`review_overdue`: `next_review_due` passed, still live).")


class OverdueReviewsSchema(_InsightSchema):
    """Overdue reviews per lead agency."""

    limit = ma.fields.Integer(required=True, metadata={"description": "The most agencies listed (see `limit`)."})
    agency_count = _count("Agencies leading at least one of the cases aggregated; more than `rows` holds if capped.")
    rows = ma.fields.List(
        ma.fields.Nested(AgencyReviewsSchema),
        required=True,
        validate=validate.Length(max=MAX_AGENCY_ROWS),
        metadata={
            "description": "One per agency leading at least one case aggregated, by `overdue_count`, then "
            "`case_count` (both descending), then slug; at most `limit`."
        },
    )
