"""API keys from the command line: shown once, stored hashed, revocable, and they expire."""

from datetime import timedelta

from sqlalchemy import select

from sandbox_api.db import db, utcnow
from sandbox_api.keys.models import ApiKey


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_keys_create_prints_the_key_alone_on_its_last_line(app, client, agency_a):
    result = run_cli(
        app, "keys", "create", "--role", "agency", "--agency", agency_a["slug"], "--name", "MOE integration"
    )

    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("sbx_") and " " not in key
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
