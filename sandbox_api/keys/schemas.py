"""Wire format of API keys: what administrators see of a key, never its secret except once at creation."""

import marshmallow as ma
from marshmallow import validate

from sandbox_api.policy.auth import Role
from sandbox_api.wire.fields import (
    ListQuerySchema,
    Timestamp,
    choice,
    created_at_field,
    filter_values,
    id_field,
    required_text,
    sort_field,
    text,
)

MAX_LIFETIME_DAYS = 3 * 365
MAX_OVERLAP_HOURS = 30 * 24


class ApiKeySchema(ma.Schema):
    """An API key as administrators see it: who holds it, what it may do, when it works."""

    id = id_field()
    name = required_text(200, "Who or what holds the key, e.g. `MOE integration`.")
    role = choice(
        Role,
        "`agency` (bound to one agency), `naio` (reviews and curates every case) or `admin` (agencies and keys).",
        required=True,
    )
    agency_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "The agency an `agency` key acts for; required for `agency` keys, null otherwise."},
    )
    prefix = ma.fields.String(
        dump_only=True,
        metadata={"description": "The key's public part, `sbx_<prefix>_...`: it names the key in logs and the CLI."},
    )
    created_at = created_at_field()
    expires_at = Timestamp(
        metadata={
            "description": "When the key stops working (UTC); in the future, at most "
            f"{MAX_LIFETIME_DAYS} days ahead. Defaults to a year after creation: every key expires."
        }
    )
    revoked_at = Timestamp(dump_only=True, allow_none=True, metadata={"description": "When it was revoked, if it was."})
    last_used_at = Timestamp(
        dump_only=True,
        allow_none=True,
        metadata={"description": "When it last authenticated a request, to the minute; null if never."},
    )


class CreatedApiKeySchema(ApiKeySchema):
    """A new API key with its secret, which this answer shows once and the registry never stores."""

    key = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "The key to send as `Authorization: Bearer <key>`. Store it now: it is not stored, "
            "and a replay of this request under its `Idempotency-Key` answers without it."
        },
    )


class KeyRotationSchema(ma.Schema):
    """Replace a key by a new one, keeping both usable while the holder switches."""

    overlap_hours = ma.fields.Integer(
        load_default=24,
        validate=validate.Range(min=0, max=MAX_OVERLAP_HOURS),
        metadata={
            "description": "How long the old key keeps working beside the new one (0 ends it now); "
            f"at most {MAX_OVERLAP_HOURS} hours. It never extends the old key's expiry."
        },
    )


class KeyRevocationSchema(ma.Schema):
    """Revoke a key at once, e.g. because it leaked."""

    note = text(2000, "Why the key is revoked; kept in the audit trail.", allow_none=True)


class KeyListQuerySchema(ListQuerySchema):
    role = filter_values(choice(Role, "Role."), "Only keys of this role.")
    agency_id = filter_values(ma.fields.UUID(), "Only keys of this agency.")
    active = ma.fields.Boolean(
        metadata={"description": "`true`: only keys that work now (not revoked, not expired); `false`: the others."}
    )
    sort = sort_field(("created_at", "name", "expires_at", "last_used_at"), "created_at")
