"""Queries over events: who may read which, a case's history, the change feed, publication snapshots."""

import json
import uuid

import marshmallow as ma
from sqlalchemy import ColumnExpressionArgument, Select, or_, select
from sqlalchemy.orm import Session

from sandbox_api.cases import service as cases_service
from sandbox_api.events.schemas import EventSchema, PublicEventSchema
from sandbox_api.lessons.models import Lesson, LessonAdoption
from sandbox_api.lessons.schemas import AdoptionSchema, LessonSchema
from sandbox_api.lessons.service import adoption_is_visible
from sandbox_api.outcomes.models import Outcome
from sandbox_api.outcomes.schemas import OutcomeSchema
from sandbox_api.policy.audit import Event
from sandbox_api.policy.auth import ANONYMOUS, Caller, Role
from sandbox_api.risks.models import Risk
from sandbox_api.risks.schemas import RiskSchema
from sandbox_api.storage.rendering import render_list, render_rows
from sandbox_api.storage.statements import order_by

MAX_EVENT_ID = 2**63 - 1


def schema_for(caller: Caller) -> type[EventSchema]:
    return PublicEventSchema if caller.is_anonymous else EventSchema


def _readable(caller: Caller) -> ColumnExpressionArgument[bool] | None:
    """Events the caller may read in the feed; None for all of them."""
    if caller.role in (Role.NAIO, Role.ADMIN):
        return None
    if caller.role == Role.AGENCY:
        return or_(Event.public, Event.case_agency_id == caller.agency_id)
    return Event.public


def history_statement(*, session: Session, case_id: uuid.UUID, caller: Caller, sort: str) -> Select:
    """A case's events, if the caller may see the case (404 otherwise): all of them for NAIO, admin and
    the owning agency, the public ones for everyone else."""
    case = cases_service.get(session=session, case_id=case_id, caller=caller)
    statement = select(Event).where(Event.case_id == case_id)
    sees_everything = caller.role in (Role.NAIO, Role.ADMIN) or (
        caller.role == Role.AGENCY and case.lead_agency_id == caller.agency_id
    )
    if not sees_everything:
        statement = statement.where(Event.public)
    return statement.order_by(*order_by(Event, sort))


def feed(*, session: Session, caller: Caller, after: str | None, limit: int) -> str:
    """The JSON page of the change feed after the cursor `after`, an event id in decimal digits (any number
    of them the query schema admits): `{"events": [...], "next": cursor}`."""
    last_seen = int(after) if after else 0
    # An id beyond the 64 bits of the column lies after every event; the databases take none that large.
    statement = select(Event).where(Event.id > min(last_seen, MAX_EVENT_ID))
    if (readable := _readable(caller)) is not None:
        statement = statement.where(readable)
    rows = render_rows(session, schema_for(caller), statement.order_by(Event.id).limit(limit), Event.id)
    next_cursor = str(rows[-1][1] if rows else last_seen)
    return f'{{"events":[{",".join(document for document, _ in rows)}],"next":{json.dumps(next_cursor)}}}'


def publication_snapshot(*, session: Session, case_id: uuid.UUID) -> dict:
    """The published case as anyone may read it, with its children and the adoptions between it and
    other published cases: what a feed reader who never saw the draft needs to add it."""
    children: dict[str, tuple[type[Risk] | type[Outcome] | type[Lesson], type[ma.Schema]]] = {
        "risks": (Risk, RiskSchema),
        "outcomes": (Outcome, OutcomeSchema),
        "lessons": (Lesson, LessonSchema),
    }
    snapshot = {"case": json.loads(cases_service.representation(session=session, case_id=case_id, caller=ANONYMOUS))}
    for name, (model, schema_class) in children.items():
        statement = select(model).where(model.case_id == case_id).order_by(model.created_at, model.id)
        snapshot[name] = json.loads(render_list(session, schema_class, statement))
    involved = or_(
        LessonAdoption.adopting_case_id == case_id,
        LessonAdoption.lesson_id.in_(select(Lesson.id).where(Lesson.case_id == case_id)),
    )
    adoptions = select(LessonAdoption).where(involved, adoption_is_visible(ANONYMOUS))
    snapshot["adoptions"] = json.loads(
        render_list(session, AdoptionSchema, adoptions.order_by(LessonAdoption.created_at, LessonAdoption.id))
    )
    return snapshot
