"""HTTP routes for API keys: administrators create, rotate and revoke them."""

from datetime import timedelta

from flask.views import MethodView

from sandbox_api.http import writes
from sandbox_api.http.api import Blueprint
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.http.responses import json_response
from sandbox_api.keys import examples, service
from sandbox_api.keys.models import ApiKey
from sandbox_api.keys.schemas import (
    ApiKeySchema,
    CreatedApiKeySchema,
    KeyListQuerySchema,
    KeyRevocationSchema,
    KeyRotationSchema,
)
from sandbox_api.policy.auth import Role, allow
from sandbox_api.storage.db import db

blp = Blueprint(
    "keys",
    __name__,
    url_prefix="/api/v1/keys",
    description="API keys: who may write to the registry. Administrators only; a key's secret is shown once.",
)

ADMIN = allow(Role.ADMIN)


def _key_for_update(write: writes.Write) -> ApiKey:
    return service.get(session=db.session, key_id=write.ids["key_id"], for_update=True)


# The key service records the events of its writes itself. A new key answers 201 with its secret, which a
# replay of the request leaves out (`shown_once`): only the key's hash is kept. A rotation creates the
# successor of the key it names.
KEY = writes.Resource(
    blp,
    load=_key_for_update,
    representation=lambda write: service.representation(session=db.session, key_id=write.ids["key_id"]),
    record=None,
    load_collection=_key_for_update,
    endpoint="keys.KeyByIdViews",
    id_name="key_id",
)


@blp.route("")
class KeyViews(MethodView):
    @blp.policy(ADMIN)
    @blp.arguments(KeyListQuerySchema(), location="query")
    @blp.response(200, ApiKeySchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query):
        """List API keys

        Never shows a secret. `active=true` lists the keys that work now.
        """
        statement = service.list_statement(
            role=query.get("role"), agency_id=query.get("agency_id"), active=query.get("active"), sort=query["sort"]
        )
        return paginate(db.session, statement, ApiKeySchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(ADMIN)
    @blp.arguments(ApiKeySchema, example=examples.NEW_KEY)
    @blp.response(201, CreatedApiKeySchema)
    def post(self, key_in):
        """Create an API key

        The answer carries the key itself, `sbx_<prefix>_<secret>`, this once: only a hash of the secret is
        kept. An `agency` key names its agency; an agency holds at most two working keys (409 beyond), so
        that a key can be rotated without downtime. Every key expires, a year after creation by default.
        """
        with writes.create(KEY) as write:
            key, plain_text = service.create(session=db.session, **key_in)
            write.created(key, key.id, shown_once={"key": plain_text})
        return write.response


@blp.route("/<uuid:key_id>")
class KeyByIdViews(MethodView):
    @blp.policy(ADMIN)
    @blp.response(200, ApiKeySchema)
    def get(self, key_id):
        """Read an API key"""
        return json_response(service.representation(session=db.session, key_id=key_id))


@blp.route("/<uuid:key_id>/rotation")
class KeyRotationViews(MethodView):
    @blp.policy(ADMIN)
    @blp.arguments(KeyRotationSchema, example=examples.ROTATION)
    @blp.response(201, CreatedApiKeySchema)
    def post(self, rotation, key_id):
        """Rotate an API key

        Creates its successor (same name, role and agency), shown once as at creation, and lets the old key
        work on for `overlap_hours` so that its holder can switch without downtime. The successor counts
        towards the agency's two working keys: with two already, revoke one first (409). Only a working key
        can be rotated (409).
        """
        with writes.create(KEY, key_id=key_id) as write:
            successor, plain_text = service.rotate(
                session=db.session, key=write.target, overlap=timedelta(hours=rotation["overlap_hours"])
            )
            write.created(successor, successor.id, shown_once={"key": plain_text})
        return write.response


@blp.route("/<uuid:key_id>/revocation")
class KeyRevocationViews(MethodView):
    @blp.policy(ADMIN)
    @blp.arguments(KeyRevocationSchema, example=examples.REVOCATION)
    @blp.response(200, ApiKeySchema)
    def post(self, revocation, key_id):
        """Revoke an API key

        The key stops working at once, for good. Revoking a revoked key changes nothing and records no event.
        """
        with writes.act(KEY, key_id=key_id) as write:
            service.revoke(session=db.session, key=write.target, note=revocation.get("note"))
        return write.response
