"""The audit trail's hash chain: every event hashed at commit, `flask audit verify` finding what was changed
behind the append-only triggers' back (with `--expect`, even a tail rewritten or cut off with its hashes
recomputed), and the feed's hashes recomputable by an outside reader."""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import Engine, insert, select, text

from sandbox_api.policy.audit import Event, chained_hash
from sandbox_api.policy.auth import Role
from sandbox_api.storage.db import db, insert_in_commit_order
from tests.conftest import Actor, bearer, committed_app, create_case, make_key

GENESIS = "0" * 64


def verify(app: Flask, *expected: tuple[int, str]):
    """`flask audit verify`, with an `--expect ID:HASH` for each expected event."""
    options = [f"--expect={event_id}:{digest}" for event_id, digest in expected]
    return app.test_cli_runner().invoke(args=["audit", "verify", *options])


def stored_hashes(app: Flask) -> dict[int, str | None]:
    with app.app_context(), db.new_session(write=False) as session:
        return dict(session.execute(select(Event.id, Event.hash).order_by(Event.id)).all())


def integral_floats_as_integers(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {name: integral_floats_as_integers(member) for name, member in value.items()}
    if isinstance(value, list):
        return [integral_floats_as_integers(member) for member in value]
    return value


def outside_hash(previous: str, event: dict) -> str:
    """The hash as docs/api-conventions.md tells a reader to compute it from a feed event, with nothing of
    the application."""
    content = {name: integral_floats_as_integers(value) for name, value in event.items() if name not in ("id", "hash")}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((previous + canonical).encode()).hexdigest()


def test_writes_through_the_api_make_a_chain_that_verifies(app, naio: Actor, owner_a: Actor, case_a: dict):
    owner_a.edit(f"/api/v1/cases/{case_a['id']}", {"title": "Pendidikan GPT — fasa 2 ✓"})

    result = verify(app)

    assert result.exit_code == 0, result.output
    hashes = stored_hashes(app)
    assert len(hashes) >= 3 and None not in hashes.values()
    assert f"OK: {len(hashes)} events chained, 0 recorded before the chain began." in result.output


def test_what_is_hashed_at_insert_is_what_is_read_back(app, naio: Actor):
    # JSON that a database could give back otherwise: integral floats (PostgreSQL's JSONB keeps decimals),
    # tiny and huge numbers, unsorted and non-ASCII keys, escapes; a timestamp on a whole second.
    awkward = {
        "z": [2.0, 0.1, 1e-07, 1e16, -0.0, 12345678.9, 2**62, True, None],
        "é": {"b": 'tab\tquote"backslash\\ \u2028 𝄞 جاوي', "a": []},
    }
    with app.app_context(), db.transaction() as session:
        for microsecond in (0, 1):
            insert_in_commit_order(
                session,
                Event(
                    occurred_at=datetime(2026, 12, 7, 12, 0, 0, microsecond, tzinfo=UTC),
                    actor_role=Role.NAIO,
                    action="update",
                    entity_type="case",
                    entity_id=uuid.uuid4(),
                    public=True,
                    changes=awkward,
                    snapshot=awkward,
                    note="Ünïcode",
                ),
            )

    result = verify(app)

    assert result.exit_code == 0, result.output
    assert "OK: 3 events chained" in result.output  # and the NAIO key's creation
    events = naio.get("/api/v1/changes").json["events"]
    assert events[-1]["changes"] == json.loads(json.dumps(awkward))
    previous = GENESIS
    for event in events:
        assert event["hash"] == outside_hash(previous, event), event["id"]
        previous = event["hash"]


def test_events_of_one_transaction_chain_to_each_other(app, admin: Actor):
    created = admin.post("/api/v1/keys", json={"name": "Rotated", "role": "naio"})
    assert created.status_code == 201, created.json
    # A rotation records two events, the old key's and its successor's, in one flush.
    rotated = admin.post(f"/api/v1/keys/{created.json['id']}/rotation", json={"overlap_hours": 1})
    assert rotated.status_code == 201, rotated.json

    result = verify(app)

    assert result.exit_code == 0, result.output


@pytest.fixture
def registry(fresh_engine: Engine) -> Flask:
    """A committed registry with a few events: an agency, a key, a case and its edit."""
    app = committed_app(fresh_engine)
    admin = bearer(make_key(Role.ADMIN))
    client = app.test_client()
    client.post("/api/v1/agencies", json={"slug": "moe", "name": "MOE", "kind": "ministry"}, headers=admin)
    owner = Actor(client, make_key(Role.AGENCY, "moe"))
    case = create_case(owner)
    owner.edit(f"/api/v1/cases/{case['id']}", {"title": "Renamed"})
    return app


def behind_the_triggers(engine: Engine, *statements: str) -> None:
    """Run the statements on the events as someone holding the database's credentials could."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                connection.execute(text(statement))
            return
        triggers = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        ).all()
        for name, _ in triggers:
            connection.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            connection.execute(text(statement))
        for _, sql in triggers:
            connection.execute(text(sql))


@pytest.mark.parametrize(
    ("statement", "reported"),
    [
        ("UPDATE events SET note = 'Nothing to see' WHERE id = :victim", 0),
        ("UPDATE events SET changes = '{}' WHERE id = :victim", 0),
        ("UPDATE events SET occurred_at = occurred_at + INTERVAL '1 second' WHERE id = :victim", 0),
        ("UPDATE events SET hash = NULL WHERE id = :victim", 0),
        ("DELETE FROM events WHERE id = :victim", 1),
    ],
    ids=["note", "changes", "occurred_at", "hash", "deleted"],
)
def test_verify_names_the_first_event_changed_behind_the_triggers(registry: Flask, fresh_engine, statement, reported):
    if fresh_engine.dialect.name == "sqlite" and "INTERVAL" in statement:
        statement = "UPDATE events SET occurred_at = datetime(occurred_at, '+1 second') WHERE id = :victim"
    assert verify(registry).exit_code == 0
    ids = list(stored_hashes(registry))
    victim = ids[len(ids) // 2]

    behind_the_triggers(fresh_engine, statement.replace(":victim", str(victim)))
    result = verify(registry)

    assert result.exit_code == 1
    assert f"Event {ids[ids.index(victim) + reported]} " in result.output


def test_events_from_before_the_chain_are_counted_apart(fresh_engine: Engine):
    # As migration 0013 leaves a registry: the events recorded before it have no hash.
    with fresh_engine.begin() as connection:
        for _ in range(2):
            connection.execute(
                insert(Event).values(
                    occurred_at=datetime.now(UTC),
                    action="create",
                    entity_type="agency",
                    entity_id=uuid.uuid4(),
                    public=True,
                    changes={},
                )
            )
    app = committed_app(fresh_engine)
    client = app.test_client()
    client.post(
        "/api/v1/agencies",
        json={"slug": "moe", "name": "MOE", "kind": "ministry"},
        headers=bearer(make_key(Role.ADMIN)),
    )

    result = verify(app)

    assert result.exit_code == 0, result.output
    assert "recorded before the chain began" in result.output
    hashes = list(stored_hashes(app).values())
    assert hashes[:2] == [None, None] and None not in hashes[2:]
    assert "2 recorded before the chain began" in result.output


def test_the_feed_carries_each_hash_and_a_reader_can_recompute_them(app, client, naio: Actor, owner_a: Actor):
    case = create_case(owner_a, title="Kes ✓", summary='Ringkasan: 50% lebih cepat\n"dipetik"')
    owner_a.edit(f"/api/v1/cases/{case['id']}", {"title": "Kes 2"})

    events = naio.get("/api/v1/changes?limit=1000").json["events"]

    assert {event["id"]: event["hash"] for event in events} == stored_hashes(app)
    previous = GENESIS
    for event in events:
        assert event["hash"] == outside_hash(previous, event), event["id"]
        previous = event["hash"]
    # Callers without a key cannot recompute (they do not see every field), but keep the hashes they mirror.
    public = client.get("/api/v1/changes").json["events"]
    assert public and all(event["hash"] for event in public)


def rewrite_from(app: Flask, engine: Engine, first: int) -> None:
    """Change every event from `first` on and recompute the hashes, as someone who knows the published format
    and holds the database's credentials could: a chain that verifies on its own."""
    with app.app_context(), db.new_session(write=False) as session:
        previous = session.scalar(select(Event.hash).where(Event.id < first).order_by(Event.id.desc()).limit(1))
        events = session.scalars(select(Event).where(Event.id >= first).order_by(Event.id)).all()
        session.expunge_all()
    statements = []
    for event in events:
        event.note = "Nothing to see"
        previous = chained_hash(previous or GENESIS, event)
        statements.append(f"UPDATE events SET note = 'Nothing to see', hash = '{previous}' WHERE id = {event.id}")
    behind_the_triggers(engine, *statements)


def test_verify_finds_the_hashes_a_mirror_kept(registry: Flask):
    # What a reader without a key mirrored of the feed, and the latest event of all, as a NAIO mirror holds it.
    mirrored = registry.test_client().get("/api/v1/changes").json["events"]
    expected = [(event["id"], event["hash"]) for event in mirrored] + [list(stored_hashes(registry).items())[-1]]

    result = verify(registry, *expected)

    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"; expected hashes found: {len(expected)}.")


