"""Controlled vocabularies stored as data: sectors, capabilities, AIGE principles, MIT risk domains."""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox_api.storage.db import Base


class Term:
    """Columns shared by every taxonomy term."""

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int]


class Sector(Term, Base):
    __tablename__ = "sectors"


class Capability(Term, Base):
    __tablename__ = "capabilities"


class Principle(Term, Base):
    __tablename__ = "principles"


class RiskDomain(Term, Base):
    __tablename__ = "risk_domains"


class RiskSubdomain(Term, Base):
    __tablename__ = "risk_subdomains"

    domain_code: Mapped[str] = mapped_column(ForeignKey("risk_domains.code"), index=True)
