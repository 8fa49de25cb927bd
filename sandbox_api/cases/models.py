"""Cases: the sandbox pilots, with their partners and taxonomy links."""

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, and_, func, select
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from sandbox_api.agencies.models import Agency
from sandbox_api.storage.db import Base, JSONDocument, UTCDateTime, str_enum, utcnow
from sandbox_api.storage.facets import Facet, linked
from sandbox_api.storage.rendering import Members
from sandbox_api.storage.sql import utc_today


class SandboxType(enum.StrEnum):
    REGULATORY_SANDBOX = "regulatory_sandbox"
    OPERATIONAL_PILOT = "operational_pilot"
    FLAGSHIP_PROJECT = "flagship_project"
    TESTBED = "testbed"


class CaseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ADMITTED = "admitted"
    REJECTED = "rejected"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXITED = "exited"
    WITHDRAWN = "withdrawn"


# A review falls due only while a pilot is live; a closed pilot has nothing left to review.
REVIEWABLE_STATUSES = (
    CaseStatus.DRAFT,
    CaseStatus.SUBMITTED,
    CaseStatus.ADMITTED,
    CaseStatus.ACTIVE,
    CaseStatus.SUSPENDED,
)


class LifecycleAction(enum.StrEnum):
    SUBMIT = "submit"
    RETURN = "return"
    ADMIT = "admit"
    REJECT = "reject"
    START = "start"
    SUSPEND = "suspend"
    RESUME = "resume"
    EXIT = "exit"
    WITHDRAW = "withdraw"


class RiskTier(enum.StrEnum):
    MINIMAL = "minimal"
    LIMITED = "limited"
    HIGH = "high"


class ExitDecision(enum.StrEnum):
    SCALE = "scale"
    REPLICATE = "replicate"
    EXTEND = "extend"
    CONTINUE = "continue"
    DISCONTINUE = "discontinue"


class PartnerRole(enum.StrEnum):
    TECHNOLOGY_PROVIDER = "technology_provider"
    CO_LEAD = "co_lead"
    EVALUATOR = "evaluator"
    FUNDER = "funder"
    PARTICIPANT = "participant"


