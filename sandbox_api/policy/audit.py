"""The audit log: each write recorded as an event in the caller's transaction, with the request id it carries.

The events table belongs to this layer; `events/` serves it as history and change feed."""

import json
import re
import uuid
from datetime import datetime

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, column_property, mapped_column

from sandbox_api.policy import auth
from sandbox_api.policy.auth import Role
from sandbox_api.storage.db import Base, JSONDocument, UTCDateTime, insert_in_commit_order, str_enum, utcnow
from sandbox_api.storage.sql import json_without_key, key

REQUEST_ID_HEADER = "X-Request-ID"
# A request id chosen by the client (or its gateway) is kept if it is short and plain.
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


class Event(Base):
    """One write to the registry. The database refuses to update or delete a row (see migration 0003).

    No foreign keys: an event outlives the case, key or agency it names.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_case_id_id", "case_id", "id"),
        Index("ix_events_public_id", "public", "id"),
        Index("ix_events_case_agency_id_id", "case_agency_id", "id"),
    )

    # SQLite gives INTEGER PRIMARY KEY its rowid; PostgreSQL an identity column. Ids are handed out
    # in commit order (see audit.py), so that the change feed can page by id.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_key_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[Role | None] = mapped_column(str_enum(Role, "event_actor_role"))
    actor_agency_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID | None]
    # The agency that owned the case when the event happened: it may read the event in the feed.
    case_agency_id: Mapped[uuid.UUID | None]
    # Whether anyone may read the event: a change to published data, or the publication itself.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    changes: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    # For a publication: the whole published case with its children, so that a feed reader who
    # never saw the draft can add it (see the `GET /api/v1/changes` description).
    snapshot: Mapped[dict | None] = mapped_column(JSONDocument)
    note: Mapped[str | None] = mapped_column(String(2000))
    request_id: Mapped[str | None] = mapped_column(String(200))

    # What callers without a key may see of `changes`: never a case's contact point.
    public_changes: Mapped[dict] = column_property(json_without_key(changes, key("contact")), deferred=True)


def request_id() -> str | None:
    if not has_request_context():
        return None
    if "request_id" not in g:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if _CLIENT_REQUEST_ID.match(offered) else str(uuid.uuid4())
    return g.request_id


def _echo_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def init_app(app: Flask) -> None:
    app.after_request(_echo_request_id)


def changes_between(before: str | None, after: str | None) -> dict[str, list]:
    """`{field: [old, new]}` between two JSON representations: every field of a created or deleted record
    (the missing side `null`), and the fields that differ for an update."""
    old = json.loads(before) if before else {}
    new = json.loads(after) if after else {}
    return {
        name: [old.get(name), new.get(name)]
        for name in dict.fromkeys([*old, *new])
        if before is None or after is None or old.get(name) != new.get(name)
    }


def record(
    session: Session,
    *,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    public: bool,
    case_id: uuid.UUID | None = None,
    case_agency_id: uuid.UUID | None = None,
    before: str | None = None,
    after: str | None = None,
    note: str | None = None,
    snapshot: dict | None = None,
) -> Event:
    """Record one write; the event is inserted when the transaction commits, or not at all.

    `before` and `after` are the entity's JSON representations around the write (None when it did
    not exist); `public` says whether anonymous callers may read the event.
    """
    caller = auth.current_caller()
    event = Event(
        actor_key_id=caller.key_id,
        actor_role=caller.role,
        actor_agency_id=caller.agency_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        case_id=case_id,
        case_agency_id=case_agency_id,
        public=public,
        changes=changes_between(before, after),
        snapshot=snapshot,
        note=note,
        request_id=request_id(),
    )
    insert_in_commit_order(session, event)
    return event
