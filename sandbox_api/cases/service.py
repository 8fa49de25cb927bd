"""Rules and queries about cases: ownership, references, validation across fields, filters."""

import uuid
from datetime import date

from sqlalchemy import Select, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sandbox_api.agencies.models import Agency
from sandbox_api.auth import Caller
from sandbox_api.cases.models import (
    Case,
    CaseCapability,
    CasePartner,
    CasePrinciple,
    CaseSector,
    ReferenceCounter,
)
from sandbox_api.cases.schemas import CaseSchema
from sandbox_api.db import replace_codes, utcnow
from sandbox_api.errors import Forbidden, NotFound, Unprocessable
from sandbox_api.keys.models import Role
from sandbox_api.pagination import order_by
from sandbox_api.rendering import render_one

PERSONAL_CATEGORIES = {"personal", "sensitive_personal", "children"}


def get(*, session: Session, case_id: uuid.UUID, for_update: bool = False) -> Case:
    statement = select(Case).where(Case.id == case_id)
    if for_update:
        statement = statement.with_for_update(of=Case)
    case = session.scalar(statement)
    if case is None:
        raise NotFound("No case has this id.")
    return case


def representation(*, session: Session, case_id: uuid.UUID) -> str:
    body = render_one(session, CaseSchema, select(Case).where(Case.id == case_id))
    if body is None:
        raise NotFound("No case has this id.")
    return body


def get_for_change(*, session: Session, case_id: uuid.UUID, caller: Caller) -> Case:
    """The case, locked for this transaction, if the caller may change it and its children.

    An agency key changes only its own agency's cases and their risks, outcomes and lessons.
    """
    case = get(session=session, case_id=case_id, for_update=True)
    if caller.role == Role.AGENCY and case.lead_agency_id != caller.agency_id:
        raise Forbidden("An agency key may change only its own agency's cases.")
    return case


def _agency_filter(session: Session, refs: list[str]):
    ids: list[uuid.UUID] = []
    slugs: list[str] = []
    for ref in refs:
        try:
            ids.append(uuid.UUID(ref))
        except ValueError:
            slugs.append(ref)
    if slugs:
        ids.extend(session.scalars(select(Agency.id).where(Agency.slug.in_(slugs))))
    return Case.lead_agency_id.in_(ids)


def _within(column, start: date | None, end: date | None) -> list:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return conditions


def list_statement(*, session: Session, query: dict) -> Select:
    conditions = []
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
        conditions.append(_agency_filter(session, query["lead_agency"]))
    if "personal_data" in query:
        conditions.append(Case.personal_data.is_(query["personal_data"]))
    if "review_overdue" in query:
        conditions.append(Case.review_overdue if query["review_overdue"] else ~Case.review_overdue)
    for name in ("planned_start", "planned_end", "actual_start", "actual_end", "next_review_due"):
        conditions.extend(_within(getattr(Case, name), query.get(f"{name}_from"), query.get(f"{name}_to")))
    return select(Case).where(*conditions).order_by(*order_by(Case, query["sort"]))


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
        case.partner_rows = [CasePartner(position=position, **partner) for position, partner in enumerate(partners)]
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


def delete(*, session: Session, case: Case) -> None:
    session.delete(case)
    session.flush()
