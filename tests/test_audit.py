"""The audit trail: one append-only event per write, a case's history, and the change feed that rebuilds
the published registry."""

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from sandbox_api.policy.audit import Event
from tests.conftest import case_body, publish
from tests.test_lessons import LESSON
from tests.test_risks_outcomes import OUTCOME, RISK


def all_events(naio) -> list[dict]:
    events, cursor = [], None
    while True:
        page = naio.get("/api/v1/changes" + (f"?after={cursor}" if cursor else "")).json
        if not page["events"]:
            return events
        events.extend(page["events"])
        cursor = page["next"]


class Trail:
    """Reads the events that each step adds."""

    def __init__(self, naio):
        self.naio = naio
        self.seen = len(all_events(naio))

    def new(self) -> list[dict]:
        events = all_events(self.naio)
        added, self.seen = events[self.seen :], len(events)
        return added


def test_every_write_leaves_exactly_one_event(naio, admin, owner_a, owner_b, agency_a):
    trail = Trail(naio)

    def step(response, action: str, entity_type: str, status: int = 200):
        assert response.status_code == status, response.json
        (event,) = trail.new()
        assert (event["action"], event["entity_type"]) == (action, entity_type)
        return event

    agency = step(
        admin.post("/api/v1/agencies", json={"slug": "agency-x", "name": "X", "kind": "ministry"}),
        "create",
        "agency",
        201,
    )
    assert agency["actor_role"] == "admin" and agency["changes"]["slug"] == [None, "agency-x"]
    step(admin.edit(f"/api/v1/agencies/{agency['entity_id']}", {"name": "Y"}), "update", "agency")
    current = admin.get(f"/api/v1/agencies/{agency['entity_id']}")
    step(admin.delete(f"/api/v1/agencies/{agency['entity_id']}", etag=current.headers["ETag"]), "delete", "agency", 204)

    created = step(owner_a.post("/api/v1/cases", json=case_body()), "create", "case", 201)
    assert (created["actor_role"], created["actor_agency_id"]) == ("agency", agency_a["id"])
    assert created["actor_key_id"] is not None and created["request_id"]
    case_url = f"/api/v1/cases/{created['entity_id']}"
    updated = step(owner_a.edit(case_url, {"title": "Renamed"}), "update", "case")
    assert updated["changes"]["title"] == ["Education GPT", "Renamed"]
    assert set(updated["changes"]) == {"title", "updated_at"}
    for action, actor in (("submit", owner_a), ("admit", naio)):
        step(actor.post(f"{case_url}/transitions", json={"action": action}), action, "case")
    returned = step(
        naio.post(f"{case_url}/publication", json={"published": True, "note": "Cleared."}), "publish", "case"
    )
    assert returned["note"] == "Cleared." and returned["snapshot"]["case"]["title"] == "Renamed"
    for path, body, kind in (
        (f"{case_url}/risks", RISK, "risk"),
        (f"{case_url}/outcomes", OUTCOME, "outcome"),
        (f"{case_url}/lessons", LESSON, "lesson"),
    ):
        child = step(owner_a.post(path, json=body), "create", kind, 201)
        assert child["case_id"] == created["entity_id"]
        child_url = f"{path}/{child['entity_id']}"
        step(owner_a.edit(child_url, {"title": "Changed"}), "update", kind)
        if kind == "lesson":
            lesson_id = child["entity_id"]
            curated = step(
                naio.post(f"/api/v1/lessons/{lesson_id}/curation", json={"curation": "endorsed", "note": "Scale it."}),
                "curate",
                "lesson",
            )
            assert curated["changes"]["curation"] == ["proposed", "endorsed"]
        else:
            current = owner_a.get(child_url)
            step(owner_a.delete(child_url, etag=current.headers["ETag"]), "delete", kind, 204)

    adopter = owner_b.post("/api/v1/cases", json=case_body(title="Adopter", primary_sector="health")).json
    trail.new()
    adoptions = f"/api/v1/lessons/{lesson_id}/adoptions"
    adoption = step(owner_b.post(adoptions, json={"adopting_case_id": adopter["id"]}), "create", "adoption", 201)
    assert adoption["case_id"] == adopter["id"]
    step(owner_b.edit(f"{adoptions}/{adoption['entity_id']}", {"result": "worked"}), "update", "adoption")
    current = owner_b.get(f"{adoptions}/{adoption['entity_id']}")
    step(
        owner_b.delete(f"{adoptions}/{adoption['entity_id']}", etag=current.headers["ETag"]), "delete", "adoption", 204
    )

    key = step(admin.post("/api/v1/keys", json={"name": "Dashboard", "role": "naio"}), "create", "api_key", 201)
    assert "key" not in key["changes"] and "secret_hash" not in key["changes"]
    key_url = f"/api/v1/keys/{key['entity_id']}"
    rotation = admin.post(f"{key_url}/rotation", json={})
    assert rotation.status_code == 201
    assert [(event["action"], event["entity_id"]) for event in trail.new()] == [
        ("rotate", key["entity_id"]),
        ("create", rotation.json["id"]),
    ]
    step(admin.post(f"{key_url}/revocation", json={}), "revoke", "api_key")

    current = owner_a.get(case_url)
    deleted = step(owner_a.delete(case_url, etag=current.headers["ETag"]), "delete", "case", 204)
    assert deleted["changes"]["title"] == ["Renamed", None]
    assert naio.get(f"{case_url}/history").status_code == 404  # the case is gone; its events stay in the feed


