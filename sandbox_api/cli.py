"""Command-line tools: API keys, demo data, the audit trail and a check of stored records."""

import re
from collections.abc import Iterator
from datetime import timedelta

import click
import marshmallow as ma
from flask.cli import AppGroup
from sqlalchemy import select

from sandbox_api.agencies.models import Agency
from sandbox_api.agencies.routes import AGENCY_PATCH
from sandbox_api.cases.models import Case
from sandbox_api.cases.schemas import CaseSchema
from sandbox_api.demo import load
from sandbox_api.http.api import request_body
from sandbox_api.keys import service as keys_service
from sandbox_api.keys.schemas import MAX_LIFETIME_DAYS
from sandbox_api.lessons.models import Lesson, LessonAdoption
from sandbox_api.lessons.routes import ADOPTION_PATCH
from sandbox_api.lessons.schemas import LessonSchema
from sandbox_api.outcomes.models import Outcome
from sandbox_api.outcomes.schemas import OutcomeSchema
from sandbox_api.policy import audit
from sandbox_api.policy.auth import Role
from sandbox_api.risks.models import Risk
from sandbox_api.risks.schemas import RiskSchema
from sandbox_api.storage.db import db, utcnow

keys_cli = AppGroup("keys", help="Create, rotate and revoke API keys (also at /api/v1/keys, for admin keys).")
demo_cli = AppGroup("demo", help="Demo data.")
audit_cli = AppGroup("audit", help="The audit trail.")
records_cli = AppGroup("records", help="Stored records.")


def _database() -> str:
    """The database a command writes to, without its password: a key written to another database than the
    server's is unknown to the server (`DATABASE_URL` must be the same for both)."""
    assert db.engine is not None
    return db.engine.url.render_as_string(hide_password=True)


@keys_cli.command("create")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--agency", "agency_slug", help="The agency's slug; required for an agency key.")
@click.option("--name", required=True, help="Who or what holds the key, e.g. `MOE integration`.")
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, MAX_LIFETIME_DAYS),
    default=365,
    show_default=True,
    help="When the key stops working.",
)
def create_key(role: str, agency_slug: str | None, name: str, expires_in_days: int) -> None:
    """Create a key and print it, alone, on the last line: it is shown only this once."""
    with db.transaction() as session:
        agency_id = keys_service.agency_id_for_slug(session=session, slug=agency_slug) if agency_slug else None
        key, plain_text = keys_service.create(
            session=session,
            role=Role(role),
            name=name,
            agency_id=agency_id,
            expires_at=utcnow() + timedelta(days=expires_in_days),
        )
    click.echo(
        f"Created {key.role} key {key.prefix} ({key.name}) in {_database()}. Store it now; it cannot be shown again:",
        err=True,
    )
    click.echo(plain_text)


@keys_cli.command("rotate")
@click.argument("key_ref")
@click.option("--overlap-hours", type=click.IntRange(0, 720), default=24, show_default=True)
def rotate_key(key_ref: str, overlap_hours: int) -> None:
    """Replace a key, named by its id or prefix, by a new one printed alone on the last line; the old one
    works on for the overlap."""
    with db.transaction() as session:
        key = keys_service.find(session=session, key_ref=key_ref)
        _successor, plain_text = keys_service.rotate(session=session, key=key, overlap=timedelta(hours=overlap_hours))
    click.echo(
        f"Key {key.prefix} in {_database()} works until {key.expires_at:%Y-%m-%d %H:%M} UTC; its successor:", err=True
    )
    click.echo(plain_text)


@keys_cli.command("revoke")
@click.argument("key_ref")
def revoke_key(key_ref: str) -> None:
    """Revoke a key, named by its id or its prefix."""
    with db.transaction() as session:
        key = keys_service.find(session=session, key_ref=key_ref)
        keys_service.revoke(session=session, key=key)
    click.echo(f"Revoked key {key.prefix} ({key.name}) in {_database()}.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Load nothing if the registry already holds a case.")
