"""Rules and queries about cases: visibility, ownership, lifecycle, publication, references, filters."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sandbox_api.agencies.models import Agency
from sandbox_api.cases.models import (
    Case,
    CaseCapability,
    CasePartner,
    CasePrinciple,
    CaseSector,
    CaseStatus,
    LifecycleAction,
    ReferenceCounter,
)
from sandbox_api.cases.schemas import CaseSchema, PublicCaseSchema
from sandbox_api.errors import Conflict, Forbidden, NotFound, Unprocessable
from sandbox_api.policy import audit
from sandbox_api.policy.auth import Caller, Role
from sandbox_api.storage import search
from sandbox_api.storage.db import replace_codes, utcnow
from sandbox_api.storage.rendering import render_one
from sandbox_api.storage.statements import built_once_per_query

SEARCH_INDEX = search.SearchIndex(Case, ("title", "summary", "description", "reference", "participants_description"))

PERSONAL_CATEGORIES = {"personal", "sensitive_personal", "children"}


PUBLISHABLE_STATUSES = frozenset({CaseStatus.ADMITTED, CaseStatus.ACTIVE, CaseStatus.SUSPENDED, CaseStatus.EXITED})


def visibility(caller: Caller) -> ColumnElement[bool] | None:
    """The condition on cases that the caller may see, or None when it sees them all.

    Without a key: published cases. An agency key: its own agency's cases in every status, and
    published ones. NAIO and admin: every case. Children (risks, outcomes, lessons) follow their case.
    """
    if caller.role in (Role.NAIO, Role.ADMIN):
        return None
    if caller.role == Role.AGENCY:
        return or_(Case.published, Case.lead_agency_id == caller.agency_id)
    return Case.published.expression


def visible(statement: Select, caller: Caller) -> Select:
    """`statement` (over cases) narrowed to what the caller may see."""
    condition = visibility(caller)
    return statement if condition is None else statement.where(condition)


def case_is_visible(case_id, caller: Caller) -> ColumnElement[bool]:
    """SQL truth of "the case exists and the caller may see it"; `case_id` may be a column."""
    return exists(visible(select(Case.id).where(Case.id == case_id), caller))


def schema_for(caller: Caller) -> type[CaseSchema]:
    """Contact details are for keyed callers only."""
    return PublicCaseSchema if caller.is_anonymous else CaseSchema


def get(*, session: Session, case_id: uuid.UUID, caller: Caller, for_update: bool = False) -> Case:
    """The case, if the caller may see it; a case it may not see is 404 exactly like a missing one."""
    statement = visible(select(Case).where(Case.id == case_id), caller)
    if for_update:
        statement = statement.with_for_update(of=Case)
    case = session.scalar(statement)
    if case is None:
        raise NotFound("No case has this id.")
    return case


def representation(*, session: Session, case_id: uuid.UUID, caller: Caller) -> str:
    statement = visible(select(Case).where(Case.id == case_id), caller)
    body = render_one(session, schema_for(caller), statement)
    if body is None:
        raise NotFound("No case has this id.")
    return body


def _owns(caller: Caller, case: Case) -> bool:
    return caller.role == Role.AGENCY and case.lead_agency_id == caller.agency_id


def get_for_change(*, session: Session, case_id: uuid.UUID, caller: Caller) -> Case:
    """The case, locked for this transaction, if the caller may change it and its children.

    An agency key changes only its own agency's cases and their risks, outcomes and lessons.
    """
    case = get(session=session, case_id=case_id, caller=caller, for_update=True)
    if caller.role == Role.AGENCY and not _owns(caller, case):
        raise Forbidden("An agency key may change only its own agency's cases.")
    return case


@dataclass(frozen=True)
class Transition:
    sources: frozenset[CaseStatus]
    target: CaseStatus
    by_owner: bool
    by_naio: bool


LIVE = frozenset({CaseStatus.DRAFT, CaseStatus.SUBMITTED, CaseStatus.ADMITTED, CaseStatus.ACTIVE, CaseStatus.SUSPENDED})
# The lifecycle of docs/domain.md: where each action may start, where it leads, who may take it.
TRANSITIONS: dict[LifecycleAction, Transition] = {
    LifecycleAction.SUBMIT: Transition(frozenset({CaseStatus.DRAFT}), CaseStatus.SUBMITTED, True, False),
    LifecycleAction.RETURN: Transition(frozenset({CaseStatus.SUBMITTED}), CaseStatus.DRAFT, False, True),
    LifecycleAction.ADMIT: Transition(frozenset({CaseStatus.SUBMITTED}), CaseStatus.ADMITTED, False, True),
    LifecycleAction.REJECT: Transition(frozenset({CaseStatus.SUBMITTED}), CaseStatus.REJECTED, False, True),
    LifecycleAction.START: Transition(frozenset({CaseStatus.ADMITTED}), CaseStatus.ACTIVE, True, True),
    LifecycleAction.SUSPEND: Transition(frozenset({CaseStatus.ACTIVE}), CaseStatus.SUSPENDED, False, True),
    LifecycleAction.RESUME: Transition(frozenset({CaseStatus.SUSPENDED}), CaseStatus.ACTIVE, False, True),
    LifecycleAction.EXIT: Transition(
        frozenset({CaseStatus.ACTIVE, CaseStatus.SUSPENDED}), CaseStatus.EXITED, True, True
    ),
    LifecycleAction.WITHDRAW: Transition(LIVE, CaseStatus.WITHDRAWN, True, True),
}
NOTE_REQUIRED = frozenset({LifecycleAction.RETURN, LifecycleAction.REJECT})


def _may_take(caller: Caller, case: Case, transition: Transition) -> bool:
    return (transition.by_naio and caller.role == Role.NAIO) or (transition.by_owner and _owns(caller, case))


def allowed_actions(case: Case, caller: Caller) -> list[str]:
    """The actions the caller may take on the case from its current status."""
    return [
        action.value
        for action, transition in TRANSITIONS.items()
        if case.status in transition.sources and _may_take(caller, case, transition)
    ]


def transition(
    *, session: Session, case: Case, action: LifecycleAction, caller: Caller, exit_in: dict | None, note: str | None
) -> None:
    """Move the case along its lifecycle: 403 if the caller may never take the action on this case,
    409 (with the actions it may take) if the action does not start from the current status."""
    rule = TRANSITIONS[action]
    if not _may_take(caller, case, rule):
        who = " or ".join(
            name for name, allowed in (("the owning agency", rule.by_owner), ("NAIO", rule.by_naio)) if allowed
        )
        raise Forbidden(f"Only {who} may {action} a case.")
    if case.status not in rule.sources:
        allowed = allowed_actions(case, caller)
        raise Conflict(
            f"A case cannot {action} from `{case.status}`; allowed now: {', '.join(allowed) or 'none'}.",
            allowed_actions=allowed,
        )
    if (exit_in is not None) != (action == LifecycleAction.EXIT):
        message = "Required to exit." if exit_in is None else "Only the `exit` action takes exit data."
        raise Unprocessable(f"`exit`: {message}", errors={"json": {"exit": [message]}})
    if action in NOTE_REQUIRED and not note:
        message = f"Say why: a case is not {action}ed without a note."
        raise Unprocessable(message, errors={"json": {"note": [message]}})
    if exit_in is not None:
        for name, value in exit_in.items():
            setattr(case, f"exit_{name}", value)
    case.status = rule.target
    case.status_changed_at = case.updated_at = utcnow()
    session.flush()


def set_published(*, session: Session, case: Case, published: bool) -> bool:
    """Publish or unpublish; True if that changed anything (publishing twice is harmless)."""
    if published == case.published:
        return False
    if published and case.status not in PUBLISHABLE_STATUSES:
        allowed = ", ".join(sorted(PUBLISHABLE_STATUSES))
        raise Conflict(f"Only a case that is {allowed} may be published; this one is `{case.status}`.")
    case.published = published
    case.published_at = utcnow() if published else None
    case.updated_at = utcnow()
    session.flush()
    return True


def _agency_filter(refs: list[str]) -> ColumnElement[bool]:
    """Cases led by any of the agencies named by id or slug; slugs are looked up by the list's own SQL."""
    ids: list[uuid.UUID] = []
    slugs: list[str] = []
    for ref in refs:
        try:
            ids.append(uuid.UUID(ref))
        except ValueError:
            slugs.append(ref)
    by_id = Case.lead_agency_id.in_(ids)
    return or_(by_id, Case.lead_agency_id.in_(select(Agency.id).where(Agency.slug.in_(slugs)))) if slugs else by_id


