"""API keys from the command line and the admin routes: shown once, stored hashed, rotated, revoked, expiring."""

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from sandbox_api.keys.models import ApiKey
from sandbox_api.storage.db import db, utcnow
from tests.conftest import bearer, create_key, key_body


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_keys_create_prints_the_key_alone_on_its_last_line(app, client, agency_a):
    result = run_cli(
        app, "keys", "create", "--role", "agency", "--agency", agency_a["slug"], "--name", "MOE integration"
    )

    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("sbx_") and " " not in key
    # Which database it went to: a key written elsewhere than the server's database is unknown to it.
    assert f"in {db.engine.url.render_as_string(hide_password=True)}." in result.output
    response = client.post(
        "/api/v1/cases",
        json={"title": "t", "summary": "s", "primary_sector": "education", "sandbox_type": "testbed"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201
    assert response.json["lead_agency_id"] == agency_a["id"]


def test_only_a_hash_of_the_secret_is_stored(app):
    key = run_cli(app, "keys", "create", "--role", "naio", "--name", "NAIO analyst").output.strip().splitlines()[-1]
    _, prefix, secret = key.split("_", 2)

    with db.new_session(write=False) as session:
        stored = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    assert stored is not None
    assert secret not in (stored.secret_hash, stored.name, stored.prefix)


def test_an_agency_key_needs_an_existing_agency(app):
    assert run_cli(app, "keys", "create", "--role", "agency", "--name", "x").exit_code != 0
    assert run_cli(app, "keys", "create", "--role", "agency", "--agency", "nope", "--name", "x").exit_code != 0
    assert run_cli(app, "keys", "create", "--role", "naio", "--agency", "nope", "--name", "x").exit_code != 0


def test_a_revoked_key_is_refused(app, client):
    key = run_cli(app, "keys", "create", "--role", "naio", "--name", "leaked").output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post("/api/v1/cases", json={}, headers=headers).status_code == 422

    result = run_cli(app, "keys", "revoke", key.split("_")[1])

    assert result.exit_code == 0, result.output
    assert client.post("/api/v1/cases", json={}, headers=headers).status_code == 401


def test_an_expired_key_is_refused(app, client):
    key = run_cli(app, "keys", "create", "--role", "naio", "--name", "old").output.strip().splitlines()[-1]
    with db.new_session(write=True) as session:
        stored = session.scalar(select(ApiKey).where(ApiKey.prefix == key.split("_")[1]))
        stored.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()

    assert client.post("/api/v1/cases", json={}, headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_a_key_with_the_right_prefix_and_a_wrong_secret_is_refused(app, client):
    key = run_cli(app, "keys", "create", "--role", "naio", "--name", "n").output.strip().splitlines()[-1]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")

    assert client.post("/api/v1/cases", json={}, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


# Keys through the API: administrators create, rotate and revoke them.


def test_an_admin_creates_a_key_that_is_shown_once_and_works_for_its_agency(admin, client, agency_a):
    created = admin.post("/api/v1/keys", json=key_body(agency_id=agency_a["id"]))

    assert created.status_code == 201, created.json
    key = created.json["key"]
    assert key.startswith(f"sbx_{created.json['prefix']}_")
    read = admin.get(created.headers["Location"])
    assert read.status_code == 200
    assert "key" not in read.json and key not in read.get_data(as_text=True)
    case = client.post(
        "/api/v1/cases",
        json={"title": "t", "summary": "s", "primary_sector": "health", "sandbox_type": "testbed"},
        headers=bearer(key),
    )
    assert case.status_code == 201
    assert case.json["lead_agency_id"] == agency_a["id"]


def test_every_key_expires_a_year_from_creation_unless_told_otherwise(admin):
    created = create_key(admin, role="naio")

    expires_at = datetime.fromisoformat(created["expires_at"])
    assert timedelta(days=364) < expires_at - utcnow() <= timedelta(days=365)


@pytest.mark.parametrize("expires_in", [timedelta(seconds=-1), timedelta(days=3 * 365 + 1)])
def test_an_expiry_in_the_past_or_too_far_ahead_is_refused(admin, expires_in):
    expires_at = (utcnow() + expires_in).isoformat()
    response = admin.post("/api/v1/keys", json=key_body(role="naio", expires_at=expires_at))

    assert response.status_code == 422
    assert "expires_at" in response.json["errors"]["json"]


def test_only_admins_manage_keys(client, naio, owner_a, agency_a):
    body = {"name": "x", "role": "admin"}

    assert client.post("/api/v1/keys", json=body).status_code == 401
    assert naio.post("/api/v1/keys", json=body).status_code == 403
    assert owner_a.post("/api/v1/keys", json=body).status_code == 403
    assert naio.get("/api/v1/keys").status_code == 403
    assert client.get("/api/v1/keys").status_code == 401


def test_an_agency_key_names_an_existing_agency_and_other_keys_none(admin, agency_a):
    assert admin.post("/api/v1/keys", json=key_body()).status_code == 422
    assert admin.post("/api/v1/keys", json=key_body(agency_id=str(uuid.uuid4()))).status_code == 422
    assert admin.post("/api/v1/keys", json=key_body(role="naio", agency_id=agency_a["id"])).status_code == 422


def test_an_agency_holds_at_most_two_working_keys(admin, agency_a):
    first = admin.post("/api/v1/keys", json=key_body(agency_id=agency_a["id"]))
    second = admin.post("/api/v1/keys", json=key_body(agency_id=agency_a["id"]))
    third = admin.post("/api/v1/keys", json=key_body(agency_id=agency_a["id"]))

    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 409)
    assert third.content_type == "application/problem+json"
    assert admin.post(f"/api/v1/keys/{first.json['id']}/revocation", json={}).status_code == 200
    assert admin.post("/api/v1/keys", json=key_body(agency_id=agency_a["id"])).status_code == 201


def test_a_rotated_key_works_beside_its_successor_for_the_overlap(admin, client, agency_a):
    old = create_key(admin, agency_id=agency_a["id"])

    rotated = admin.post(f"/api/v1/keys/{old['id']}/rotation", json={"overlap_hours": 2})

    assert rotated.status_code == 201, rotated.json
    successor = rotated.json
    assert (successor["name"], successor["role"], successor["agency_id"]) == (old["name"], "agency", agency_a["id"])
    assert client.get("/api/v1/cases", headers=bearer(successor["key"])).status_code == 200
    assert client.get("/api/v1/cases", headers=bearer(old["key"])).status_code == 200
    old_expiry = datetime.fromisoformat(admin.get(f"/api/v1/keys/{old['id']}").json["expires_at"])
    assert timedelta(hours=1) < old_expiry - utcnow() <= timedelta(hours=2)


def test_a_rotation_without_overlap_ends_the_old_key_now(admin, client, agency_a):
    old = create_key(admin, agency_id=agency_a["id"])

    successor = admin.post(f"/api/v1/keys/{old['id']}/rotation", json={"overlap_hours": 0}).json

    assert client.get("/api/v1/cases", headers=bearer(old["key"])).status_code == 401
    assert client.get("/api/v1/cases", headers=bearer(successor["key"])).status_code == 200


def test_a_rotation_counts_towards_the_two_working_keys(admin, agency_a):
    first = create_key(admin, agency_id=agency_a["id"])
    create_key(admin, agency_id=agency_a["id"])

    assert admin.post(f"/api/v1/keys/{first['id']}/rotation", json={}).status_code == 409


def test_a_revoked_key_is_refused_at_once_and_cannot_be_rotated(admin, client):
    key = create_key(admin, role="naio")

    revoked = admin.post(f"/api/v1/keys/{key['id']}/revocation", json={"note": "leaked in a log"})

    assert revoked.status_code == 200
    assert revoked.json["revoked_at"] is not None
    assert client.get("/api/v1/cases", headers=bearer(key["key"])).status_code == 401
    assert admin.post(f"/api/v1/keys/{key['id']}/rotation", json={}).status_code == 409
    again = admin.post(f"/api/v1/keys/{key['id']}/revocation", json={})
    assert (again.status_code, again.json["revoked_at"]) == (200, revoked.json["revoked_at"])


def test_keys_are_listed_without_secrets_and_filtered_by_whether_they_work(admin, agency_a):
    working = create_key(admin, agency_id=agency_a["id"])
    revoked = create_key(admin, agency_id=agency_a["id"])
    admin.post(f"/api/v1/keys/{revoked['id']}/revocation", json={})

    listed = admin.get("/api/v1/keys", query_string={"agency_id": agency_a["id"], "active": "true"})
    retired = admin.get("/api/v1/keys", query_string={"agency_id": agency_a["id"], "active": "false"})

    assert [key["id"] for key in listed.json] == [working["id"]]
    assert [key["id"] for key in retired.json] == [revoked["id"]]
    assert working["key"] not in listed.get_data(as_text=True)


def test_a_key_records_when_it_was_last_used_to_the_minute(admin, client):
    key = create_key(admin, role="naio")
    assert key["last_used_at"] is None

    client.get("/api/v1/cases", headers=bearer(key["key"]))
    first_use = admin.get(f"/api/v1/keys/{key['id']}").json["last_used_at"]
    client.get("/api/v1/cases", headers=bearer(key["key"]))

    assert first_use is not None
    assert utcnow() - datetime.fromisoformat(first_use) < timedelta(minutes=1)
    assert admin.get(f"/api/v1/keys/{key['id']}").json["last_used_at"] == first_use


def test_a_retried_key_creation_creates_one_key_and_never_replays_its_secret(admin):
    headers = {"Idempotency-Key": "create-naio-key-1"}
    body = {"name": "retry", "role": "naio"}

    first = admin.post("/api/v1/keys", json=body, headers=headers)
    replay = admin.post("/api/v1/keys", json=body, headers=headers)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json["id"] == first.json["id"]
    assert "key" not in replay.json
    assert first.json["key"] not in replay.get_data(as_text=True)
    assert [key["id"] for key in admin.get("/api/v1/keys", query_string={"role": "naio"}).json].count(
        first.json["id"]
    ) == 1


def test_key_writes_are_audited_for_naio_and_admin_only(admin, naio, client, agency_a):
    key = create_key(admin, agency_id=agency_a["id"])
    successor = admin.post(f"/api/v1/keys/{key['id']}/rotation", json={}).json
    admin.post(f"/api/v1/keys/{key['id']}/revocation", json={"note": "rotated out"})

    events = naio.get("/api/v1/changes", query_string={"limit": 100}).json["events"]
    key_events = [(e["action"], e["entity_id"]) for e in events if e["entity_type"] == "api_key"]
    public = client.get("/api/v1/changes", query_string={"limit": 100}).json["events"]

    assert key_events[-4:] == [
        ("create", key["id"]),
        ("rotate", key["id"]),
        ("create", successor["id"]),
        ("revoke", key["id"]),
    ]
    assert not any(e["entity_type"] == "api_key" for e in public)
    assert all(successor["key"] not in str(e) and key["key"] not in str(e) for e in events)


def test_keys_rotate_prints_the_successor_alone_on_its_last_line(app, client):
    old = run_cli(app, "keys", "create", "--role", "naio", "--name", "n").output.strip().splitlines()[-1]

    result = run_cli(app, "keys", "rotate", old.split("_")[1], "--overlap-hours", "0")

    assert result.exit_code == 0, result.output
    new = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/cases", headers=bearer(new)).status_code == 200
    assert client.get("/api/v1/cases", headers=bearer(old)).status_code == 401
