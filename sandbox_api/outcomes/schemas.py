"""Wire format of outcomes."""

import marshmallow as ma
from marshmallow import validate

from sandbox_api.http.facets import facets_field
from sandbox_api.outcomes.models import EVIDENCE_GRADES, OUTCOME_FACETS, Direction, Method, OutcomeKind
from sandbox_api.wire.fields import (
    LONG_TEXT,
    Enumerated,
    ListQuerySchema,
    case_capability_filter,
    case_primary_sector_field,
    case_reference_field,
    case_sector_filter,
    choice,
    created_at_field,
    enumerated,
    filter_values,
    id_field,
    required_text,
    sort_field,
    text,
    updated_at_field,
    url,
)


class Figure(ma.fields.Float):
    """A measured figure, kept to 15 significant digits: what a double holds exactly in decimal, and what
    SQLite writes of a REAL in JSON, so that every answer gives back what was stored."""

    def _deserialize(self, value, attr, data, **kwargs) -> float:
        return float(f"{super()._deserialize(value, attr, data, **kwargs):.15g}")


def _figure(description: str) -> Figure:
    return Figure(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(min=-1e15, max=1e15),
        metadata={"description": f"{description} Kept to 15 significant digits."},
    )


EVIDENCE_GRADE_LETTERS = sorted(set(EVIDENCE_GRADES.values()))


def evidence_grade_field(description: str, **kwargs) -> Enumerated:
    return enumerated("EvidenceGrade", EVIDENCE_GRADE_LETTERS, description, **kwargs)


class OutcomeSchema(ma.Schema):
    """Something a pilot measured, with how it was measured and the grade of that evidence."""

    id = id_field()
    case_id = ma.fields.UUID(dump_only=True, metadata={"description": "The case that measured it."})
    title = required_text(200, "What was measured, e.g. `officers trained`.")
    kind = choice(
        OutcomeKind, "Quantitative (a number) or qualitative; a qualitative outcome has no figures.", required=True
    )
    unit = text(50, "Unit of `baseline`, `target` and `actual`, e.g. `officers` or `%`.", allow_none=True)
    baseline = _figure("Value before the pilot. Figures are for quantitative outcomes only.")
    target = _figure("Value the pilot aimed for.")
    actual = _figure("Value reached.")
    direction = choice(Direction, "Whether higher (`increase`) or lower (`decrease`) is better.", allow_none=True)
    attained = ma.fields.Boolean(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "Whether `actual` reached `target` in the given `direction`; null for qualitative "
            "outcomes and while target, actual or direction is unknown."
        },
    )
    measured_on = ma.fields.Date(allow_none=True, metadata={"description": "When it was measured."})
    method = choice(Method, "How it was measured; sets `evidence_grade`.", required=True)
    evidence_grade = evidence_grade_field(
        "Strength of the evidence, from `method`: A controlled experiment; B observational study or "
        "administrative data; C survey or expert review; D anecdotal.",
        dump_only=True,
    )
    sample_size = ma.fields.Integer(
        allow_none=True,
        validate=validate.Range(min=0, max=1_000_000_000),
        metadata={"description": "How many were measured."},
    )
    source_url = url("Where the figure is published.", allow_none=True)
    notes = text(LONG_TEXT, "Caveats and context.", allow_none=True)
    created_at = created_at_field()
    updated_at = updated_at_field()


class OutcomeListQuerySchema(ListQuerySchema):
    method = filter_values(choice(Method, "A method."), "Only outcomes measured by this method.")
    sort = sort_field(("created_at", "measured_on", "title"), "created_at")


class OutcomeInCaseSchema(OutcomeSchema):
    """An outcome read across cases, with its case's reference and sector."""

    case_reference = case_reference_field()
    case_primary_sector = case_primary_sector_field()


class OutcomeAcrossCasesQuerySchema(OutcomeListQuerySchema):
    facets = facets_field(OUTCOME_FACETS)
    sector = case_sector_filter()
    capability = case_capability_filter()
    evidence_grade = filter_values(
        evidence_grade_field("An evidence grade."),
        "Only outcomes of this evidence grade.",
    )
    attained = ma.fields.Boolean(
        metadata={
            "description": "`true`: only outcomes that reached their target; `false`: only those measured against a "
            "target and not reaching it. Outcomes whose `attained` is null match neither."
        }
    )