class ReferenceCounter(Base):
    """The last sequence number handed out per year, for references like SBX-2025-0007."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int]


class CaseDocument(Base):
    """A case's JSON as the flush that last changed the case rendered it (cases/documents.py), without its
    closing `}`. Derived data, kept beside `cases` rather than in it, so that the rows which filters and
    aggregates scan stay narrow."""

    __tablename__ = "case_documents"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[str] = mapped_column(Text)


class StoredDocumentVersion(Base):
    """Which rendering made a kind of stored document (`case_documents`): a fingerprint of its SQL, so that
    the application rebuilds them when it starts with another (cases/documents.py)."""

    __tablename__ = "stored_document_versions"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))


class CaseSector(Base):
    __tablename__ = "case_sectors"
    __table_args__ = (Index("ix_case_sectors_sector_code_case_id", "sector_code", "case_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    sector_code: Mapped[str] = mapped_column(ForeignKey("sectors.code"), primary_key=True)


class CaseCapability(Base):
    __tablename__ = "case_capabilities"
    __table_args__ = (Index("ix_case_capabilities_capability_code_case_id", "capability_code", "case_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    capability_code: Mapped[str] = mapped_column(ForeignKey("capabilities.code"), primary_key=True)


class CasePrinciple(Base):
    __tablename__ = "case_principles"
    __table_args__ = (Index("ix_case_principles_principle_code_case_id", "principle_code", "case_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    principle_code: Mapped[str] = mapped_column(ForeignKey("principles.code"), primary_key=True)


class CasePartner(Base):
    __tablename__ = "case_partners"
    __table_args__ = (Index("ix_case_partners_case_id_position", "case_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(200))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"), index=True)
    role: Mapped[PartnerRole] = mapped_column(str_enum(PartnerRole, "partner_role"))
    # The agency that `agency_id` names, for reads (`agency`); a partner is written by its id alone.
    agency: Mapped[Agency | None] = relationship(viewonly=True)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # Serve the default order, within a status or not, and cover the ids that a filtered count needs. On
        # PostgreSQL they carry `published`, so the public list's page is found without reading rows.
        Index("ix_cases_status_created_at_id", "status", "created_at", "id", postgresql_include=["published"]),
        Index("ix_cases_created_at_id", "created_at", "id", postgresql_include=["published"]),
        # Covers what a look-up of a case by id most often needs, so the wide rows (texts, search vector)
        # stay unread: whether the caller may see it (visibility), its primary sector (a lesson's origin,
        # the insights' sector), and what the insights filter and count their cases by.
        Index(
            "ix_cases_id_scope",
            "id",
            "published",
            "lead_agency_id",
            "primary_sector",
            "status",
            "sandbox_type",
            "actual_start",
            "planned_start",
            "next_review_due",
        ),
        # Whether a case is published, for the public's look-ups by id (a risk's, outcome's or lesson's case).
        # SQLite takes, without weighing costs, the first unique index whose columns are all given: without
        # this one, the primary key's, and then it reads the case's row too (a fifth of a search of lessons).
        Index("ix_cases_id_published", "id", "published", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(Text)
    lead_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"), index=True)
    primary_sector: Mapped[str] = mapped_column(ForeignKey("sectors.code"), index=True)
    sandbox_type: Mapped[SandboxType] = mapped_column(str_enum(SandboxType, "sandbox_type"), index=True)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"), default=CaseStatus.DRAFT)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    participants_count: Mapped[int | None]
    participants_description: Mapped[str | None] = mapped_column(String(500))
    locations: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    risk_tier: Mapped[RiskTier | None] = mapped_column(str_enum(RiskTier, "risk_tier"), index=True)
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    data_categories: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    regulatory_instruments: Mapped[list[dict]] = mapped_column(JSONDocument, default=list)
    links: Mapped[list[dict]] = mapped_column(JSONDocument, default=list)
    exit_decision: Mapped[ExitDecision | None] = mapped_column(str_enum(ExitDecision, "exit_decision"))
    exit_summary: Mapped[str | None] = mapped_column(Text)
    exit_report_url: Mapped[str | None] = mapped_column(String(2000))
    exit_decided_on: Mapped[date | None] = mapped_column(Date)
    next_review_due: Mapped[date | None] = mapped_column(Date, index=True)
    contact: Mapped[dict | None] = mapped_column(JSONDocument)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The case's stored JSON (CaseDocument), only ever copied into answers by the SQL that renders them.
    document: Mapped[str] = column_property(
        select(CaseDocument.document).where(CaseDocument.case_id == id).scalar_subquery(), deferred=True
    )

    # The link rows. Reads render the schema's fields from these (see storage/rendering.py); loading a
    # case to change it loads none of them until a write touches them.
    sector_links: Mapped[list[CaseSector]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=CaseSector.sector_code
    )
    capability_links: Mapped[list[CaseCapability]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=CaseCapability.capability_code
    )
    principle_links: Mapped[list[CasePrinciple]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=CasePrinciple.principle_code
    )
    partners: Mapped[list[CasePartner]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=CasePartner.position
    )
    # The agency that `lead_agency_id` names, for reads (`lead_agency`); a case changes hands by its id alone.
    lead_agency: Mapped[Agency] = relationship(viewonly=True)
    sectors: AssociationProxy[list[str]] = association_proxy("sector_links", "sector_code")
    capabilities: AssociationProxy[list[str]] = association_proxy("capability_links", "capability_code")
    principles: AssociationProxy[list[str]] = association_proxy("principle_links", "principle_code")
    exit = Members("exit_", present="exit_decision")

    # When a pilot started, or is planned to: the insights' date range. PostgreSQL keeps statistics on this
    # expression (migration `0011`), so that it knows how many cases a date range keeps.
    started_on: Mapped[date | None] = column_property(func.coalesce(actual_start, planned_start), deferred=True)
    review_overdue: Mapped[bool] = column_property(
        and_(next_review_due.is_not(None), next_review_due < utc_today(), status.in_(REVIEWABLE_STATUSES)),
        deferred=True,
    )


# The fields a list of cases can be faceted by (`facets=`), and where each one's values are.
CASE_FACETS = {
    "sector": linked(CaseSector, value="sector_code", on=lambda link: link.case_id == Case.id),
    "primary_sector": Facet(Case.primary_sector),
    "status": Facet(Case.status),
    "sandbox_type": Facet(Case.sandbox_type),
    "risk_tier": Facet(Case.risk_tier),
    "capability": linked(CaseCapability, value="capability_code", on=lambda link: link.case_id == Case.id),
    "principle": linked(CasePrinciple, value="principle_code", on=lambda link: link.case_id == Case.id),
    "lead_agency": Facet(Case.lead_agency_id),
}
