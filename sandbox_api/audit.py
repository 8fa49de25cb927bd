"""One function that records an event in the caller's transaction, and the request id it carries."""

import json
import re
import uuid

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy.orm import Session

from sandbox_api import auth
from sandbox_api.db import insert_in_commit_order
from sandbox_api.events.models import Event

REQUEST_ID_HEADER = "X-Request-ID"
# A request id chosen by the client (or its gateway) is kept if it is short and plain.
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


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
