"""Lessons, first-class, and their adoptions by other cases."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, func, select
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from sandbox_api.agencies.models import Agency
from sandbox_api.cases.models import Case
from sandbox_api.outcomes.models import Outcome
from sandbox_api.risks.models import Risk
from sandbox_api.storage.db import Base, JSONDocument, UTCDateTime, str_enum, utcnow
from sandbox_api.storage.facets import Facet, linked
from sandbox_api.storage.rendering import Members


class LessonKind(enum.StrEnum):
    GOOD_PRACTICE = "good_practice"
    PITFALL = "pitfall"
    REGULATORY_INSIGHT = "regulatory_insight"
    TECHNICAL_INSIGHT = "technical_insight"
    PROCESS_INSIGHT = "process_insight"


class Transferability(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Curation(enum.StrEnum):
    PROPOSED = "proposed"
    ENDORSED = "endorsed"
    RETIRED = "retired"


class AdoptionResult(enum.StrEnum):
    PLANNED = "planned"
    APPLIED = "applied"
    WORKED = "worked"
    DID_NOT_WORK = "did_not_work"


class LessonSector(Base):
    """A sector that a lesson applies to."""

    __tablename__ = "lesson_sectors"
    __table_args__ = (Index("ix_lesson_sectors_sector_code_lesson_id", "sector_code", "lesson_id"),)

    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True)
    sector_code: Mapped[str] = mapped_column(ForeignKey("sectors.code"), primary_key=True)


class LessonPrinciple(Base):
    __tablename__ = "lesson_principles"
    __table_args__ = (Index("ix_lesson_principles_principle_code_lesson_id", "principle_code", "lesson_id"),)

    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True)
    principle_code: Mapped[str] = mapped_column(ForeignKey("principles.code"), primary_key=True)


class LessonRiskDomain(Base):
    __tablename__ = "lesson_risk_domains"
    __table_args__ = (Index("ix_lesson_risk_domains_domain_code_lesson_id", "domain_code", "lesson_id"),)

    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True)
    domain_code: Mapped[str] = mapped_column(ForeignKey("risk_domains.code"), primary_key=True)


lesson_outcome_evidence = Table(
    "lesson_outcome_evidence",
    Base.metadata,
    Column("lesson_id", ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True),
    Column("outcome_id", ForeignKey("outcomes.id", ondelete="CASCADE"), primary_key=True, index=True),
)

lesson_risk_evidence = Table(
    "lesson_risk_evidence",
    Base.metadata,
    Column("lesson_id", ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True),
    Column("risk_id", ForeignKey("risks.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class LessonAdoption(Base):
    __tablename__ = "lesson_adoptions"
    __table_args__ = (UniqueConstraint("lesson_id", "adopting_case_id", name="uq_lesson_adoptions_lesson_case"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    adopting_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[AdoptionResult] = mapped_column(
        str_enum(AdoptionResult, "adoption_result"), default=AdoptionResult.PLANNED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Read from the adopting case's row, never from a `cases` the enclosing query joins (`correlate_except`).
    adopting_agency_id: Mapped[uuid.UUID] = column_property(
        select(Case.lead_agency_id).where(Case.id == adopting_case_id).correlate_except(Case).scalar_subquery(),
        deferred=True,
    )
    adopting_sector: Mapped[str] = column_property(
        select(Case.primary_sector).where(Case.id == adopting_case_id).correlate_except(Case).scalar_subquery(),
        deferred=True,
    )
    # The agency of `adopting_agency_id`, for reads (`adopting_agency`): the adopting case's lead agency, through
    # the case's row.
    adopting_agency: Mapped[Agency] = relationship(
        secondary=Case.__table__,
        primaryjoin=lambda: LessonAdoption.adopting_case_id == Case.id,
        secondaryjoin=lambda: Case.lead_agency_id == Agency.id,
        uselist=False,
        viewonly=True,
    )


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (
        Index("ix_lessons_created_at_id", "created_at", "id"),
        # A lesson's case, from its id, without reading the lesson's wide row (visibility, origin sector).
        Index("ix_lessons_id_case_id", "id", "case_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[LessonKind] = mapped_column(str_enum(LessonKind, "lesson_kind"), index=True)
    conditions: Mapped[str | None] = mapped_column(Text)
    evidence_urls: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    transferability: Mapped[Transferability] = mapped_column(
        str_enum(Transferability, "lesson_transferability"), default=Transferability.MEDIUM
    )
    curation: Mapped[Curation] = mapped_column(str_enum(Curation, "lesson_curation"), default=Curation.PROPOSED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # The link rows. Reads render the schema's fields from these (see storage/rendering.py).
    sector_links: Mapped[list[LessonSector]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=LessonSector.sector_code
    )
    principle_links: Mapped[list[LessonPrinciple]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=LessonPrinciple.principle_code
    )
    risk_domain_links: Mapped[list[LessonRiskDomain]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=LessonRiskDomain.domain_code
    )
    evidence_outcomes: Mapped[list[Outcome]] = relationship(
        secondary=lesson_outcome_evidence, passive_deletes=True, order_by=Outcome.id
    )
    evidence_risks: Mapped[list[Risk]] = relationship(
        secondary=lesson_risk_evidence, passive_deletes=True, order_by=Risk.id
    )
    applies_to_sectors: AssociationProxy[list[str]] = association_proxy("sector_links", "sector_code")
    principles: AssociationProxy[list[str]] = association_proxy("principle_links", "principle_code")
    risk_domains: AssociationProxy[list[str]] = association_proxy("risk_domain_links", "domain_code")
    evidence_outcome_ids: AssociationProxy[list[uuid.UUID]] = association_proxy("evidence_outcomes", "id")
    evidence_risk_ids: AssociationProxy[list[uuid.UUID]] = association_proxy("evidence_risks", "id")
    evidence = Members("evidence_")

    origin_sector: Mapped[str] = column_property(
        select(Case.primary_sector).where(Case.id == case_id).scalar_subquery(), deferred=True
    )
    # Read across cases (the exports), a lesson says which case learned it without a second request.
    case_reference: Mapped[str] = column_property(
        select(Case.reference).where(Case.id == case_id).scalar_subquery(), deferred=True
    )
    adoption_count: Mapped[int] = column_property(
        select(func.count(LessonAdoption.id))
        .join(Case, Case.id == LessonAdoption.adopting_case_id)
        .where(LessonAdoption.lesson_id == id, Case.published)
        .scalar_subquery(),
        deferred=True,
    )


# The fields a list of lessons can be faceted by (`facets=`), and where each one's values are.
LESSON_FACETS = {
    "origin_sector": linked(Case, value="primary_sector", on=lambda case: case.id == Lesson.case_id),
    "applies_to": linked(LessonSector, value="sector_code", on=lambda link: link.lesson_id == Lesson.id),
    "kind": Facet(Lesson.kind),
    "curation": Facet(Lesson.curation),
    "transferability": Facet(Lesson.transferability),
    "principle": linked(LessonPrinciple, value="principle_code", on=lambda link: link.lesson_id == Lesson.id),
    "risk_domain": linked(LessonRiskDomain, value="domain_code", on=lambda link: link.lesson_id == Lesson.id),
}