def load_demo(if_empty: bool) -> None:
    """Load the demo registry; running it again changes nothing."""
    with db.transaction() as session:
        created = load(session=session, if_empty=if_empty)
    click.echo(f"Demo data: {created} cases added." if created else "Demo data: nothing to add.")


class Expectation(click.ParamType):
    """`ID:HASH`: an event's id and its hash as the change feed carried them."""

    name = "ID:HASH"
    _FORM = re.compile(r"([1-9][0-9]{0,18}):([0-9a-f]{64})")

    def convert(self, value, param, ctx) -> tuple[int, str]:
        matched = self._FORM.fullmatch(value)
        if matched is None:
            self.fail(f"{value!r} is not an event id, a colon and the event's 64 lowercase hexadecimal digits.")
        return int(matched[1]), matched[2]


@audit_cli.command("verify")
@click.option(
    "--expect",
    "expected",
    type=Expectation(),
    multiple=True,
    help="An event that must still be there with this hash, as a copy kept elsewhere (a mirror of the change "
    "feed) holds it, e.g. the last one it read; repeatable.",
)
def verify_audit_trail(expected: tuple[tuple[int, str], ...]) -> None:
    """Recompute the events' hash chain in id order; exit 1 naming the first event that breaks it, or that is
    missing or holds another hash than `--expect` says."""
    session = db.snapshot_session()
    try:
        result = audit.verify(session, expected)
    finally:
        session.close()
    if result.broken_at is not None:
        click.echo(f"Event {result.broken_at} {result.reason}: the trail was changed at or before it.", err=True)
        raise SystemExit(1)
    found = f"; expected hashes found: {result.expected_found}" if expected else ""
    click.echo(f"OK: {result.checked} events chained, {result.before_chain} recorded before the chain began{found}.")


# Each record a client may change, with the schema its PATCH body is loaded with.
PATCHABLE: tuple[tuple[type[Agency | Case | Risk | Outcome | Lesson | LessonAdoption], ma.Schema], ...] = (
    (Agency, AGENCY_PATCH),
    (Case, CaseSchema(partial=True)),
    (Risk, RiskSchema(partial=True)),
    (Outcome, OutcomeSchema(partial=True)),
    (Lesson, LessonSchema(partial=True)),
    (LessonAdoption, ADOPTION_PATCH),
)


@records_cli.command("check")
def check_records() -> None:
    """List the stored values that today's input rules refuse (stored under older ones: an upgrade tightened a
    URL, e-mail or text rule), each of which a client sending its record back unchanged would get 422 for;
    exit 1 if there is any."""
    session = db.snapshot_session()
    checked = refused = records_refused = 0
    try:
        for model, patch in PATCHABLE:
            body, represent = request_body(patch), type(patch)()
            assert isinstance(body, ma.Schema)  # an instance's body is an instance
            records = select(model.id, model).order_by(model.id).execution_options(yield_per=500)
            for record_id, record in session.execute(records):
                checked += 1
                errors = list(_flattened(body.validate(_sendable(body, represent.dump(record)))))
                records_refused += bool(errors)
                refused += len(errors)
                for path, message in errors:
                    click.echo(f"{model.__tablename__} {record_id}: {path}: {message}")
    finally:
        session.close()
    if refused:
        click.echo(
            f"{refused} stored values, in {records_refused} of {checked} records, that a client could not send back.",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"OK: {checked} records, every stored value one that a client may send back.")


def _sendable(body: ma.Schema, represented: dict) -> dict:
    """What of a record's representation its PATCH body takes: without read-only fields, at any depth."""
    sendable = {}
    for name, field in body.load_fields.items():
        key = field.data_key or name
        if key not in represented:
            continue
        value = represented[key]
        nested = field.inner if isinstance(field, ma.fields.List) else field
        if isinstance(nested, ma.fields.Nested) and value is not None:
            if isinstance(field, ma.fields.List):
                value = [_sendable(nested.schema, item) for item in value]
            else:
                value = _sendable(nested.schema, value)
        sendable[key] = value
    return sendable


def _flattened(errors: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in errors.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flattened(value, f"{path}.")
        else:
            for message in value:
                yield path, message
