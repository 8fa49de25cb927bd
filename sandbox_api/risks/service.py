"""Rules about risks: a subdomain belongs to its domain, and a materialised risk says what happened."""

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.children import ChildResource
from sandbox_api.cases.models import Case
from sandbox_api.errors import Unprocessable
from sandbox_api.policy.auth import Caller
from sandbox_api.risks.models import Risk, RiskStatus
from sandbox_api.risks.schemas import RiskSchema
from sandbox_api.storage import search
from sandbox_api.storage.statements import built_once_per_query

SEARCH_INDEX = search.SearchIndex(Risk, ("title", "description", "mitigation", "materialised_note"))
RISKS = ChildResource(Risk, RiskSchema, "risk", SEARCH_INDEX)


def _check_consistency(risk: Risk) -> None:
    errors: dict[str, list[str]] = {}
    if risk.subdomain and not risk.subdomain.startswith(f"{risk.domain}."):
        errors["subdomain"] = [f"Subdomain {risk.subdomain} is not in domain {risk.domain}."]
    if risk.status == RiskStatus.MATERIALISED and not risk.materialised_note:
        errors["materialised_note"] = ["Say what happened when the risk materialised."]
    if (risk.residual_likelihood is None) != (risk.residual_impact is None):
        errors["residual_impact"] = ["Give both residual likelihood and residual impact, or neither."]
    if errors:
        raise Unprocessable("Some fields contradict each other: see `errors`.", errors={"json": errors})


def create(*, session: Session, case: Case, risk_in: dict) -> Risk:
    risk = Risk(case_id=case.id, **risk_in)
    _check_consistency(risk)
    session.add(risk)
    session.flush()
    return risk


def update(*, session: Session, risk: Risk, changes: dict) -> Risk:
    for field, value in changes.items():
        setattr(risk, field, value)
    _check_consistency(risk)
    session.flush()
    return risk


@built_once_per_query
def list_statement(*, session: Session, query: dict, caller: Caller) -> Select:
    """Risks across all cases that the caller may see, filtered as documented on `GET /api/v1/risks`."""
    conditions = [
        getattr(Risk, name).in_(query[name])
        for name in ("domain", "subdomain", "principle", "status")
        if query.get(name)
    ]
    if "min_score" in query:
        conditions.append(Risk.score >= query["min_score"])
    if "materialised" in query:
        materialised = or_(Risk.status == RiskStatus.MATERIALISED, Risk.materialised_note.is_not(None))
        conditions.append(materialised if query["materialised"] else ~materialised)
    conditions.extend(cases_service.record_conditions(Risk.case_id, query=query))
    return search.ordered(
        select(Risk).where(*conditions),
        session=session,
        index=SEARCH_INDEX,
        query=query,
        visibility=cases_service.record_visibility(Risk.case_id, caller),
    )
