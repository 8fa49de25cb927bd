"""What risks, outcomes and lessons share as children of a case: visibility, ownership, lists and audit."""

import uuid
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.models import Case
from sandbox_api.errors import NotFound
from sandbox_api.policy.auth import Caller
from sandbox_api.storage import search
from sandbox_api.storage.rendering import render_one
from sandbox_api.storage.statements import order_by

NOT_FILTERS = frozenset({"page", "page_size", "sort", "q"})


@dataclass(frozen=True)
class ChildResource:
    """One kind of child record; it is visible, and changeable, exactly when its case is."""

    model: type[Any]
    schema_class: type[ma.Schema]
    entity_type: str
    # Where the children's lists can be searched with `q`.
    search_index: search.SearchIndex | None = None

    def _not_found(self) -> NotFound:
        return NotFound(f"The case has no {self.entity_type} with this id.")

    def representation(self, *, session: Session, case_id: uuid.UUID, child_id: uuid.UUID, caller: Caller) -> str:
        model = self.model
        statement = select(model).where(
            model.id == child_id, model.case_id == case_id, cases_service.case_is_visible(model.case_id, caller)
        )
        body = render_one(session, self.schema_class, statement)
        if body is None:
            raise self._not_found()
        return body

    def list_statement(self, *, session: Session, case_id: uuid.UUID, query: dict, caller: Caller) -> Select:
        """The children of one case, filtered and ordered as `query` says; 404 if the caller may not see
        the case. Each filter is named after the field it matches (docs/api-conventions.md); its values combine with OR."""
        cases_service.get(session=session, case_id=case_id, caller=caller)
        statement = select(self.model).where(self.model.case_id == case_id)
        for name, values in query.items():
            if name not in NOT_FILTERS:
                statement = statement.where(getattr(self.model, name).in_(values))
        if self.search_index is not None:
            return search.ordered(statement, session=session, index=self.search_index, query=query)
        return statement.order_by(*order_by(self.model, query["sort"]))

    def for_change(
        self, *, session: Session, case_id: uuid.UUID, child_id: uuid.UUID, caller: Caller
    ) -> tuple[Case, Any]:
        """The case (locked for the transaction) and the child, if the caller may change the case's children."""
        case = cases_service.get_for_change(session=session, case_id=case_id, caller=caller)
        child = session.scalar(select(self.model).where(self.model.id == child_id, self.model.case_id == case_id))
        if child is None:
            raise self._not_found()
        return case, child

    def written(
        self, *, session: Session, case: Case, child_id: uuid.UUID, caller: Caller, action: str, before: str | None
    ) -> str:
        """After a create or update: the child's representation, with the write recorded in the case's history."""
        after = self.representation(session=session, case_id=case.id, child_id=child_id, caller=caller)
        self.record(session, case=case, child_id=child_id, action=action, before=before, after=after)
        return after

    def delete(self, *, session: Session, child: Any) -> None:
        """Delete the child; its event is recorded before, while it can be read (the write path does)."""
        session.delete(child)
        session.flush()

    def record(
        self, session: Session, *, case: Case, child_id: uuid.UUID, action: str, before: str | None, after: str | None
    ) -> None:
        """Record a write to the child in its case's history."""
        cases_service.record(
            session,
            case=case,
            action=action,
            entity_type=self.entity_type,
            entity_id=child_id,
            before=before,
            after=after,
        )
