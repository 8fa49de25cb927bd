"""A pilot's lifecycle and publication: who may take which action from which status."""

import pytest

from tests.conftest import case_body, publish

EXIT = {"decision": "scale", "summary": "Worked; scale to every state.", "decided_on": "2026-06-30"}
# How to reach each status from draft: (action, who) in order; "owner" is the owning agency.
PATHS = {
    "draft": [],
    "submitted": [("submit", "owner")],
    "admitted": [("submit", "owner"), ("admit", "naio")],
    "rejected": [("submit", "owner"), ("reject", "naio")],
    "active": [("submit", "owner"), ("admit", "naio"), ("start", "owner")],
    "suspended": [("submit", "owner"), ("admit", "naio"), ("start", "naio"), ("suspend", "naio")],
    "exited": [("submit", "owner"), ("admit", "naio"), ("start", "owner"), ("exit", "owner")],
    "withdrawn": [("withdraw", "owner")],
}
# docs/domain.md: the statuses each action starts from.
SOURCES = {
    "submit": {"draft"},
    "return": {"submitted"},
    "admit": {"submitted"},
    "reject": {"submitted"},
    "start": {"admitted"},
    "suspend": {"active"},
    "resume": {"suspended"},
    "exit": {"active", "suspended"},
    "withdraw": {"draft", "submitted", "admitted", "active", "suspended"},
}
NAIO_ONLY = {"return", "admit", "reject", "suspend", "resume"}
OWNER_ONLY = {"submit"}


def transition_body(action: str) -> dict:
    body: dict = {"action": action, "note": "Reviewed."}
    if action == "exit":
        body["exit"] = EXIT
    return body


def take(actors: dict, case: dict, action: str, who: str):
    return actors[who].post(f"/api/v1/cases/{case['id']}/transitions", json=transition_body(action))


@pytest.fixture
def actors(owner_a, naio) -> dict:
    return {"owner": owner_a, "naio": naio}


def reach(actors: dict, case: dict, status: str) -> dict:
    for action, who in PATHS[status]:
        response = take(actors, case, action, who)
        assert response.status_code == 200, response.json
    return actors["naio"].get(f"/api/v1/cases/{case['id']}").json


def test_a_pilot_goes_from_draft_to_exit(actors, case_a):
    assert case_a["status"] == "draft"
    for action, who, status in [
        ("submit", "owner", "submitted"),
        ("return", "naio", "draft"),
        ("submit", "owner", "submitted"),
        ("admit", "naio", "admitted"),
        ("start", "owner", "active"),
        ("suspend", "naio", "suspended"),
        ("resume", "naio", "active"),
        ("exit", "owner", "exited"),
    ]:
        response = take(actors, case_a, action, who)
        assert response.status_code == 200, (action, response.json)
        assert response.json["status"] == status
        assert response.json["status_changed_at"] >= case_a["status_changed_at"]
    assert response.json["exit"] == {**EXIT, "report_url": None}


@pytest.mark.parametrize("status", sorted(PATHS))
def test_every_action_not_allowed_from_a_status_is_a_conflict_naming_the_allowed_ones(actors, case_a, status):
    reach(actors, case_a, status)
    for action in sorted(set(SOURCES) - {a for a, sources in SOURCES.items() if status in sources}):
        who = "owner" if action in OWNER_ONLY else "naio"
        before = actors["naio"].get(f"/api/v1/cases/{case_a['id']}").json
        response = take(actors, case_a, action, who)
        assert response.status_code == 409, (status, action, response.json)
        allowed_for_who = {
            a
            for a, sources in SOURCES.items()
            if status in sources and a not in (NAIO_ONLY if who == "owner" else OWNER_ONLY)
        }
        assert set(response.json["allowed_actions"]) == allowed_for_who
        assert actors["naio"].get(f"/api/v1/cases/{case_a['id']}").json == before


@pytest.mark.parametrize("action", sorted(NAIO_ONLY))
def test_an_agency_may_not_take_naio_actions_on_its_own_case(actors, case_a, action):
    reach(actors, case_a, "submitted" if action in {"return", "admit", "reject"} else "active")
    assert take(actors, case_a, action, "owner").status_code == 403


def test_naio_may_not_submit_for_an_agency(actors, case_a):
    assert take(actors, case_a, "submit", "naio").status_code == 403


def test_other_callers_may_not_move_a_case(actors, case_a, owner_b, admin, client):
    url = f"/api/v1/cases/{case_a['id']}/transitions"
    assert owner_b.post(url, json={"action": "withdraw"}).status_code == 404  # a draft it cannot see
    assert admin.post(url, json={"action": "withdraw"}).status_code == 403
    assert client.post(url, json={"action": "withdraw"}).status_code == 401
    publish(actors["naio"], actors["owner"], case_a)
    assert owner_b.post(url, json={"action": "withdraw"}).status_code == 403  # visible now, still not its own