def test_a_failed_write_leaves_no_event(naio, owner_a, owner_b, case_a):
    trail = Trail(naio)
    url = f"/api/v1/cases/{case_a['id']}"
    assert owner_a.patch(url, json={"title": ""}, etag=owner_a.get(url).headers["ETag"]).status_code == 422
    assert owner_a.patch(url, json={"title": "Stale"}, etag='"stale"').status_code == 412
    assert owner_a.patch(url, json={"title": "No precondition"}).status_code == 428
    assert naio.post(f"{url}/transitions", json={"action": "start"}).status_code == 409
    assert owner_b.patch(url, json={"title": "Not mine"}, etag='"x"').status_code == 404
    assert naio.post(f"{url}/publication", json={"published": True}).status_code == 409
    assert naio.post(f"{url}/publication", json={"published": False}).status_code == 200  # already so: no write
    assert trail.new() == []


def test_the_database_refuses_to_change_or_delete_an_event(connection, owner_a, case_a):
    assert connection.scalar(select(func.count()).select_from(Event)) >= 1
    for statement in (update(Event).values(note="rewritten"), delete(Event)):
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(statement)
        savepoint.rollback()
    if connection.dialect.name == "postgresql":
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("TRUNCATE events"))
        savepoint.rollback()


def test_history_shows_everything_to_the_agency_and_naio_and_only_public_events_without_names_to_others(
    client, naio, owner_a, owner_b, case_a
):
    url = f"/api/v1/cases/{case_a['id']}"
    owner_a.edit(url, {"summary": "Before publication."})
    publish(naio, owner_a, case_a)
    owner_a.edit(url, {"summary": "After publication.", "contact": {"name": "AI Unit", "email": "ai@example.gov.my"}})
    full = [event["action"] for event in owner_a.get(f"{url}/history").json]
    assert full == ["create", "update", "submit", "admit", "publish", "update"]
    assert [event["action"] for event in naio.get(f"{url}/history").json] == full
    for reader in (client, owner_b):
        assert [event["action"] for event in reader.get(f"{url}/history").json] == ["publish", "update"]
    anonymous = client.get(f"{url}/history").json
    assert all(key not in event for event in anonymous for key in ("actor_key_id", "actor_role", "note", "request_id"))
    assert "contact" not in anonymous[-1]["changes"] and "summary" in anonymous[-1]["changes"]
    assert "contact" in owner_a.get(f"{url}/history").json[-1]["changes"]


def test_a_draft_has_no_history_for_those_who_cannot_see_it(client, owner_b, case_a):
    assert client.get(f"/api/v1/cases/{case_a['id']}/history").status_code == 404
    assert owner_b.get(f"/api/v1/cases/{case_a['id']}/history").status_code == 404