@pytest.mark.parametrize(
    ("change", "reported"),
    [("rewritten", "has hash {stored}, not the one expected"), ("cut off", "is missing, though expected with hash")],
)
def test_a_tail_changed_with_its_hashes_recomputed_verifies_but_not_against_a_mirror(
    registry: Flask, fresh_engine: Engine, change: str, reported: str
):
    hashes = stored_hashes(registry)
    ids = list(hashes)
    first_changed, last = ids[len(ids) // 2], ids[-1]
    before = ids[ids.index(first_changed) - 1]

    if change == "rewritten":
        rewrite_from(registry, fresh_engine, first_changed)
    else:
        behind_the_triggers(fresh_engine, f"DELETE FROM events WHERE id >= {first_changed}")

    assert verify(registry).exit_code == 0
    # A mirror that read up to the last event sees the change; one that stopped before it cannot.
    result = verify(registry, (last, hashes[last]))
    assert result.exit_code == 1
    assert f"Event {last} {reported.format(stored=stored_hashes(registry).get(last))}" in result.output
    assert verify(registry, (before, hashes[before])).exit_code == 0


def test_the_first_event_that_breaks_the_chain_or_an_expectation_is_named(registry: Flask, fresh_engine: Engine):
    hashes = stored_hashes(registry)
    ids = list(hashes)
    behind_the_triggers(fresh_engine, f"DELETE FROM events WHERE id = {ids[1]}")

    # The deleted event comes before the next one, whose hash no longer matches.
    result = verify(registry, (ids[1], hashes[ids[1]]), (ids[-1], "0" * 64))

    assert result.exit_code == 1
    assert f"Event {ids[1]} is missing" in result.output


@pytest.mark.parametrize("value", ["12", f"12:{'A' * 64}", f"0:{'a' * 64}", f"12:{'a' * 63}", f"x:{'a' * 64}"])
def test_an_expectation_not_written_id_colon_hash_is_a_usage_error(registry: Flask, value: str):
    result = registry.test_cli_runner().invoke(args=["audit", "verify", "--expect", value])

    assert result.exit_code == 2
    assert "is not an event id, a colon and the event's 64 lowercase hexadecimal digits" in result.output
