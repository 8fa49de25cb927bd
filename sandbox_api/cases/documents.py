"""Each case's JSON kept in `case_documents`, rendered by the flush that changes the case or its links, or
what it shows of an agency it names (`lead_agency`, each partner's `agency`).

Reads copy it and append what they compute themselves (`review_overdue`, and `contact` for callers
with a key; see `rendering.Representation`). Every change to a case goes through the ORM, whose
flushes this module watches; a write that bypasses it (a bulk load) ends with `refresh`.

A change to what the documents hold (a field of `StoredCaseSchema`, a column it renders, how a type is
rendered) changes the SQL that renders them. The application keeps a fingerprint of that SQL beside the
documents (`stored_document_versions`) and, when it starts (`init_app`), rebuilds every document if the
fingerprint stored is not its own: the code that renders them is the code that runs, never a migration's
copy of the models of another day. Migrations only create the tables.
"""

import hashlib
import uuid
from collections.abc import Iterable

from flask import Flask
from sqlalchemy import Connection, Dialect, Select, delete, event, func, insert, inspect, or_, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from sandbox_api.agencies.models import Agency
from sandbox_api.agencies.schemas import AgencyNameSchema
from sandbox_api.cases.models import (
    Case,
    CaseCapability,
    CaseDocument,
    CasePartner,
    CasePrinciple,
    CaseSector,
    StoredDocumentVersion,
)
from sandbox_api.cases.schemas import StoredCaseSchema
from sandbox_api.storage.db import Database
from sandbox_api.storage.rendering import StoredDocument, representation

Case.stored_document = StoredDocument(StoredCaseSchema, "document")

_LINKS = (CaseSector, CaseCapability, CasePrinciple, CasePartner)
# What a case's document shows of an agency it names: a change to one of them changes the documents of the
# cases that agency leads or partners in.
_AGENCY_NAME_MEMBERS = tuple(AgencyNameSchema().dump_fields)


def rendered(case_ids: list[uuid.UUID] | Select | None = None) -> Select:
    """The documents of these cases (ids, or a SELECT of them; every case when None) as their rows and links
    render them now: `id`, and `document`, the JSON without its closing `}` (reads append their own members).

    Each JSON is rendered once, in a materialized CTE: cut in one expression, neither database shared it
    between `length` and `substr`, and rendered it twice (performance.md, 2026-12-07).
    """
    json = select(Case.id, representation(StoredCaseSchema, Case, live=True).label("json"))
    if case_ids is not None:
        json = json.where(Case.id.in_(case_ids))
    once = json.cte("rendered").prefix_with("MATERIALIZED")
    return select(once.c.id, func.substr(once.c.json, 1, func.length(once.c.json) - 1).label("document"))


def refresh(connection: Connection, case_ids: Iterable[uuid.UUID] | Select | None = None) -> None:
    """Render the stored documents of these cases (ids, or a SELECT of them; every case when None) from their
    rows and links."""
    replaced = delete(CaseDocument)
    ids = None
    if case_ids is not None:
        ids = case_ids if isinstance(case_ids, Select) else list(case_ids)
        replaced = replaced.where(CaseDocument.case_id.in_(ids))
    connection.execute(replaced)
    connection.execute(insert(CaseDocument).from_select(["case_id", "document"], rendered(ids)))


def _renames(agency: Agency) -> bool:
    """Whether this flush changes what the documents of the cases naming the agency show of it."""
    state = inspect(agency)
    return any(state.attrs[name].history.has_changes() for name in _AGENCY_NAME_MEMBERS)


def _refresh_changed_cases(session: Session, _flush_context) -> None:
    # In after_flush, new, dirty and deleted still list what this flush wrote, with each attribute's history.
    changed: set[uuid.UUID] = set()
    renamed: set[uuid.UUID] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Case) and instance not in session.deleted:
            changed.add(instance.id)
        elif isinstance(instance, _LINKS):
            changed.add(instance.case_id)
        elif isinstance(instance, Agency) and instance in session.dirty and _renames(instance):
            renamed.add(instance.id)
    if changed:
        refresh(session.connection(), changed)
    if renamed:
        partnered = select(CasePartner.case_id).where(CasePartner.agency_id.in_(renamed))
        naming = select(Case.id).where(or_(Case.lead_agency_id.in_(renamed), Case.id.in_(partnered)))
        # Locked as the cases' own writers lock them (partners change only with their case), so that on
        # PostgreSQL a write to one of them renders it either before this one (which renders it again) or after
        # this one commits, with the new name.
        session.connection().execute(naming.with_for_update())
        refresh(session.connection(), naming)


event.listen(Session, "after_flush", _refresh_changed_cases)


# The row of `stored_document_versions` that says which rendering made the documents in `case_documents`.
VERSION_NAME = "case_documents"
_fingerprints: dict[tuple, str] = {}


def fingerprint(dialect: Dialect) -> str:
    """What identifies the rendering of the documents on `dialect`: a digest of the SQL that renders them,
    which names every field and column rendered and how each is written as JSON."""
    cache_key = (dialect.name, dialect.driver, dialect.server_version_info)
    if cache_key not in _fingerprints:
        sql = str(rendered().compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        _fingerprints[cache_key] = hashlib.sha256(sql.encode()).hexdigest()
    return _fingerprints[cache_key]


def init_app(app: Flask) -> None:
    """Rebuild every stored document if they were rendered otherwise than this code renders them (after
    `Database.init_app`). When they were not, it costs one SELECT of one row."""
    database: Database = app.extensions["db"]
    with database.new_session(write=False) as session:
        current = fingerprint(session.get_bind().dialect)
        try:
            stored = session.scalar(_stored_fingerprint())
        except (OperationalError, ProgrammingError) as error:
            # A database not migrated yet (`alembic upgrade head` comes first), or none to reach: the
            # next start checks again. Generating the OpenAPI document needs no database at all.
            session.rollback()
            app.logger.info("Stored case documents not checked: %s", error.orig)
            return
    if stored != current:
        rebuild(database, current)


def _stored_fingerprint() -> Select:
    return select(StoredDocumentVersion.fingerprint).where(StoredDocumentVersion.name == VERSION_NAME)


def rebuild(database: Database, current: str) -> bool:
    """Render every case's document and store `current` as the fingerprint of their rendering, in one write
    transaction, unless another process (a gunicorn worker starting beside this one) just did."""
    with database.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            # Workers starting at once wait here for the first, then find its fingerprint. Writers of
            # documents wait too, so that none renders a case that the rebuild renders again. (SQLite:
            # the transaction took the database's write lock when it began.)
            session.execute(text(f"LOCK TABLE {CaseDocument.__tablename__} IN EXCLUSIVE MODE"))
        if session.scalar(_stored_fingerprint()) == current:
            return False
        refresh(session.connection())
        session.merge(StoredDocumentVersion(name=VERSION_NAME, fingerprint=current))
        # Flushed before the commit, so that it counts as a write (a new registry version, see db.py).
        session.flush()
    return True