def test_the_feed_shows_each_caller_only_what_it_may_read(client, naio, owner_a, owner_b, case_a):
    b_case = owner_b.post("/api/v1/cases", json=case_body(title="B")).json
    publish(naio, owner_b, b_case)
    readers = {"anonymous": client, "agency A": owner_a, "agency B": owner_b}
    seen = {name: {event["case_id"] for event in all_events(reader)} - {None} for name, reader in readers.items()}
    assert seen == {
        "anonymous": {b_case["id"]},
        "agency A": {b_case["id"], case_a["id"]},
        "agency B": {b_case["id"]},
    }
    assert all("actor_role" not in event for event in all_events(client))


# Not an event id in ASCII digits: the old base64 cursor of `event:1` among them.
@pytest.mark.parametrize("cursor", ["", "nonsense", "ZXZlbnQ6MQ", "%00", "-1", "+1", " 1", "1\n", "1e3", "١٢", "007"])
def test_a_cursor_that_is_not_an_event_id_is_refused(client, cursor):
    response = client.get("/api/v1/changes", query_string={"after": cursor})
    assert response.status_code == 422
    assert "after" in response.json["errors"]["query"]


def test_the_feed_pages_by_cursor_and_an_empty_page_keeps_the_cursor(client, naio, owner_a, case_a):
    publish(naio, owner_a, case_a)
    first = client.get("/api/v1/changes?limit=1").json
    assert len(first["events"]) == 1
    rest = client.get(f"/api/v1/changes?after={first['next']}&limit=1000").json
    assert [e["id"] for e in rest["events"]] == sorted(e["id"] for e in rest["events"])
    assert rest["events"][0]["id"] > first["events"][0]["id"]
    empty = client.get(f"/api/v1/changes?after={rest['next']}").json
    assert empty == {"events": [], "next": rest["next"]}


def test_the_cursor_is_the_id_of_the_last_event_so_a_reader_resumes_from_what_it_stored(naio, owner_a, case_a):
    publish(naio, owner_a, case_a)
    everything = naio.get("/api/v1/changes").json
    assert everything["next"] == str(everything["events"][-1]["id"])
    stored = everything["events"][:2]
    resumed = naio.get("/api/v1/changes", query_string={"after": stored[-1]["id"]}).json
    assert resumed["events"] == everything["events"][2:]
    assert resumed["next"] == everything["next"]


def test_an_empty_feed_answers_the_cursor_zero(client):
    assert client.get("/api/v1/changes").json == {"events": [], "next": "0"}


# Fields derived from other records or from the date: the feed's description tells readers to recompute them.
DERIVED = {
    "review_overdue",
    "lead_agency",
    "origin_sector",
    "adoption_count",
    "adopting_agency_id",
    "adopting_agency",
    "adopting_sector",
}


def underived(item: dict) -> dict:
    """A record without its derived fields, its partners without the name of their agency."""
    kept = {field: value for field, value in item.items() if field not in DERIVED}
    if "partners" in kept:
        kept["partners"] = [{f: v for f, v in partner.items() if f != "agency"} for partner in kept["partners"]]
    return kept


def rebuild(events: list[dict]) -> dict[str, dict]:
    """The published registry, rebuilt from the anonymous feed by the rules in its description."""
    registry: dict[str, dict] = {}
    by_case = {"risks": "risk", "outcomes": "outcome", "lessons": "lesson"}

    def drop_case(case_id: str) -> None:
        lessons = {key for key, item in registry.items() if key.startswith("lesson:") and item["case_id"] == case_id}
        for key in [
            key for key, item in registry.items() if item.get("case_id") == case_id or key == f"case:{case_id}"
        ]:
            del registry[key]
        for key in [
            key
            for key, item in registry.items()
            if key.startswith("adoption:")
            and (item["adopting_case_id"] == case_id or f"lesson:{item['lesson_id']}" in lessons)
        ]:
            del registry[key]

    for event in events:
        key = f"{event['entity_type']}:{event['entity_id']}"
        if event["action"] == "publish":
            drop_case(event["entity_id"])
            snapshot = event["snapshot"]
            registry[key] = snapshot["case"]
            for name, kind in by_case.items():
                for item in snapshot[name]:
                    registry[f"{kind}:{item['id']}"] = item
            for item in snapshot["adoptions"]:
                registry[f"adoption:{item['id']}"] = item
        elif event["action"] == "unpublish" or (event["action"] == "delete" and event["entity_type"] == "case"):
            drop_case(event["entity_id"])
        elif event["action"] == "delete":
            registry.pop(key, None)
            if event["entity_type"] == "lesson":
                for other in [
                    k for k, v in registry.items() if k.startswith("adoption:") and v["lesson_id"] == event["entity_id"]
                ]:
                    del registry[other]
            if event["entity_type"] in ("risk", "outcome"):
                field = f"{event['entity_type']}_ids"
                for other in [
                    v for k, v in registry.items() if k.startswith("lesson:") and v["case_id"] == event["case_id"]
                ]:
                    other["evidence"][field] = [i for i in other["evidence"][field] if i != event["entity_id"]]
        else:
            entity = registry.setdefault(key, {})
            entity.update({field: new for field, (_old, new) in event["changes"].items()})
    return {key: underived(item) for key, item in registry.items()}


