"""The audit log: each write recorded as an event in the caller's transaction, with the request id it carries.

The events table belongs to this layer; `events/` serves it as history and change feed."""

import hashlib
import json
import re
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import BigInteger, Boolean, Connection, Index, Integer, String, event, select
from sqlalchemy.orm import Mapped, Mapper, Session, column_property, mapped_column, object_session

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
    # SHA-256 of the previous event's hash and this event's canonical content (see `chained_hash`); null
    # for the events recorded before the chain began (migration 0013).
    hash: Mapped[str | None] = mapped_column(String(64))

    # What callers without a key may see of `changes`: never a case's contact point.
    public_changes: Mapped[dict] = column_property(json_without_key(changes, key("contact")), deferred=True)


# The hash chain: what is hashed is a published format (docs/api-conventions.md, "The hash chain"), so
# that anyone holding the events can recompute it. Changing it breaks every chain already stored.
GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "occurred_at",
    "actor_key_id",
    "actor_role",
    "actor_agency_id",
    "action",
    "entity_type",
    "entity_id",
    "case_id",
    "case_agency_id",
    "public",
    "changes",
    "snapshot",
    "note",
    "request_id",
)


def _canonical_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, uuid.UUID):
        return str(value)
    # PostgreSQL's JSONB keeps numbers as decimals: 2.0 may come back as 2, and 1e16 as an integer.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {name: _canonical_value(member) for name, member in value.items()}
    if isinstance(value, list):
        return [_canonical_value(member) for member in value]
    return value


def canonical_content(event: "Event") -> str:
    """The event's stored fields but `id` and `hash`, as one JSON text: keys sorted, no whitespace,
    non-ASCII characters as themselves."""
    content = {name: _canonical_value(getattr(event, name)) for name in HASHED_FIELDS}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chained_hash(previous_hash: str, event: "Event") -> str:
    return hashlib.sha256((previous_hash + canonical_content(event)).encode()).hexdigest()


def _last_hash(connection: Connection) -> str:
    # The events before the chain began have none: the chain then starts from the genesis value.
    last = connection.execute(select(Event.hash).order_by(Event.id.desc()).limit(1)).scalar()
    return last or GENESIS_HASH


def _start_flush(session: Session, *_args) -> None:
    session.info.pop("audit_chain_head", None)


@event.listens_for(Event, "before_insert")
def _chain(_mapper: Mapper, connection: Connection, target: Event) -> None:
    """Hash the event as it is inserted, at commit, past the registry version's lock: each writer reads the
    head its predecessor committed. Events of one flush chain to each other in insertion (and id) order;
    the head is read again at each flush, never carried from one transaction to the next."""
    session = object_session(target)
    assert session is not None
    if target.occurred_at is None:
        target.occurred_at = utcnow()  # hashed as stored: the column default would come too late
    previous = session.info.get("audit_chain_head") or _last_hash(connection)
    target.hash = session.info["audit_chain_head"] = chained_hash(previous, target)


event.listen(Session, "before_flush", _start_flush)


@dataclass
class Verification:
    """What `verify` found: the events checked, those before the chain began, the expected hashes found, and
    the first event that breaks the chain or an expectation."""

    checked: int = 0
    before_chain: int = 0
    expected_found: int = 0
    broken_at: int | None = None
    reason: str = ""


def verify(session: Session, expected: Iterable[tuple[int, str]] = ()) -> Verification:
    """Walk the events in id order, recomputing each hash from the one before: the first event whose stored
    hash differs (changed, or after a deleted one) breaks the chain, as does a missing hash after it began.

    `expected` holds (event id, hash) pairs kept out of the database's reach (a mirror of the feed): an
    event missing or with another hash breaks it too. A chain rewritten with its hashes recomputed, or cut
    short, is consistent on its own; it no longer holds the hash of the last event a mirror saw.
    """
    result = Verification()
    pending = deque(sorted(expected))
    previous: str | None = None

    def broken(event_id: int, reason: str) -> Verification:
        return replace(result, broken_at=event_id, reason=reason)

    def missing() -> Verification:
        event_id, expected_hash = pending[0]
        return broken(event_id, f"is missing, though expected with hash {expected_hash}")

    for row in session.scalars(select(Event).order_by(Event.id).execution_options(yield_per=1000)):
        if pending and pending[0][0] < row.id:
            return missing()
        if row.hash is None and previous is not None:
            return broken(row.id, "has no hash, after the chain began")
        if row.hash is not None and row.hash != chained_hash(previous or GENESIS_HASH, row):
            return broken(row.id, "does not match its hash")
        while pending and pending[0][0] == row.id:
            if row.hash != pending.popleft()[1]:
                return broken(row.id, f"has hash {row.hash}, not the one expected")
            result.expected_found += 1
        if row.hash is None:
            result.before_chain += 1
        else:
            previous = row.hash
            result.checked += 1
    if pending:
        return missing()
    return result


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
