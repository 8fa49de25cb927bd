"""Creating, checking and revoking API keys; a key is shown once and only its hash is kept."""

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox_api.agencies.models import Agency
from sandbox_api.db import utcnow
from sandbox_api.errors import NotFound, Unprocessable
from sandbox_api.keys.models import ApiKey, Role

KEY_SCHEME = "sbx"


def _hash_secret(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough: there is no dictionary to try.
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    *,
    session: Session,
    role: Role,
    name: str,
    agency_slug: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plain text, which is never stored."""
    agency_id = None
    if role == Role.AGENCY:
        if not agency_slug:
            raise Unprocessable("An agency key must name its agency.")
        agency_id = session.scalar(select(Agency.id).where(Agency.slug == agency_slug))
        if agency_id is None:
            raise NotFound(f"No agency has the slug {agency_slug!r}.")
    elif agency_slug:
        raise Unprocessable(f"A {role} key is not bound to an agency.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        role=role,
        agency_id=agency_id,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return key, f"{KEY_SCHEME}_{prefix}_{secret}"


def authenticate(*, session: Session, token: str) -> ApiKey | None:
    """The live key that the token names, or None; the secret is compared in constant time."""
    scheme, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(secret)):
        return None
    now = utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    return key


def revoke(*, session: Session, key_ref: str) -> ApiKey:
    """Revoke a key named by its id or its prefix."""
    try:
        condition = ApiKey.id == uuid.UUID(key_ref)
    except ValueError:
        condition = ApiKey.prefix == key_ref
    key = session.scalar(select(ApiKey).where(condition))
    if key is None:
        raise NotFound(f"No API key has the id or prefix {key_ref!r}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
