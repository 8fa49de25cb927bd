"""How alike two cases are: the classifications they share, weighed, with the shared terms as reasons."""

import uuid

from sqlalchemy import Integer, Select, Text, cast, func, literal, select, union_all
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


def _shared_codes(case_column, code_column, target_id: uuid.UUID) -> Select:
    """The codes of one kind that the case of the outer row shares with the target."""
    return (
        select(code_column)
        .where(case_column == Case.id, code_column.in_(_target_codes(case_column, code_column, target_id)))
        .order_by(code_column)
        .correlate(Case)
    )


def _shared_subdomains(target_id: uuid.UUID) -> Select:
    """The risk subdomains met by both the case of the outer row and the target, each once, in order."""
    return (
        select(Risk.subdomain)
        .where(Risk.case_id == Case.id, Risk.subdomain.in_(_target_codes(Risk.case_id, Risk.subdomain, target_id)))
        .distinct()
        .order_by(Risk.subdomain)
        .correlate(Case)
    )


def _json_array(codes: Select):
    # Aggregated over a subquery that is distinct and in order already: SQLite 3.40 has no ORDER BY inside
    # an aggregate.
    rows = codes.subquery()
    code = rows.c[0]
    return json_array_of(code, where=code.is_not(None), order_by=code)


def _count(codes: Select):
    return select(func.count()).select_from(codes.subquery()).scalar_subquery()


def similar_statement(*, session: Session, case_id: uuid.UUID, caller: Caller) -> Select:
    """The cases most like the given one that the caller may see, best first, each with a `similarity`
    annotation: its score and the terms it shares; 404 if the caller may not see the case itself.

    The best are found by one aggregate over the shared terms; the score and the shared terms of each
    case listed are then read for that case alone, with the same weights.
    """
    cases_service.get(session=session, case_id=case_id, caller=caller)
    terms = union_all(*_shared_terms(case_id)).subquery()
    total = func.sum(terms.c.weight)
    best = (
        select(terms.c.case_id)
        .join(Case, Case.id == terms.c.case_id)
        .group_by(terms.c.case_id)
        .order_by(total.desc(), terms.c.case_id)
        .limit(MAX_SIMILAR)
    )
    if (seen := cases_service.visibility(caller)) is not None:
        best = best.where(seen)
    shared = {kind: _shared_codes(*columns, case_id) for kind, columns in LINKS.items()}
    shared["risk_subdomains"] = _shared_subdomains(case_id)
    score = sum(WEIGHTS[kind] * _count(codes) for kind, codes in shared.items())
    similarity = json_object(
        key("score"),
        score,
        *(part for kind, codes in shared.items() for part in (key(f"shared_{kind}"), _json_array(codes))),
    )
    return (
        select(Case, cast(similarity, Text).label("similarity"))
        .where(Case.id.in_(best))
        .order_by(score.desc(), Case.id)
    )
