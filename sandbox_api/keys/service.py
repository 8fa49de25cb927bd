"""Creating, checking, rotating and revoking API keys; a key is shown once and only its hash is kept."""

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from sandbox_api.agencies.models import Agency
from sandbox_api.errors import Conflict, NotFound, Unprocessable
from sandbox_api.keys.models import ApiKey
from sandbox_api.keys.schemas import MAX_LIFETIME_DAYS, ApiKeySchema
from sandbox_api.policy import audit
from sandbox_api.policy.auth import Role
from sandbox_api.storage.db import utcnow
from sandbox_api.storage.rendering import render_one
from sandbox_api.storage.statements import order_by

KEY_SCHEME = "sbx"
# A key's public part: `secrets.token_hex(6)`.
PREFIX = re.compile(r"[0-9a-f]{12}")
DEFAULT_LIFETIME = timedelta(days=365)
# An agency holds at most two working keys: the one in use and, while it rotates, its successor.
MAX_ACTIVE_AGENCY_KEYS = 2
# `last_used_at` is written at most once a minute per key, so that reads do not become writes.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def _hash_secret(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough: there is no dictionary to try.
    return hashlib.sha256(secret.encode()).hexdigest()


def is_active(now: datetime) -> ColumnElement[bool]:
    """SQL truth of "the key works at `now`": not revoked and not expired."""
    return and_(ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now))


def _works(key: ApiKey, now: datetime) -> bool:
    """`is_active` for a loaded key."""
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > now)


def agency_id_for_slug(*, session: Session, slug: str) -> uuid.UUID:
    agency_id = session.scalar(select(Agency.id).where(Agency.slug == slug))
    if agency_id is None:
        raise NotFound(f"No agency has the slug {slug!r}.")
    return agency_id


def _check_holder(session: Session, role: Role, agency_id: uuid.UUID | None) -> None:
    """An agency key names an existing agency that has room for another working key; others name none."""
    if role != Role.AGENCY:
        if agency_id is not None:
            raise Unprocessable(f"A {role} key is not bound to an agency.", errors={"json": {"agency_id": ["Omit."]}})
        return
    if agency_id is None:
        raise Unprocessable("An agency key must name its agency.", errors={"json": {"agency_id": ["Required."]}})
    # Locking the agency serialises concurrent creations for it, so the limit holds under races.
    if session.scalar(select(Agency.id).where(Agency.id == agency_id).with_for_update()) is None:
        raise Unprocessable("`agency_id` names no agency.", errors={"json": {"agency_id": ["No such agency."]}})
    active = session.execute(
        select(func.count()).where(ApiKey.agency_id == agency_id, is_active(utcnow()))
    ).scalar_one()
    if active >= MAX_ACTIVE_AGENCY_KEYS:
        raise Conflict(
            f"The agency already holds {MAX_ACTIVE_AGENCY_KEYS} working keys: revoke one before creating another."
        )


def _check_expiry(expires_at: datetime, now: datetime) -> None:
    if not now < expires_at <= now + timedelta(days=MAX_LIFETIME_DAYS):
        message = f"Must be in the future and at most {MAX_LIFETIME_DAYS} days ahead."
        raise Unprocessable(f"`expires_at`: {message}", errors={"json": {"expires_at": [message]}})


def create(
    *,
    session: Session,
    role: Role,
    name: str,
    agency_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key, with its event, and return it with its plain text, which is never stored. Every key
    expires: a year from now unless `expires_at` says otherwise."""
    key, plain_text = _new_key(session, role=role, name=name, agency_id=agency_id, expires_at=expires_at)
    _record(session, key_id=key.id, action="create", before=None, note=None)
    return key, plain_text


def _new_key(
    session: Session, *, role: Role, name: str, agency_id: uuid.UUID | None, expires_at: datetime | None
) -> tuple[ApiKey, str]:
    now = utcnow()
    expires_at = expires_at or now + DEFAULT_LIFETIME
    _check_expiry(expires_at, now)
    _check_holder(session, role, agency_id)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        role=role,
        agency_id=agency_id,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return key, f"{KEY_SCHEME}_{prefix}_{secret}"


def _prefix_and_secret(token: str) -> tuple[str, str] | None:
    scheme, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not PREFIX.fullmatch(prefix) or not secret:
        return None
    return prefix, secret


def prefix_of(token: str) -> str | None:
    """The prefix that a token names, whether a key has it or not; None for a token not shaped like a key."""
    parts = _prefix_and_secret(token)
    return parts[0] if parts else None


def authenticate(*, session: Session, token: str) -> ApiKey | None:
    """The live key that the token names, or None; the secret is compared in constant time."""
    parts = _prefix_and_secret(token)
    if parts is None:
        return None
    prefix, secret = parts
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(secret)):
        return None
    return key if _works(key, utcnow()) else None


def use_is_due(key: ApiKey) -> bool:
    """Whether `last_used_at` is older than its resolution, and so worth writing."""
    return key.last_used_at is None or key.last_used_at <= utcnow() - LAST_USE_RESOLUTION


def note_use(*, session: Session, key_id: uuid.UUID) -> None:
    """Set the key's `last_used_at` to now, unless a concurrent request just did."""
    now = utcnow()
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USE_RESOLUTION)
        )
        .values(last_used_at=now)
    )


