"""Rules and queries about agencies."""

import uuid

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from sandbox_api.agencies.models import Agency
from sandbox_api.agencies.schemas import AgencySchema
from sandbox_api.cases.models import Case, CasePartner
from sandbox_api.errors import Conflict, NotFound, Unprocessable
from sandbox_api.keys.models import ApiKey
from sandbox_api.policy import audit
from sandbox_api.storage.rendering import render_one
from sandbox_api.storage.statements import order_by


def get(*, session: Session, agency_id: uuid.UUID, for_update: bool = False) -> Agency:
    statement = select(Agency).where(Agency.id == agency_id)
    if for_update:
        statement = statement.with_for_update()
    agency = session.scalar(statement)
    if agency is None:
        raise NotFound("No agency has this id.")
    return agency


def representation(*, session: Session, agency_id: uuid.UUID) -> str:
    body = render_one(session, AgencySchema, select(Agency).where(Agency.id == agency_id))
    if body is None:
        raise NotFound("No agency has this id.")
    return body


def list_statement(*, kind: list | None = None, country: list | None = None, sort: str):
    statement = select(Agency)
    if kind:
        statement = statement.where(Agency.kind.in_(kind))
    if country:
        statement = statement.where(Agency.country.in_(country))
    return statement.order_by(*order_by(Agency, sort))


def _check_parent(session: Session, agency: Agency | None, parent_id: uuid.UUID | None) -> None:
    if parent_id is None:
        return
    if not session.scalar(select(exists().where(Agency.id == parent_id))):
        raise Unprocessable("`parent_id` names no agency.", errors={"json": {"parent_id": ["No such agency."]}})
    ancestor_id: uuid.UUID | None = parent_id
    while ancestor_id is not None:
        if agency is not None and ancestor_id == agency.id:
            raise Unprocessable("An agency cannot sit under itself or under one of its own sub-agencies.")
        ancestor_id = session.scalar(select(Agency.parent_id).where(Agency.id == ancestor_id))


def create(*, session: Session, agency_in: dict) -> Agency:
    if session.scalar(select(exists().where(Agency.slug == agency_in["slug"]))):
        raise Conflict(f"The slug {agency_in['slug']!r} is taken.")
    _check_parent(session, None, agency_in.get("parent_id"))
    agency = Agency(**agency_in)
    session.add(agency)
    session.flush()
    return agency


def update(*, session: Session, agency: Agency, changes: dict) -> Agency:
    if "parent_id" in changes:
        _check_parent(session, agency, changes["parent_id"])
    for field, value in changes.items():
        setattr(agency, field, value)
    session.flush()
    return agency


def delete(*, session: Session, agency: Agency) -> None:
    in_use = session.scalar(
        select(
            or_(
                exists().where(Case.lead_agency_id == agency.id),
                exists().where(CasePartner.agency_id == agency.id),
                exists().where(ApiKey.agency_id == agency.id),
                exists().where(Agency.parent_id == agency.id),
            )
        )
    )
    if in_use:
        raise Conflict("The agency still leads or partners in cases, holds API keys or has sub-agencies.")
    session.delete(agency)
    session.flush()


def record(session: Session, *, agency_id: uuid.UUID, action: str, before: str | None, after: str | None) -> None:
    """Audit a write to an agency; agencies are public, and so are their events."""
    audit.record(
        session, action=action, entity_type="agency", entity_id=agency_id, public=True, before=before, after=after
    )
