"""Each case's JSON kept in `case_documents`, rendered by the flush that changes the case or its links.

Reads copy it and append what they compute themselves (`review_overdue`, and `contact` for callers
with a key; see `rendering.Representation`). Every change to a case goes through the ORM, whose
flushes this module watches; a write that bypasses it (a bulk load) ends with `refresh`, and a change
to what `StoredCaseSchema` renders ships with a migration that calls it.
"""

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, Connection, delete, event, func, insert, select
from sqlalchemy.orm import Session

from sandbox_api.cases.models import Case, CaseCapability, CaseDocument, CasePartner, CasePrinciple, CaseSector
from sandbox_api.cases.schemas import StoredCaseSchema
from sandbox_api.storage.rendering import StoredDocument, representation

Case.stored_document = StoredDocument(StoredCaseSchema, "document")

_LINKS = (CaseSector, CaseCapability, CasePrinciple, CasePartner)


def document_now() -> ColumnElement[str]:
    """A case's document as its rows and links render it now: its JSON without the closing `}`."""
    rendered = representation(StoredCaseSchema, Case, live=True)
    return func.substr(rendered, 1, func.length(rendered) - 1)


def refresh(connection: Connection, case_ids: Iterable[uuid.UUID] | None = None) -> None:
    """Render the stored documents of these cases (of every case when None) from their rows and links."""
    documents = CaseDocument.__table__
    replaced = delete(documents)
    rendered = select(Case.id, document_now())
    if case_ids is not None:
        ids = list(case_ids)
        replaced = replaced.where(documents.c.case_id.in_(ids))
        rendered = rendered.where(Case.id.in_(ids))
    connection.execute(replaced)
    connection.execute(insert(documents).from_select(["case_id", "document"], rendered))


def _refresh_changed_cases(session: Session, _flush_context) -> None:
    # In after_flush, new, dirty and deleted still list what this flush wrote.
    changed: set[uuid.UUID] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Case) and instance not in session.deleted:
            changed.add(instance.id)
        elif isinstance(instance, _LINKS):
            changed.add(instance.case_id)
    if changed:
        refresh(session.connection(), changed)


event.listen(Session, "after_flush", _refresh_changed_cases)
