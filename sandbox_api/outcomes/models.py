"""Outcomes: what a pilot measured, with the grade of its evidence."""

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, and_, case, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from sandbox_api.cases.models import Case, CaseCapability, CaseSector
from sandbox_api.storage.db import Base, UTCDateTime, str_enum, utcnow
from sandbox_api.storage.facets import Facet, linked


class OutcomeKind(enum.StrEnum):
    QUANTITATIVE = "quantitative"
    QUALITATIVE = "qualitative"


class Direction(enum.StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"


class Method(enum.StrEnum):
    CONTROLLED_EXPERIMENT = "controlled_experiment"
    OBSERVATIONAL_STUDY = "observational_study"
    ADMINISTRATIVE_DATA = "administrative_data"
    SURVEY = "survey"
    EXPERT_REVIEW = "expert_review"
    ANECDOTAL = "anecdotal"


EVIDENCE_GRADES = {
    Method.CONTROLLED_EXPERIMENT: "A",
    Method.OBSERVATIONAL_STUDY: "B",
    Method.ADMINISTRATIVE_DATA: "B",
    Method.SURVEY: "C",
    Method.EXPERT_REVIEW: "C",
    Method.ANECDOTAL: "D",
}


class Outcome(Base):
    __tablename__ = "outcomes"
    # Outcomes across cases come in the order they were recorded.
    __table_args__ = (Index("ix_outcomes_created_at_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind, "outcome_kind"))
    unit: Mapped[str | None] = mapped_column(String(50))
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    actual: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[Direction | None] = mapped_column(str_enum(Direction, "outcome_direction"))
    measured_on: Mapped[date | None] = mapped_column(Date)
    method: Mapped[Method] = mapped_column(str_enum(Method, "outcome_method"), index=True)
    sample_size: Mapped[int | None]
    source_url: Mapped[str | None] = mapped_column(String(2000))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    evidence_grade: Mapped[str] = column_property(
        case({method_name.value: grade for method_name, grade in EVIDENCE_GRADES.items()}, value=method), deferred=True
    )
    # Whether the target was reached; NULL unless a quantitative target, actual and direction are known.
    attained: Mapped[bool | None] = column_property(
        case(
            (
                and_(
                    kind == OutcomeKind.QUANTITATIVE,
                    target.is_not(None),
                    actual.is_not(None),
                    direction.is_not(None),
                ),
                case((direction == Direction.INCREASE, actual >= target), else_=actual <= target),
            ),
        ),
        deferred=True,
    )

    # Read across cases, a record says which case it belongs to without a second request.
    case_reference: Mapped[str] = column_property(
        select(Case.reference).where(Case.id == case_id).scalar_subquery(), deferred=True
    )
    case_primary_sector: Mapped[str] = column_property(
        select(Case.primary_sector).where(Case.id == case_id).scalar_subquery(), deferred=True
    )


OUTCOME_FACETS = {
    "method": Facet(Outcome.method),
    "evidence_grade": Facet(Outcome.evidence_grade),
    "attained": Facet(Outcome.attained),
    "sector": linked(CaseSector, value="sector_code", on=lambda link: link.case_id == Outcome.case_id),
    "capability": linked(CaseCapability, value="capability_code", on=lambda link: link.case_id == Outcome.case_id),
}