def _within(column, start: date | None, end: date | None) -> list:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return conditions


def record_conditions(case_id, *, query: dict) -> list[ColumnElement[bool]]:
    """What the `sector` and `capability` filters of lists of records across cases (risks, outcomes) ask of
    each record's case. `case_id` is the record's column."""
    conditions: list[ColumnElement[bool]] = []
    if query.get("sector"):
        conditions.append(exists().where(CaseSector.case_id == case_id, CaseSector.sector_code.in_(query["sector"])))
    if query.get("capability"):
        conditions.append(
            exists().where(CaseCapability.case_id == case_id, CaseCapability.capability_code.in_(query["capability"]))
        )
    return conditions


def record_visibility(case_id, caller: Caller) -> ColumnElement[bool] | None:
    """Whether the caller may see the case of a record (`case_id` is the record's column), or None when it
    sees every case."""
    return None if visibility(caller) is None else case_is_visible(case_id, caller)


@built_once_per_query
def list_statement(*, session: Session, query: dict, caller: Caller) -> Select:
    conditions = []
    if (seen := visibility(caller)) is not None:
        conditions.append(seen)
    if query.get("sector"):
        conditions.append(exists().where(CaseSector.case_id == Case.id, CaseSector.sector_code.in_(query["sector"])))
    if query.get("capability"):
        conditions.append(
            exists().where(CaseCapability.case_id == Case.id, CaseCapability.capability_code.in_(query["capability"]))
        )
    if query.get("principle"):
        conditions.append(
            exists().where(CasePrinciple.case_id == Case.id, CasePrinciple.principle_code.in_(query["principle"]))
        )
    for name in ("primary_sector", "status", "sandbox_type", "risk_tier"):
        if query.get(name):
            conditions.append(getattr(Case, name).in_(query[name]))
    if query.get("lead_agency"):
        conditions.append(_agency_filter(query["lead_agency"]))
    if "personal_data" in query:
        conditions.append(Case.personal_data.is_(query["personal_data"]))
    if "review_overdue" in query:
        conditions.append(Case.review_overdue.expression if query["review_overdue"] else ~Case.review_overdue)
    for name in ("planned_start", "planned_end", "actual_start", "actual_end", "next_review_due"):
        conditions.extend(_within(getattr(Case, name), query.get(f"{name}_from"), query.get(f"{name}_to")))
    return search.ordered(select(Case).where(*conditions), session=session, index=SEARCH_INDEX, query=query)


