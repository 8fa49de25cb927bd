"""Wire format of events: a case's history and the change feed."""

import re

import marshmallow as ma
from marshmallow import validate

from sandbox_api.policy.auth import Role
from sandbox_api.wire.fields import CONDITIONAL, Choice, ListQuerySchema, Timestamp, sort_field

FEED_DEFAULT_LIMIT = 100
FEED_MAX_LIMIT = 1000
KEYED_ONLY = " Left out of answers to callers without a key."
# A feed cursor is an event id: ASCII decimal digits, no leading zero, at most the 19 digits of a 64-bit id.
# Python's `$` also matches before a final line feed, ECMA-262's (the published pattern's) does not: `\Z`.
CURSOR_PATTERN = "^(0|[1-9][0-9]{0,18})$"
CURSOR = validate.Regexp(
    re.compile(r"(0|[1-9][0-9]{0,18})\Z"), error="Not an event id: ASCII digits, without leading zeros."
)


def cursor_field(description: str, **kwargs) -> ma.fields.String:
    return ma.fields.String(
        validate=[validate.Length(max=19), CURSOR],
        metadata={"description": description, "pattern": CURSOR_PATTERN},
        **kwargs,
    )


class EventSchema(ma.Schema):
    """One write to the registry, as the audit trail keeps it."""

    id = ma.fields.Integer(
        dump_only=True,
        metadata={
            "description": "Position in the trail; grows in the order writes committed. It is the change feed's "
            "cursor: send it as `after` to read the events after this one."
        },
    )
    occurred_at = Timestamp(dump_only=True, metadata={"description": "When the write committed (UTC)."})
    actor_key_id = ma.fields.UUID(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The API key that wrote; null for the CLI." + KEYED_ONLY, CONDITIONAL: True},
    )
    actor_role = Choice(
        Role,
        by_value=True,
        dump_only=True,
        allow_none=True,
        metadata={"description": "The role of that key." + KEYED_ONLY, CONDITIONAL: True},
    )
    actor_agency_id = ma.fields.UUID(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The agency of that key, for an `agency` key." + KEYED_ONLY, CONDITIONAL: True},
    )
    action = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "`create`, `update`, `delete`; a lifecycle action (`submit`, `admit`, ...); `publish`, "
            "`unpublish`; `curate`; `revoke`, `rotate` for keys."
        },
    )
    entity_type = ma.fields.String(
        dump_only=True,
        metadata={"description": "`agency`, `case`, `risk`, `outcome`, `lesson`, `adoption` or `api_key`."},
    )
    entity_id = ma.fields.UUID(dump_only=True, metadata={"description": "The record written."})
    case_id = ma.fields.UUID(
        dump_only=True, allow_none=True, metadata={"description": "The case the record belongs to, if any."}
    )
    case_agency_id = ma.fields.UUID(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The agency that owned the case when the event happened." + KEYED_ONLY,
            CONDITIONAL: True,
        },
    )
    public = ma.fields.Boolean(
        dump_only=True,
        metadata={
            "description": "Whether callers without a key may read the event." + KEYED_ONLY,
            CONDITIONAL: True,
        },
    )
    changes = ma.fields.Dict(
        dump_only=True,
        metadata={
            "description": "`{field: [old, new]}` for every field of the record's representation that changed; "
            "a create has `null` old values, a delete `null` new values."
        },
    )
    snapshot = ma.fields.Dict(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "Only on `publish`: the published case as anyone may read it, with its `risks`, "
            "`outcomes`, `lessons` and the `adoptions` between it and other published cases."
        },
    )
    note = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Why, as the writer said (e.g. a review note)." + KEYED_ONLY, CONDITIONAL: True},
    )
    request_id = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The `X-Request-ID` of the request that wrote." + KEYED_ONLY, CONDITIONAL: True},
    )
    hash = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "SHA-256 (hex) of the previous event's `hash` and of this event's canonical content "
            "(docs/api-conventions.md, *The hash chain*): keep the hashes you mirror to check the registry's "
            "trail against them. Null for events recorded before the chain began.",
            "pattern": "^[0-9a-f]{64}$",
        },
    )


class PublicEventSchema(EventSchema):
    """What callers without a key see of an event: no actor, note or request, no contact details."""

    changes = ma.fields.Dict(attribute="public_changes", dump_only=True)

    class Meta:
        exclude = ("actor_key_id", "actor_role", "actor_agency_id", "case_agency_id", "public", "note", "request_id")


class HistoryQuerySchema(ListQuerySchema):
    sort = sort_field(("id",), "id")


class FeedQuerySchema(ma.Schema):
    after = cursor_field(
        "The `next` of the previous answer, or the `id` of the last event read; omit it to start from the "
        "beginning. An id after the last event answers an empty page."
    )
    limit = ma.fields.Integer(
        load_default=FEED_DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=FEED_MAX_LIMIT),
        metadata={"description": "Most events to return."},
    )


class FeedSchema(ma.Schema):
    """A page of the change feed."""

    events = ma.fields.List(
        ma.fields.Nested(EventSchema),
        dump_only=True,
        validate=validate.Length(max=FEED_MAX_LIMIT),
        metadata={"description": "Events after the cursor, oldest first (anonymous callers: without actor fields)."},
    )
    next = cursor_field(
        "The `id` of the last event of `events`, to send as `after` next time; when `events` is empty, the "
        "`after` sent (`0` without one).",
        dump_only=True,
    )
