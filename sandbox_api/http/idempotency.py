"""Idempotent POSTs: a retry with the same `Idempotency-Key` gets the stored answer instead of a second write."""

import hashlib
import re
import uuid
from datetime import datetime, timedelta

from flask import Flask, Response, g, request
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from sandbox_api.errors import Conflict, Unprocessable
from sandbox_api.http.responses import etag_of
from sandbox_api.policy.auth import current_caller
from sandbox_api.storage.db import Base, UTCDateTime, db, utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")

HEADER_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": "A unique value (up to 255 visible ASCII characters, e.g. a UUID) that makes a retry safe: "
    "for 24 hours, the same key with the same request returns the first answer, with "
    f"`{REPLAYED_HEADER}: true`, instead of writing again; with a different request it is refused (422). "
    "Keys are scoped to the API key that sends them. Only successful answers are kept, so a request that "
    "failed may be retried with the same key.",
    "schema": {"type": "string", "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}
OPENAPI_HEADERS = {
    REPLAYED_HEADER: {
        "description": f"`true` when the answer is the stored answer to an earlier request with the same `{HEADER}`; "
        "absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


class IdempotencyRecord(Base):
    """The answer to a POST sent with an Idempotency-Key, written in the same transaction as its effect."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotency_records_api_key_id_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _digest() -> str:
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), request.get_data()])).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_digest != digest:
        message = f"This `{HEADER}` was used for a different request; send a new key for a new request."
        raise Unprocessable(message, errors={"headers": {HEADER: [message]}})
    headers = {REPLAYED_HEADER: "true"}
    if record.location:
        headers["Location"] = record.location
    response = Response(record.body, status=record.status, headers=headers, mimetype="application/json")
    _tag(response)
    return response


def _tag(response: Response) -> None:
    """A write's answer is the resource's representation: its ETag lets the client change it next."""
    if response.status_code in (200, 201):
        response.set_etag(etag_of(response.get_data()))


def _existing(api_key_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
    )


def claim_key() -> Response | None:
    """Before a POST that carries a key: replay the stored answer, or claim the key for this request.

    The claim is a row inserted in the request's transaction. A concurrent request with the same key
    waits on that row (SQLite's write lock; PostgreSQL's unique index) until the first commits, then
    replays its answer; if the first fails, its claim vanishes with its transaction.
    """
    key = request.headers.get(HEADER)
    caller = current_caller()
    if request.method != "POST" or key is None or caller.key_id is None:
        return None
    if not _KEY_PATTERN.match(key):
        message = "Must be 1 to 255 visible ASCII characters."
        raise Unprocessable(f"`{HEADER}`: {message}", errors={"headers": {HEADER: [message]}})
    digest = _digest()
    record = _existing(caller.key_id, key)
    if record is not None and record.created_at > utcnow() - RETENTION:
        return _replay(record, digest)
    if record is not None:
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
    claim = IdempotencyRecord(api_key_id=caller.key_id, key=key, request_digest=digest)
    db.session.add(claim)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent request holding the same key committed first: answer as it did.
        db.session.rollback()
        if (record := _existing(caller.key_id, key)) is None:
            raise Conflict(f"A request with this `{HEADER}` was in progress; retry it.") from None
        return _replay(record, digest)
    g.idempotency_claim = claim
    return None


def commit_and_respond(
    body: str, status: int = 200, *, location: str | None = None, stored_body: str | None = None
) -> Response:
    """Commit the request's transaction and answer; under an Idempotency-Key the answer is stored in
    that same transaction, so it exists exactly when the write does. `stored_body` is what a replay
    answers instead of `body`, when the answer holds a secret that must not be stored (a new API key)."""
    claim: IdempotencyRecord | None = g.pop("idempotency_claim", None)
    if claim is not None:
        claim.status, claim.body, claim.location = status, stored_body or body, location
    db.session.commit()
    response = Response(body, status=status, mimetype="application/json")
    if location:
        response.headers["Location"] = location
    _tag(response)
    return response


def init_app(app: Flask) -> None:
    app.before_request(claim_key)
