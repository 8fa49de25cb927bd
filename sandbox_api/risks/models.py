"""Risks: a case's risk register, classified by the MIT AI Risk Repository."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, SmallInteger, String, Text, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from sandbox_api.cases.models import Case, CaseCapability, CaseSector
from sandbox_api.storage.db import Base, UTCDateTime, str_enum, utcnow
from sandbox_api.storage.facets import Facet, linked


class RiskStatus(enum.StrEnum):
    IDENTIFIED = "identified"
    MITIGATING = "mitigating"
    MITIGATED = "mitigated"
    ACCEPTED = "accepted"
    MATERIALISED = "materialised"
    CLOSED = "closed"


class Risk(Base):
    __tablename__ = "risks"
    __table_args__ = (
        *(
            CheckConstraint(f"{column} BETWEEN 1 AND 5", name=f"{column}_1_to_5")
            for column in ("likelihood", "impact", "residual_likelihood", "residual_impact")
        ),
        # Risks across cases come highest score first.
        Index("ix_risks_score_id", "score", "id"),
        # A case's risks (its register, its foreign key), carrying what the insights aggregate, so that they
        # read this index alone and not the risks' text.
        Index("ix_risks_case_id_domain_subdomain_status_score", "case_id", "domain", "subdomain", "status", "score"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(ForeignKey("risk_domains.code"), index=True)
    subdomain: Mapped[str | None] = mapped_column(ForeignKey("risk_subdomains.code"), index=True)
    principle: Mapped[str | None] = mapped_column(ForeignKey("principles.code"))
    likelihood: Mapped[int] = mapped_column(SmallInteger)
    impact: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[int] = mapped_column(SmallInteger, Computed("likelihood * impact", persisted=True))
    mitigation: Mapped[str | None] = mapped_column(Text)
    residual_likelihood: Mapped[int | None] = mapped_column(SmallInteger)
    residual_impact: Mapped[int | None] = mapped_column(SmallInteger)
    residual_score: Mapped[int | None] = mapped_column(
        SmallInteger, Computed("residual_likelihood * residual_impact", persisted=True)
    )
    status: Mapped[RiskStatus] = mapped_column(str_enum(RiskStatus, "risk_status"), default=RiskStatus.IDENTIFIED)
    materialised_note: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Read across cases, a record says which case it belongs to without a second request.
    case_reference: Mapped[str] = column_property(
        select(Case.reference).where(Case.id == case_id).scalar_subquery(), deferred=True
    )
    case_primary_sector: Mapped[str] = column_property(
        select(Case.primary_sector).where(Case.id == case_id).scalar_subquery(), deferred=True
    )


RISK_FACETS = {
    "domain": Facet(Risk.domain),
    "subdomain": Facet(Risk.subdomain),
    "principle": Facet(Risk.principle),
    "status": Facet(Risk.status),
    "sector": linked(CaseSector, value="sector_code", on=lambda link: link.case_id == Risk.case_id),
    "capability": linked(CaseCapability, value="capability_code", on=lambda link: link.case_id == Risk.case_id),
}
