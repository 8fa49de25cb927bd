"""How alike two cases are: the classifications they share, weighed, with the shared terms as reasons."""

import uuid

from sqlalchemy import Integer, Select, Text, and_, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from sandbox_api.auth import Caller
from sandbox_api.cases import service as cases_service
from sandbox_api.cases.models import Case, CaseCapability, CasePrinciple, CaseSector
from sandbox_api.rendering import json_array_of, json_object, key
from sandbox_api.risks.models import Risk

# Points per shared term. A capability says most about what a pilot does; a risk subdomain met by both
# says they ran into the same problem; sectors are shared by many unrelated pilots; principles are few.
WEIGHTS = {"capabilities": 3, "risk_subdomains": 2, "sectors": 2, "principles": 1}
# Similar cases are a ranking, not a listing: only the best are ranked and counted.
MAX_SIMILAR = 100


# Per kind of term held in a link table: its case column and its code column.
LINKS = {
    "capabilities": (CaseCapability.case_id, CaseCapability.capability_code),
    "sectors": (CaseSector.case_id, CaseSector.sector_code),
    "principles": (CasePrinciple.case_id, CasePrinciple.principle_code),
}


def _target_codes(case_column, code_column, target_id: uuid.UUID) -> Select:
    return select(code_column).where(case_column == target_id, code_column.is_not(None))


def _shared_terms(target_id: uuid.UUID) -> list[Select]:
    """One row per other case and term it shares with the target, with that term's weight."""
    shared = [
        select(case_column.label("case_id"), literal(WEIGHTS[kind], Integer).label("weight")).where(
            code_column.in_(_target_codes(case_column, code_column, target_id)), case_column != target_id
        )
        for kind, (case_column, code_column) in LINKS.items()
    ]
    # A subdomain counts once per case, however many of its risks fall in it.
    risk_subdomains = (
        select(Risk.case_id, Risk.subdomain)
        .where(Risk.subdomain.in_(_target_codes(Risk.case_id, Risk.subdomain, target_id)), Risk.case_id != target_id)
        .distinct()
        .subquery()
    )
    shared.append(select(risk_subdomains.c.case_id, literal(WEIGHTS["risk_subdomains"], Integer).label("weight")))
    return shared


def _shared_json(case_column, code_column, target_id: uuid.UUID):
    return json_array_of(
        code_column,
        where=and_(case_column == Case.id, code_column.in_(_target_codes(case_column, code_column, target_id))),
        order_by=code_column,
    )


def similar_statement(*, session: Session, case_id: uuid.UUID, caller: Caller) -> Select:
    """The cases most like the given one that the caller may see, best first, each with a `similarity`
    annotation: its score and the terms it shares; 404 if the caller may not see the case itself."""
    cases_service.get(session=session, case_id=case_id, caller=caller)
    terms = union_all(*_shared_terms(case_id)).subquery()
    score = func.sum(terms.c.weight).label("score")
    ranked = (
        select(terms.c.case_id, score)
        .join(Case, Case.id == terms.c.case_id)
        .group_by(terms.c.case_id)
        .order_by(score.desc(), terms.c.case_id)
        .limit(MAX_SIMILAR)
    )
    if (seen := cases_service.visibility(caller)) is not None:
        ranked = ranked.where(seen)
    best = ranked.subquery()
    # Distinct and in order before aggregating: SQLite 3.40 has no ORDER BY inside an aggregate.
    subdomains = (
        select(Risk.subdomain)
        .where(Risk.case_id == Case.id, Risk.subdomain.in_(_target_codes(Risk.case_id, Risk.subdomain, case_id)))
        .distinct()
        .order_by(Risk.subdomain)
        .correlate(Case)
        .subquery()
    )
    subdomains_shared = json_array_of(
        subdomains.c.subdomain, where=subdomains.c.subdomain.is_not(None), order_by=subdomains.c.subdomain
    )
    similarity = json_object(
        key("score"),
        best.c.score,
        key("shared_capabilities"),
        _shared_json(*LINKS["capabilities"], case_id),
        key("shared_sectors"),
        _shared_json(*LINKS["sectors"], case_id),
        key("shared_principles"),
        _shared_json(*LINKS["principles"], case_id),
        key("shared_risk_subdomains"),
        subdomains_shared,
    )
    return (
        select(Case, cast(similarity, Text).label("similarity"))
        .join(best, best.c.case_id == Case.id)
        .order_by(best.c.score.desc(), Case.id)
    )
