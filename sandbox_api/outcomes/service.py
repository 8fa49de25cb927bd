"""Rules about outcomes: figures belong to quantitative outcomes."""

from sqlalchemy.orm import Session

from sandbox_api.cases.children import ChildResource
from sandbox_api.cases.models import Case
from sandbox_api.errors import Unprocessable
from sandbox_api.outcomes.models import Outcome, OutcomeKind
from sandbox_api.outcomes.schemas import OutcomeSchema

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
