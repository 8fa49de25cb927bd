"""Each case's JSON kept in `cases.document`, rendered by the flush that changes the case or its links.

A page of cases then copies 20 stored documents instead of rendering 20 cases from their rows and four
link tables: the SQL of a page of the filtered list went from 1.7 to 0.8 ms on PostgreSQL and from 0.67
to 0.25 ms on SQLite, at 100,000 cases. Reads append what they compute themselves (`review_overdue`,
and `contact` for callers with a key; see `rendering.Representation`). Every change to a case goes
through the ORM, whose flushes this module watches; a write that bypasses it (a bulk load) ends with
`refresh`, and a change to what `StoredCaseSchema` renders ships with a migration that calls it.
"""

import uuid
from collections.abc import Iterable

from sqlalchemy import Connection, event, update
from sqlalchemy.orm import Session

from sandbox_api.cases.models import Case, CaseCapability, CasePartner, CasePrinciple, CaseSector
from sandbox_api.cases.schemas import StoredCaseSchema
from sandbox_api.rendering import StoredDocument, representation

Case.stored_document = StoredDocument(StoredCaseSchema, "document")

_LINKS = (CaseSector, CaseCapability, CasePrinciple, CasePartner)


def refresh(connection: Connection, case_ids: Iterable[uuid.UUID] | None = None) -> None:
    """Render the stored documents of these cases (of every case when None) from their rows and links."""
    cases = Case.__table__
    # `updated_at` set to itself: otherwise its `onupdate` would change it after the document had rendered it.
    statement = update(cases).values(
        document=representation(StoredCaseSchema, Case, live=True), updated_at=cases.c.updated_at
    )
    if case_ids is not None:
        statement = statement.where(cases.c.id.in_(list(case_ids)))
    connection.execute(statement)


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