def next_reference(session: Session, year: int) -> str:
    """The next `SBX-<year>-<sequence>`, handed out atomically even under concurrent creates."""
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(ReferenceCounter)
        .values(year=year, last_value=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last_value": ReferenceCounter.last_value + 1})
        .returning(ReferenceCounter.last_value)
    )
    sequence = session.execute(statement).scalar_one()
    return f"SBX-{year}-{sequence:04d}"


def _check_agencies_exist(session: Session, agency_ids: set[uuid.UUID], field: str) -> None:
    if not agency_ids:
        return
    found = set(session.scalars(select(Agency.id).where(Agency.id.in_(agency_ids))))
    if missing := agency_ids - found:
        raise Unprocessable(
            f"`{field}` names no registered agency: {', '.join(sorted(map(str, missing)))}.",
            errors={"json": {field: ["No such agency."]}},
        )


def _check_consistency(case: Case) -> None:
    errors: dict[str, list[str]] = {}
    for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
        start_value, end_value = getattr(case, start), getattr(case, end)
        if start_value and end_value and end_value < start_value:
            errors[end] = [f"Must not be before `{start}`."]
    if PERSONAL_CATEGORIES & set(case.data_categories or ()) and not case.personal_data:
        errors["personal_data"] = ["Must be true when `data_categories` includes personal data."]
    if errors:
        raise Unprocessable("Some fields contradict each other: see `errors`.", errors={"json": errors})