def get(*, session: Session, key_id: uuid.UUID, for_update: bool = False) -> ApiKey:
    statement = select(ApiKey).where(ApiKey.id == key_id)
    if for_update:
        statement = statement.with_for_update()
    key = session.scalar(statement)
    if key is None:
        raise NotFound("No API key has this id.")
    return key


def find(*, session: Session, key_ref: str) -> ApiKey:
    """A key named by its id or its prefix (the CLI's way of naming one)."""
    try:
        condition = ApiKey.id == uuid.UUID(key_ref)
    except ValueError:
        condition = ApiKey.prefix == key_ref
    key = session.scalar(select(ApiKey).where(condition).with_for_update())
    if key is None:
        raise NotFound(f"No API key has the id or prefix {key_ref!r}.")
    return key


def representation(*, session: Session, key_id: uuid.UUID) -> str:
    body = render_one(session, ApiKeySchema, select(ApiKey).where(ApiKey.id == key_id))
    if body is None:
        raise NotFound("No API key has this id.")
    return body


def list_statement(
    *, role: list | None = None, agency_id: list | None = None, active: bool | None = None, sort: str
) -> Select:
    statement = select(ApiKey)
    if role:
        statement = statement.where(ApiKey.role.in_(role))
    if agency_id:
        statement = statement.where(ApiKey.agency_id.in_(agency_id))
    if active is not None:
        working = is_active(utcnow())
        statement = statement.where(working if active else ~working)
    return statement.order_by(*order_by(ApiKey, sort))


def rotate(*, session: Session, key: ApiKey, overlap: timedelta) -> tuple[ApiKey, str]:
    """A successor with the same holder, role and agency; the old key works on for `overlap`, never longer
    than it would have. The successor counts towards the agency's working keys at once. Two events:
    `rotate` on the old key, `create` on its successor."""
    if not _works(key, utcnow()):
        raise Conflict("Only a working key can be rotated; create a new one instead.")
    before = representation(session=session, key_id=key.id)
    successor, plain_text = _new_key(
        session, role=Role(key.role), name=key.name, agency_id=key.agency_id, expires_at=None
    )
    ends = utcnow() + overlap
    if key.expires_at is None or ends < key.expires_at:
        key.expires_at = ends
    session.flush()
    _record(
        session, key_id=key.id, action="rotate", before=before, note=f"Rotated: succeeded by key {successor.prefix}."
    )
    _record(session, key_id=successor.id, action="create", before=None, note=f"Successor of key {key.prefix}.")
    return successor, plain_text


def revoke(*, session: Session, key: ApiKey, note: str | None = None) -> bool:
    """Revoke the key now, with its event; False, and no event, if it already was."""
    if key.revoked_at is not None:
        return False
    before = representation(session=session, key_id=key.id)
    key.revoked_at = utcnow()
    session.flush()
    _record(session, key_id=key.id, action="revoke", before=before, note=note)
    return True


def _record(session: Session, *, key_id: uuid.UUID, action: str, before: str | None, note: str | None) -> None:
    """Audit a write to a key, as it now is; key events are for NAIO and admin only."""
    audit.record(
        session,
        action=action,
        entity_type="api_key",
        entity_id=key_id,
        public=False,
        before=before,
        after=representation(session=session, key_id=key_id),
        note=note,
    )
