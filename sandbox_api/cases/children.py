"""What risks, outcomes and lessons share as children of a case: lookup, ownership and lists."""

import uuid
from typing import TypeVar

import marshmallow as ma
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from sandbox_api.auth import Caller
from sandbox_api.cases import service as cases_service
from sandbox_api.cases.models import Case
from sandbox_api.errors import NotFound
from sandbox_api.pagination import order_by
from sandbox_api.rendering import render_one

Child = TypeVar("Child")
PAGING_AND_ORDER = frozenset({"page", "page_size", "sort"})


def get(*, session: Session, model: type[Child], case_id: uuid.UUID, child_id: uuid.UUID) -> Child:
    child = session.scalar(select(model).where(model.id == child_id, model.case_id == case_id))
    if child is None:
        raise NotFound(f"The case has no {model.__name__.lower()} with this id.")
    return child


def representation(
    *, session: Session, model: type[Child], schema_class: type[ma.Schema], case_id: uuid.UUID, child_id: uuid.UUID
) -> str:
    body = render_one(session, schema_class, select(model).where(model.id == child_id, model.case_id == case_id))
    if body is None:
        raise NotFound(f"The case has no {model.__name__.lower()} with this id.")
    return body


def get_for_change(
    *, session: Session, model: type[Child], case_id: uuid.UUID, child_id: uuid.UUID, caller: Caller
) -> Child:
    """The child, if the caller may change its case; the case row is locked for the transaction."""
    cases_service.get_for_change(session=session, case_id=case_id, caller=caller)
    return get(session=session, model=model, case_id=case_id, child_id=child_id)


def list_statement(*, session: Session, model: type[Child], case_id: uuid.UUID, query: dict) -> Select:
    """The children of one case, filtered and ordered as `query` says; 404 if the case does not exist.

    Each filter is named after the field it matches (api.md); its values combine with OR.
    """
    if not session.scalar(select(exists().where(Case.id == case_id))):
        raise NotFound("No case has this id.")
    statement = select(model).where(model.case_id == case_id)
    for name, values in query.items():
        if name not in PAGING_AND_ORDER:
            statement = statement.where(getattr(model, name).in_(values))
    return statement.order_by(*order_by(model, query["sort"]))


def delete(*, session: Session, child) -> None:
    session.delete(child)
    session.flush()
