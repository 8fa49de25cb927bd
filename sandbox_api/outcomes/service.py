"""Rules about outcomes: figures belong to quantitative outcomes."""

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.children import ChildResource
from sandbox_api.cases.models import Case
from sandbox_api.errors import Unprocessable
from sandbox_api.outcomes.models import EVIDENCE_GRADES, Outcome, OutcomeKind
from sandbox_api.outcomes.schemas import OutcomeSchema
from sandbox_api.policy.auth import Caller
from sandbox_api.storage.statements import built_once_per_query, order_by

OUTCOMES = ChildResource(Outcome, OutcomeSchema, "outcome")

FIGURES = ("baseline", "target", "actual")


def _check_consistency(outcome: Outcome) -> None:
    if outcome.kind == OutcomeKind.QUALITATIVE:
        figures = [name for name in FIGURES if getattr(outcome, name) is not None]
        if figures:
            raise Unprocessable(
                "A qualitative outcome has no figures; make it quantitative or describe it in `notes`.",
                errors={"json": {name: ["Only for quantitative outcomes."] for name in figures}},
            )


def create(*, session: Session, case: Case, outcome_in: dict) -> Outcome:
    outcome = Outcome(case_id=case.id, **outcome_in)
    _check_consistency(outcome)
    session.add(outcome)
    session.flush()
    return outcome


def update(*, session: Session, outcome: Outcome, changes: dict) -> Outcome:
    for field, value in changes.items():
        setattr(outcome, field, value)
    _check_consistency(outcome)
    session.flush()
    return outcome


@built_once_per_query
def list_statement(*, session: Session, query: dict, caller: Caller) -> Select:
    """Outcomes across all cases that the caller may see, filtered as documented on `GET /api/v1/outcomes`."""
    methods = set(query.get("method") or EVIDENCE_GRADES)
    if query.get("evidence_grade"):
        # The grade follows from the method: filtering on methods lets the database use their index.
        methods &= {method for method, grade in EVIDENCE_GRADES.items() if grade in query["evidence_grade"]}
    conditions: list[ColumnElement[bool]] = []
    if query.get("method") or query.get("evidence_grade"):
        conditions.append(Outcome.method.in_(sorted(methods)))
    if "attained" in query:
        conditions.append(Outcome.attained.is_(query["attained"]))
    conditions.extend(cases_service.record_conditions(Outcome.case_id, query=query))
    if (visible := cases_service.record_visibility(Outcome.case_id, caller)) is not None:
        conditions.append(visible)
    return select(Outcome).where(*conditions).order_by(*order_by(Outcome, query["sort"]))
