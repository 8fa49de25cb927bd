"""Agencies: the organisations that lead or partner in pilots."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sandbox_api.storage.db import Base, UTCDateTime, str_enum, utcnow


class AgencyKind(enum.StrEnum):
    MINISTRY = "ministry"
    DEPARTMENT = "department"
    STATUTORY_BODY = "statutory_body"
    STATE_GOVERNMENT = "state_government"
    LOCAL_AUTHORITY = "local_authority"
    GOVERNMENT_COMPANY = "government_company"
    ACADEMIC = "academic"
    PRIVATE = "private"
    CIVIL_SOCIETY = "civil_society"
    INTERNATIONAL = "international"


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    acronym: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[AgencyKind] = mapped_column(str_enum(AgencyKind, "agency_kind"))
    country: Mapped[str] = mapped_column(String(2), default="MY")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"), index=True)
    website: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