def _apply(session: Session, case: Case, values: dict) -> None:
    values = dict(values)
    sectors = values.pop("sectors", None)
    capabilities = values.pop("capabilities", None)
    principles = values.pop("principles", None)
    partners = values.pop("partners", None)
    for field, value in values.items():
        setattr(case, field, value)
    if sectors is not None or "primary_sector" in values:
        current = [link.sector_code for link in case.sector_links]
        wanted = set(current if sectors is None else sectors) | {case.primary_sector}
        replace_codes(
            case.sector_links,
            sorted(wanted),
            code_attribute="sector_code",
            make_link=lambda code: CaseSector(sector_code=code),
        )
    if capabilities is not None:
        replace_codes(
            case.capability_links,
            capabilities,
            code_attribute="capability_code",
            make_link=lambda code: CaseCapability(capability_code=code),
        )
    if principles is not None:
        replace_codes(
            case.principle_links,
            principles,
            code_attribute="principle_code",
            make_link=lambda code: CasePrinciple(principle_code=code),
        )
    if partners is not None:
        _check_agencies_exist(session, {p["agency_id"] for p in partners if p.get("agency_id")}, "partners")
        case.partners = [CasePartner(position=position, **partner) for position, partner in enumerate(partners)]
    _check_consistency(case)


def create(*, session: Session, case_in: dict, caller: Caller) -> Case:
    values = dict(case_in)
    if caller.role == Role.AGENCY:
        if values.setdefault("lead_agency_id", caller.agency_id) != caller.agency_id:
            raise Forbidden("An agency key may create cases only for its own agency.")
    elif "lead_agency_id" not in values:
        raise Unprocessable(
            "`lead_agency_id` is required.", errors={"json": {"lead_agency_id": ["Missing data for required field."]}}
        )
    _check_agencies_exist(session, {values["lead_agency_id"]}, "lead_agency_id")
    now = utcnow()
    case = Case(
        reference=next_reference(session, now.year),
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        locations=[],
        data_categories=[],
        regulatory_instruments=[],
        links=[],
        personal_data=False,
    )
    values.setdefault("sectors", [])
    _apply(session, case, values)
    session.add(case)
    session.flush()
    return case


def update(*, session: Session, case: Case, changes: dict, caller: Caller) -> Case:
    if "lead_agency_id" in changes and changes["lead_agency_id"] != case.lead_agency_id:
        if caller.role == Role.AGENCY:
            raise Forbidden("An agency key cannot hand its case to another agency.")
        _check_agencies_exist(session, {changes["lead_agency_id"]}, "lead_agency_id")
    _apply(session, case, changes)
    case.updated_at = utcnow()
    session.flush()
    return case


def record(
    session: Session,
    *,
    case: Case,
    action: str,
    before: str | None,
    after: str | None,
    entity_type: str = "case",
    entity_id: uuid.UUID | None = None,
    note: str | None = None,
    snapshot: dict | None = None,
) -> None:
    """Audit a write to the case or to one of its children (the entity, when not the case itself).

    Anyone may read the event if the case is published, or if the write unpublished it (so that
    feed readers drop it).
    """
    audit.record(
        session,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id or case.id,
        case_id=case.id,
        case_agency_id=case.lead_agency_id,
        public=case.published or action == "unpublish",
        before=before,
        after=after,
        note=note,
        snapshot=snapshot,
    )


def delete(*, session: Session, case: Case) -> None:
    session.delete(case)
    session.flush()
