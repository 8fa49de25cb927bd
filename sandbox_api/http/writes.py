"""The one write path: how every write view loads, checks, changes, records and commits, in that order.

A write view names the resource and its URL's ids, and says only what changes:

    with writes.update(AGENCY, agency_id=agency_id) as write:
        service.update(session=db.session, agency=write.target, changes=changes)
    return write.response

Around the `with` block, in this order:

1. load what the write changes, locked for the transaction: 404, then 403, as the caller may not;
2. its representation before;
3. for PATCH and DELETE, If-Match against it (428 missing, 412 stale): after 404 and 403, not before;
4. the change: the block;
5. the representation after;
6. the event, in the audit log of the same transaction; a deletion's is known, and recorded, before
   the row goes, while what it belonged to can still be read;
7. commit and answer (`idempotency.commit_and_respond`, which keeps an idempotent POST's answer in the
   same transaction); a deletion answers 204, with no body.

Nothing is committed if the block raises: the request's session, and its transaction, end with it.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from flask import Response, url_for

from sandbox_api.http.api import Blueprint
from sandbox_api.http.idempotency import commit_and_respond
from sandbox_api.storage.db import db

CREATE, UPDATE, DELETE, ACT = "create", "update", "delete", "act"


@dataclass(frozen=True)
class Resource:
    """How the write path reaches one kind of resource. Each function is given the write under way:
    its `ids` (the view's URL arguments) and, once loaded, its `target`."""

    # The blueprint that serves it, which checks If-Match (`Blueprint.check_etag`).
    blueprint: Blueprint
    # The resource to change, locked for the transaction; 404 or 403 as the caller may not change it.
    load: Callable[["Write"], Any]
    representation: Callable[["Write"], str]
    # Records the write's event; None when the resource's service records its own (API keys).
    record: Callable[["Write"], None] | None
    # What a new one is created in, locked likewise (a child's case), when the collection's URL names one.
    load_collection: Callable[["Write"], Any] | None = None
    # The view that reads one, and its id in that view's URL: where a created one is (`Location`).
    endpoint: str | None = None
    id_name: str | None = None


class Write:
    """One write request, as a context manager around its change (see the module's docstring)."""

    def __init__(self, kind: str, resource: Resource, ids: dict[str, Any]) -> None:
        self.kind = kind
        self.resource = resource
        self.ids = ids
        # What the write changes; for a creation, what the new one is created in (None if nothing), and
        # then, from `created`, the new one.
        self.target: Any = None
        self.before: str | None = None
        self.after: str | None = None
        # The answer, once the block has run and the write is committed; None for a deletion (204).
        self.response: Response | None = None
        self._action: str | None = None if kind == ACT else kind
        self._details: dict[str, Any] = {}
        self._changed = True
        self._made = False
        self._shown_once: dict[str, Any] = {}

    @property
    def action(self) -> str:
        """The event's action: the kind of write, or what `event` named."""
        if self._action is None:
            raise RuntimeError("A write that acts on a resource names its event: call `write.event(action)`.")
        return self._action

    def created(self, target: Any, new_id: Any, *, shown_once: dict[str, Any] | None = None) -> None:
        """Name what the creation made and its id. `shown_once` adds members to this answer only: a
        replay under the same Idempotency-Key answers without them (a new API key's secret)."""
        self.target, self._made = target, True
        self.ids = {**self.ids, self._id_name: new_id}
        self._shown_once = shown_once or {}

    def event(self, action: str, **details: Any) -> None:
        """Say what the write did, for its event in the audit log, with details such as `note`."""
        self._action, self._details = action, details

    @property
    def event_args(self) -> dict[str, Any]:
        """The event's arguments for the resource's record function: `action`, `before`, `after`, and the
        details that `event` named."""
        return {"action": self.action, "before": self.before, "after": self.after, **self._details}

    def unchanged(self) -> None:
        """The write found nothing to change: it answers the representation before and records no event."""
        self._changed = False

    @property
    def _id_name(self) -> str:
        if self.resource.id_name is None:
            raise RuntimeError("This resource is not created through the write path.")
        return self.resource.id_name

    def _record(self) -> None:
        if self.resource.record is not None:
            self.resource.record(self)

    def __enter__(self) -> "Write":
        resource = self.resource
        if self.kind != CREATE:
            self.target = resource.load(self)
        elif resource.load_collection is not None and self.ids:
            self.target = resource.load_collection(self)
        checks_etag = self.kind in (UPDATE, DELETE)
        if self.kind != CREATE and (checks_etag or resource.record is not None):
            self.before = before = resource.representation(self)
            if checks_etag:
                resource.blueprint.check_etag(before)
        if self.kind == DELETE:
            self._record()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if exc_type is not None:
            return
        if self.kind == DELETE:
            db.session.commit()
            return
        if self.kind == CREATE and not self._made:
            raise RuntimeError("A creation names what it made: call `write.created(target, new_id)`.")
        if not self._changed:
            if self.before is None:
                raise RuntimeError("Only a write that read the representation before can answer with it.")
            self.response = commit_and_respond(self.before)
            return
        self.after = self.resource.representation(self)
        self._record()
        if self.kind != CREATE:
            self.response = commit_and_respond(self.after)
            return
        if self.resource.endpoint is None:
            raise RuntimeError("This resource is not created through the write path.")
        answer = json.dumps({**json.loads(self.after), **self._shown_once}) if self._shown_once else self.after
        location = url_for(self.resource.endpoint, **self.ids)
        self.response = commit_and_respond(answer, 201, location=location, stored_body=self.after)


def create(resource: Resource, **ids: Any) -> Write:
    """A POST that creates a resource in the collection that `ids` name: answers 201 with its `Location`."""
    return Write(CREATE, resource, ids)


def update(resource: Resource, **ids: Any) -> Write:
    """A PATCH: needs If-Match; records `update`."""
    return Write(UPDATE, resource, ids)


def delete(resource: Resource, **ids: Any) -> Write:
    """A DELETE: needs If-Match; records `delete`; answers 204."""
    return Write(DELETE, resource, ids)


def act(resource: Resource, **ids: Any) -> Write:
    """A POST that acts on a resource (a transition, a publication, a curation): no If-Match; the block
    names its event with `write.event`, or calls `write.unchanged()`."""
    return Write(ACT, resource, ids)
