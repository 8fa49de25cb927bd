"""Reading the taxonomies stored in the database."""

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox_api.errors import NotFound
from sandbox_api.taxonomies.models import Capability, Principle, RiskDomain, RiskSubdomain, Sector, Term


class Taxonomy(NamedTuple):
    model: type[Term]
    title: str
    source: str


TAXONOMIES = {
    "sectors": Taxonomy(Sector, "Sectors of public life a pilot touches.", "Sandbox Case Registry."),
    "capabilities": Taxonomy(Capability, "Kinds of AI capability a pilot uses.", "Sandbox Case Registry."),
    "principles": Taxonomy(
        Principle,
        "Principles of AI governance and ethics a pilot engages.",
        "National Guidelines on AI Governance and Ethics (AIGE), Malaysia, 2024.",
    ),
    "risk_domains": Taxonomy(
        RiskDomain,
        "Domains and subdomains of AI risk.",
        "MIT AI Risk Repository, domain taxonomy, with the 2025 subdomain 7.6.",
    ),
}


def _terms(session: Session, model: type[Term]) -> list[dict]:
    return [
        {"code": term.code, "label": term.label, "description": term.description}
        for term in session.scalars(select(model).order_by(model.position))
    ]


def get(*, session: Session, name: str) -> dict:
    taxonomy = TAXONOMIES.get(name)
    if taxonomy is None:
        raise NotFound(f"No taxonomy is named {name!r}; there are {', '.join(TAXONOMIES)}.")
    terms = _terms(session, taxonomy.model)
    if taxonomy.model is RiskDomain:
        subdomains = session.scalars(select(RiskSubdomain).order_by(RiskSubdomain.position)).all()
        for term in terms:
            term["subdomains"] = [
                {"code": sub.code, "label": sub.label, "description": sub.description}
                for sub in subdomains
                if sub.domain_code == term["code"]
            ]
    return {"name": name, "title": taxonomy.title, "source": taxonomy.source, "terms": terms}
