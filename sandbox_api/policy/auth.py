"""Roles, the policy that every route declares, and the current caller, identified by its API key.

Keys themselves are a resource (`keys/`); the app hands their registry to `init_app`, so that this layer
imports no resource."""

import enum
import uuid
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flask import Flask, Response, current_app, g, has_app_context, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sandbox_api.errors import Forbidden, Unauthorized
from sandbox_api.storage.db import db

KEY_REGISTRY = "key_registry"


class Role(enum.StrEnum):
    """What an API key may do: `admin` manages agencies and keys, `naio` reviews and publishes, `agency`
    keeps its own agency's cases."""

    ADMIN = "admin"
    NAIO = "naio"
    AGENCY = "agency"


class AuthenticatedKey(Protocol):
    """What authentication reads of a key."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def role(self) -> str: ...

    @property
    def agency_id(self) -> uuid.UUID | None: ...


_Key = TypeVar("_Key", bound=AuthenticatedKey)


class KeyRegistry(Protocol[_Key]):
    """What authentication needs of the API keys (implemented by `keys.service`): `use_is_due` is asked of
    a key that `authenticate` returned."""

    def authenticate(self, *, session: Session, token: str) -> _Key | None: ...

    def prefix_of(self, token: str) -> str | None: ...

    def use_is_due(self, key: _Key) -> bool: ...

    def note_use(self, *, session: Session, key_id: uuid.UUID) -> None: ...


def _keys() -> KeyRegistry[Any]:
    return current_app.extensions[KEY_REGISTRY]


@dataclass(frozen=True)
class Caller:
    """Who is making the request: an API key's identity, or nobody."""

    key_id: uuid.UUID | None = None
    role: Role | None = None
    agency_id: uuid.UUID | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role is None


ANONYMOUS = Caller()


@dataclass(frozen=True)
class Policy:
    """Which roles may call a route; `roles=None` means anyone, with or without a key."""

    roles: frozenset[Role] | None

    def __str__(self) -> str:
        if self.roles is None:
            return "anyone, with or without a key"
        return "keys with role " + " or ".join(f"`{role}`" for role in sorted(self.roles))


PUBLIC = Policy(roles=None)


def allow(*roles: Role) -> Policy:
    return Policy(roles=frozenset(roles))


# Endpoints that flask-smorest and the bundled Swagger UI register, declared here because their
# views are not ours to decorate.
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "swagger_ui.show", "static"})


def current_caller() -> Caller:
    """The request's caller; nobody outside a request (the CLI)."""
    return g.get("caller", ANONYMOUS) if has_app_context() else ANONYMOUS


def endpoint_policy(app: Flask, endpoint: str, method: str) -> Policy | None:
    """The policy declared for one endpoint and method, or None if it declares none."""
    if endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
        return getattr(handler, "policy", None)
    return getattr(view, "policy", None)


def _bearer_token() -> str | None:
    """The token of the Authorization header; None without the header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be `Bearer <key>`.")
    return token.strip()


def presented_key_prefix() -> str | None:
    """The prefix of the key that the request presents, whether a key has it or not; None for a request
    without one, or whose token is not shaped like a key."""
    try:
        token = _bearer_token()
    except Unauthorized:
        return None
    return None if token is None else _keys().prefix_of(token)


def _caller_from_header() -> Caller:
    token = _bearer_token()
    if token is None:
        return ANONYMOUS
    return _caller_with_key(_keys(), token)


def _caller_with_key(keys: KeyRegistry[_Key], token: str) -> Caller:
    key = keys.authenticate(session=db.session, token=token)
    if key is None:
        raise Unauthorized("The API key is unknown, expired or revoked.")
    if keys.use_is_due(key):
        g.key_use_to_note = key.id
    return Caller(key_id=key.id, role=Role(key.role), agency_id=key.agency_id)


def authorize_request() -> None:
    """Deny by default: a route without a declared policy answers 403 to everyone."""
    if request.endpoint is None or request.method == "OPTIONS":
        return  # Flask answers 404/405 or the automatic OPTIONS itself
    g.caller = _caller_from_header()
    policy = endpoint_policy(current_app, request.endpoint, request.method)
    if policy is None:
        current_app.logger.error("no access policy declared for %s %s", request.method, request.endpoint)
        raise Forbidden("This operation is not open to any caller.")
    if policy.roles is None:
        return
    if g.caller.is_anonymous:
        raise Unauthorized("This operation needs an API key: send `Authorization: Bearer <key>`.")
    if g.caller.role not in policy.roles:
        raise Forbidden(f"A key with role `{g.caller.role}` may not do this; it needs {policy}.")


def note_key_use(response: Response) -> Response:
    """After the request: the key's `last_used_at`, in a transaction of its own (a read stays a read until
    here, and a write has committed by now); bookkeeping that may fail without failing the request."""
    key_id = g.pop("key_use_to_note", None)
    if key_id is None:
        return response
    session = db.session
    try:
        session.rollback()  # what a view left uncommitted is never committed here
        _keys().note_use(session=session, key_id=key_id)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.warning("could not record the use of key %s", key_id, exc_info=True)
    return response


def init_app(app: Flask, *, keys: KeyRegistry[_Key]) -> None:
    app.extensions[KEY_REGISTRY] = keys
    app.before_request(authorize_request)
    app.after_request(note_key_use)