def test_exit_needs_its_data_and_other_actions_refuse_it(actors, case_a):
    reach(actors, case_a, "active")
    url = f"/api/v1/cases/{case_a['id']}/transitions"
    missing = actors["owner"].post(url, json={"action": "exit"})
    assert missing.status_code == 422 and "exit" in missing.json["errors"]["json"]
    incomplete = actors["owner"].post(url, json={"action": "exit", "exit": {"decision": "scale"}})
    assert incomplete.status_code == 422
    misplaced = actors["naio"].post(url, json={"action": "suspend", "exit": EXIT})
    assert misplaced.status_code == 422
    assert actors["naio"].get(f"/api/v1/cases/{case_a['id']}").json["status"] == "active"


@pytest.mark.parametrize("action", ["return", "reject"])
def test_returning_or_rejecting_needs_a_note(actors, case_a, action):
    reach(actors, case_a, "submitted")
    response = actors["naio"].post(f"/api/v1/cases/{case_a['id']}/transitions", json={"action": action})
    assert response.status_code == 422 and "note" in response.json["errors"]["json"]


def test_an_unknown_action_is_invalid(actors, case_a):
    response = actors["owner"].post(f"/api/v1/cases/{case_a['id']}/transitions", json={"action": "approve"})
    assert response.status_code == 422


@pytest.mark.parametrize("field", ["status", "published", "published_at", "status_changed_at", "exit"])
def test_no_patch_sets_the_status_or_the_publication(actors, case_a, field):
    url = f"/api/v1/cases/{case_a['id']}"
    value = {"status": "active", "published": True, "exit": EXIT}.get(field, "2026-01-01T00:00:00Z")
    response = actors["owner"].edit(url, {field: value})
    assert response.status_code == 422 and field in response.json["errors"]["json"]
    assert actors["owner"].get(url).json == case_a


@pytest.mark.parametrize("status", sorted(PATHS))
def test_naio_publishes_only_admitted_active_suspended_or_exited_cases(actors, case_a, status):
    reach(actors, case_a, status)
    response = actors["naio"].post(f"/api/v1/cases/{case_a['id']}/publication", json={"published": True})
    if status in {"admitted", "active", "suspended", "exited"}:
        assert response.status_code == 200 and response.json["published"] is True
        assert response.json["published_at"] is not None
    else:
        assert response.status_code == 409
        assert actors["naio"].get(f"/api/v1/cases/{case_a['id']}").json["published"] is False


def test_publication_is_naio_only_and_can_be_undone(actors, case_a, owner_b, admin, client):
    reach(actors, case_a, "admitted")
    url = f"/api/v1/cases/{case_a['id']}/publication"
    for caller in (actors["owner"], owner_b, admin):
        assert caller.post(url, json={"published": True}).status_code == 403
    assert client.post(url, json={"published": True}).status_code == 401
    assert actors["naio"].post(url, json={"published": True}).json["published"] is True
    assert client.get(f"/api/v1/cases/{case_a['id']}").status_code == 200
    again = actors["naio"].post(url, json={"published": True})
    assert again.status_code == 200 and again.json["published"] is True
    unpublished = actors["naio"].post(url, json={"published": False, "note": "Data under review."})
    assert unpublished.json["published"] is False and unpublished.json["published_at"] is None
    assert client.get(f"/api/v1/cases/{case_a['id']}").status_code == 404


def test_a_withdrawn_published_case_stays_published_until_naio_unpublishes_it(actors, case_a, client):
    publish(actors["naio"], actors["owner"], case_a)
    assert take(actors, case_a, "withdraw", "owner").json["status"] == "withdrawn"
    assert client.get(f"/api/v1/cases/{case_a['id']}").json["status"] == "withdrawn"


def test_the_contact_point_is_for_keyed_callers_only(actors, owner_b, client):
    contact = {"name": "AI Unit", "email": "ai@example.gov.my", "phone": "+60 3-8000 8000"}
    case = actors["owner"].post("/api/v1/cases", json=case_body(contact=contact)).json
    assert case["contact"] == contact
    publish(actors["naio"], actors["owner"], case)
    url = f"/api/v1/cases/{case['id']}"
    assert owner_b.get(url).json["contact"] == contact
    assert actors["naio"].get(url).json["contact"] == contact
    assert "contact" not in client.get(url).json
    assert all("contact" not in item for item in client.get("/api/v1/cases").json)
