"""Idempotent POSTs: a retried create returns the first answer and creates nothing twice."""

import json

from sandbox_api.policy.auth import Role
from tests.conftest import bearer, case_body, committed_app, in_parallel, make_key
from tests.test_risks_outcomes import RISK


def total(actor, url: str) -> int:
    return json.loads(actor.get(url).headers["X-Pagination"])["total"]


def test_a_retry_with_the_same_key_and_body_returns_the_first_answer(owner_a, naio):
    headers = {"Idempotency-Key": "create-education-gpt-1"}
    first = owner_a.post("/api/v1/cases", json=case_body(), headers=headers)
    retry = owner_a.post("/api/v1/cases", json=case_body(), headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json and retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert total(naio, "/api/v1/cases") == 1
    history = naio.get(f"/api/v1/cases/{first.json['id']}/history").json
    assert [event["action"] for event in history] == ["create"]


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(owner_a, naio):
    headers = {"Idempotency-Key": "k-1"}
    assert owner_a.post("/api/v1/cases", json=case_body(), headers=headers).status_code == 201
    reused = owner_a.post("/api/v1/cases", json=case_body(title="Another pilot"), headers=headers)
    assert reused.status_code == 422 and "Idempotency-Key" in reused.json["errors"]["headers"]
    assert total(naio, "/api/v1/cases") == 1


def test_the_same_key_on_another_route_is_another_request(owner_a, case_a):
    headers = {"Idempotency-Key": "k-2"}
    assert owner_a.post("/api/v1/cases", json=case_body(), headers=headers).status_code == 201
    elsewhere = owner_a.post(f"/api/v1/cases/{case_a['id']}/risks", json=RISK, headers=headers)
    assert elsewhere.status_code == 422


def test_keys_belong_to_the_api_key_that_sent_them(owner_a, naio, agency_a):
    headers = {"Idempotency-Key": "shared-value"}
    mine = owner_a.post("/api/v1/cases", json=case_body(), headers=headers)
    theirs = naio.post("/api/v1/cases", json=case_body(lead_agency_id=agency_a["id"]), headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]


def test_a_failed_request_does_not_use_up_its_key(owner_a, naio):
    headers = {"Idempotency-Key": "k-3"}
    assert owner_a.post("/api/v1/cases", json=case_body(title=""), headers=headers).status_code == 422
    fixed = owner_a.post("/api/v1/cases", json=case_body(), headers=headers)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_a_malformed_key_is_refused(owner_a, naio):
    for key in ("", "a" * 256, "with space", "caf\u00e9"):
        response = owner_a.post("/api/v1/cases", json=case_body(), headers={"Idempotency-Key": key})
        assert response.status_code in (400, 422), key
    assert total(naio, "/api/v1/cases") == 0


def test_lifecycle_actions_replay_too(owner_a, naio, case_a):
    url = f"/api/v1/cases/{case_a['id']}/transitions"
    headers = {"Idempotency-Key": "submit-once"}
    first = owner_a.post(url, json={"action": "submit"}, headers=headers)
    retry = owner_a.post(url, json={"action": "submit"}, headers=headers)
    assert first.status_code == retry.status_code == 200 and retry.json == first.json
    assert [e["action"] for e in naio.get(f"/api/v1/cases/{case_a['id']}/history").json] == ["create", "submit"]


def test_concurrent_requests_with_one_key_create_exactly_one_record(fresh_engine):
    app = committed_app(fresh_engine)
    client = app.test_client()
    admin = bearer(make_key(Role.ADMIN))
    client.post("/api/v1/agencies", json={"slug": "moe", "name": "MOE", "kind": "ministry"}, headers=admin)
    agency = {**bearer(make_key(Role.AGENCY, "moe")), "Idempotency-Key": "one-pilot"}

    responses = in_parallel(6, lambda _: app.test_client().post("/api/v1/cases", json=case_body(), headers=agency))

    assert [response.status_code for response in responses] == [201] * 6
    assert len({response.json["id"] for response in responses}) == 1
    assert sum("Idempotent-Replayed" in response.headers for response in responses) == 5
    naio = bearer(make_key(Role.NAIO))
    assert json.loads(client.get("/api/v1/cases", headers=naio).headers["X-Pagination"])["total"] == 1


def test_a_replay_is_the_original_answer_with_the_headers_that_describe_it(owner_a, case_a):
    # The replay used to leave out the ETag, so a client could not PATCH what it had created without a GET.
    replayed_headers = ("Content-Type", "ETag", "Location")
    for url, body in (
        ("/api/v1/cases", case_body(title="Replayed pilot")),
        (f"/api/v1/cases/{case_a['id']}/risks", RISK),
        (f"/api/v1/cases/{case_a['id']}/transitions", {"action": "submit"}),
    ):
        headers = {"Idempotency-Key": f"replay-{url}"}
        first = owner_a.post(url, json=body, headers=headers)
        retry = owner_a.post(url, json=body, headers=headers)
        assert first.status_code in (200, 201) and retry.status_code == first.status_code, url
        assert retry.get_data() == first.get_data(), url
        assert {name: retry.headers.get(name) for name in replayed_headers} == {
            name: first.headers.get(name) for name in replayed_headers
        }, url
        assert first.headers["ETag"], url