def published_registry(client) -> dict[str, dict]:
    """The published registry as anyone reads it through the API."""
    registry: dict[str, dict] = {}
    for agency in client.get("/api/v1/agencies?page_size=100").json:
        registry[f"agency:{agency['id']}"] = agency
    for case in client.get("/api/v1/cases?page_size=100").json:
        registry[f"case:{case['id']}"] = case
        for name, kind in (("risks", "risk"), ("outcomes", "outcome"), ("lessons", "lesson")):
            for item in client.get(f"/api/v1/cases/{case['id']}/{name}?page_size=100").json:
                registry[f"{kind}:{item['id']}"] = item
                if kind == "lesson":
                    for adoption in client.get(f"/api/v1/lessons/{item['id']}/adoptions?page_size=100").json:
                        registry[f"adoption:{adoption['id']}"] = adoption
    return {key: underived(item) for key, item in registry.items()}


def test_following_the_anonymous_feed_from_the_start_rebuilds_the_published_registry(
    client, admin, naio, owner_a, owner_b, agency_a, case_a
):
    url = f"/api/v1/cases/{case_a['id']}"
    risk = owner_a.post(f"{url}/risks", json=RISK).json  # while a draft: not in the feed
    outcome = owner_a.post(f"{url}/outcomes", json=OUTCOME).json
    lesson = owner_a.post(
        f"{url}/lessons", json={**LESSON, "evidence": {"outcome_ids": [outcome["id"]], "risk_ids": [risk["id"]]}}
    ).json
    publish(naio, owner_a, case_a)
    owner_a.edit(f"{url}/risks/{risk['id']}", {"status": "mitigated"})
    naio.post(f"/api/v1/lessons/{lesson['id']}/curation", json={"curation": "endorsed"})
    partners = [{"agency_id": agency_a["id"], "role": "co_lead"}]  # renamed below
    b_case = owner_b.post(
        "/api/v1/cases", json=case_body(title="Adopter", primary_sector="health", partners=partners)
    ).json
    adoption = owner_b.post(f"/api/v1/lessons/{lesson['id']}/adoptions", json={"adopting_case_id": b_case["id"]}).json
    publish(naio, owner_b, b_case)  # the adoption reaches the feed in B's snapshot
    owner_b.edit(f"/api/v1/lessons/{lesson['id']}/adoptions/{adoption['id']}", {"result": "worked"})
    current = owner_a.get(f"{url}/outcomes/{outcome['id']}")
    owner_a.delete(f"{url}/outcomes/{outcome['id']}", etag=current.headers["ETag"])
    naio.post(f"{url}/publication", json={"published": False})
    owner_a.edit(url, {"title": "Changed while unpublished"})
    naio.post(f"{url}/publication", json={"published": True})
    owner_a.edit(url, {"summary": "Changed after republication"})
    admin.edit(f"/api/v1/agencies/{agency_a['id']}", {"name": "Ministry A, renamed"})

    events, cursor = [], None
    while True:  # small pages, as a client polling the feed would read it
        page = client.get("/api/v1/changes", query_string={"limit": 3, **({"after": cursor} if cursor else {})}).json
        if not page["events"]:
            break
        events.extend(page["events"])
        cursor = page["next"]
    assert rebuild(events) == published_registry(client)
