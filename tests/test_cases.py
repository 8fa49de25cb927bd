"""Cases: register, read, list and filter, update with If-Match, ownership, invalid input."""

import json
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from sandbox_api.cases.models import CaseDocument
from sandbox_api.cases.schemas import CaseListQuerySchema
from sandbox_api.http.api import Blueprint
from tests.conftest import case_body, cases_with_stale_documents, create_agency, create_case, publish


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [case["title"] for case in response.json]


def test_an_agency_registers_a_pilot_for_itself(owner_a, agency_a):
    response = owner_a.post(
        "/api/v1/cases",
        json=case_body(
            title="AI at Work 2.0",
            primary_sector="public_administration",
            sectors=["education"],
            sandbox_type="operational_pilot",
            partners=[{"name": "Google Cloud", "role": "technology_provider"}],
            participants_count=270,
            participants_description="public officers",
            locations=["MY-14"],
        ),
    )

    assert response.status_code == 201, response.json
    case = response.json
    assert response.headers["Location"] == f"/api/v1/cases/{case['id']}"
    assert re.fullmatch(rf"SBX-{date.today().year}-\d{{4}}", case["reference"])
    assert case["status"] == "draft"
    assert case["published"] is False
    assert case["lead_agency_id"] == agency_a["id"]
    assert case["sectors"] == ["education", "public_administration"]
    assert case["partners"] == [
        {"name": "Google Cloud", "agency_id": None, "agency": None, "role": "technology_provider"}
    ]
    read = owner_a.get(response.headers["Location"])
    assert read.json == case
    assert read.headers["ETag"] == response.headers["ETag"]


def test_a_registered_agency_can_be_a_partner_and_is_named(client, naio, owner_a, agency_b):
    """Issue 19: a partner that is a registered agency is named beside its id; any other partner has no `agency`."""
    case = create_case(
        owner_a,
        partners=[{"agency_id": agency_b["id"], "role": "evaluator"}, {"name": "Vendor", "role": "funder"}],
    )
    publish(naio, owner_a, case)
    partners = [
        {
            "name": None,
            "agency_id": agency_b["id"],
            "agency": {"slug": "agency-b", "name": "Ministry B"},
            "role": "evaluator",
        },
        {"name": "Vendor", "agency_id": None, "agency": None, "role": "funder"},
    ]

    assert case["partners"] == partners
    for actor in (client, owner_a, naio):
        assert actor.get(f"/api/v1/cases/{case['id']}").json["partners"] == partners
        assert actor.get("/api/v1/cases").json[0]["partners"] == partners


def test_references_follow_each_other_and_never_change(owner_a):
    first, second = create_case(owner_a), create_case(owner_a, title="Second")
    url = f"/api/v1/cases/{first['id']}"

    assert int(second["reference"][-4:]) == int(first["reference"][-4:]) + 1
    assert owner_a.edit(url, {"reference": "SBX-1999-0001"}).status_code == 422
    assert owner_a.get(url).json["reference"] == first["reference"]


def test_naio_registers_a_pilot_for_any_agency_and_must_name_it(naio, agency_a):
    assert naio.post("/api/v1/cases", json=case_body()).status_code == 422

    created = naio.post("/api/v1/cases", json=case_body(lead_agency_id=agency_a["id"]))

    assert created.status_code == 201
    assert created.json["lead_agency_id"] == agency_a["id"]


AGENCY_A = {"slug": "agency-a", "name": "Ministry A"}


def test_every_representation_of_a_case_names_its_lead_agency(client, naio, owner_a, agency_b, case_a):
    """Issue 19: the lead agency's slug and name beside its id, so that a reader needs no second look-up."""
    url = f"/api/v1/cases/{case_a['id']}"
    alike = create_case(owner_a, title="Education GPT for pupils")
    publish(naio, owner_a, alike)
    published = publish(naio, owner_a, case_a)
    (publication,) = [
        event
        for event in client.get("/api/v1/changes?limit=1000").json["events"]
        if event["action"] == "publish" and event["entity_id"] == case_a["id"]
    ]

    assert case_a["lead_agency"] == published["lead_agency"] == AGENCY_A
    assert publication["snapshot"]["case"]["lead_agency"] == AGENCY_A
    for actor in (client, owner_a, naio):
        assert actor.get(url).json["lead_agency"] == AGENCY_A
        for route in ("/api/v1/cases", "/api/v1/cases?q=teachers", f"/api/v1/cases/{alike['id']}/similar"):
            listed = {case["id"]: case for case in actor.get(route).json}
            assert listed[case_a["id"]]["lead_agency"] == AGENCY_A, route
    handed_over = naio.edit(url, {"lead_agency_id": agency_b["id"]})
    assert handed_over.json["lead_agency"] == {"slug": "agency-b", "name": "Ministry B"}


def test_renaming_an_agency_renames_it_in_the_stored_documents_of_the_cases_it_leads_or_partners_in(
    client, connection, admin, naio, owner_a, owner_b, agency_a, case_a
):
    other = create_case(
        owner_b,
        title="Clinic triage",
        primary_sector="health",
        partners=[{"name": "Vendor", "role": "funder"}, {"agency_id": agency_a["id"], "role": "co_lead"}],
    )
    publish(naio, owner_a, case_a)
    url = f"/api/v1/cases/{case_a['id']}"
    etag = client.get(url).headers["ETag"]

    renamed = admin.edit(f"/api/v1/agencies/{agency_a['id']}", {"name": "Ministry A, renamed"})

    assert renamed.status_code == 200, renamed.json
    named = {"slug": "agency-a", "name": "Ministry A, renamed"}
    read = client.get(url)
    assert read.json["lead_agency"] == named
    assert read.headers["ETag"] != etag
    assert [case["lead_agency"] for case in client.get("/api/v1/cases").json] == [named]
    partnered = naio.get(f"/api/v1/cases/{other['id']}").json
    assert partnered["lead_agency"] == {"slug": "agency-b", "name": "Ministry B"}
    assert [partner["agency"] for partner in partnered["partners"]] == [None, named]
    stored = dict(connection.execute(select(CaseDocument.case_id, CaseDocument.document)).all())
    assert json.loads(f"{stored[uuid.UUID(case_a['id'])]}}}")["lead_agency"] == named
    assert json.loads(f"{stored[uuid.UUID(other['id'])]}}}")["partners"][1]["agency"] == named
    assert cases_with_stale_documents(connection) == []


def test_an_agency_cannot_register_a_pilot_for_another_agency(owner_a, agency_b):
    response = owner_a.post("/api/v1/cases", json=case_body(lead_agency_id=agency_b["id"]))

    assert response.status_code == 403
    assert response.content_type == "application/problem+json"


def test_an_admin_key_does_not_write_cases(admin, agency_a):
    assert admin.post("/api/v1/cases", json=case_body(lead_agency_id=agency_a["id"])).status_code == 403


def test_writing_needs_a_key(client):
    response = client.post("/api/v1/cases", json=case_body())

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_update_with_if_match(owner_a, case_a):
    url = f"/api/v1/cases/{case_a['id']}"
    etag = owner_a.get(url).headers["ETag"]

    missing = owner_a.patch(url, json={"title": "Education GPT phase 2"})
    updated = owner_a.patch(url, json={"title": "Education GPT phase 2", "capabilities": ["generative_ai"]}, etag=etag)
    stale = owner_a.patch(url, json={"title": "Lost update"}, etag=etag)

    assert missing.status_code == 428
    assert updated.status_code == 200
    assert updated.json["title"] == "Education GPT phase 2"
    assert updated.json["capabilities"] == ["generative_ai"]
    assert updated.headers["ETag"] != etag
    assert stale.status_code == 412
    assert owner_a.get(url).json["title"] == "Education GPT phase 2"


def test_if_none_match_answers_not_modified(owner_a, case_a):
    url = f"/api/v1/cases/{case_a['id']}"
    etag = owner_a.get(url).headers["ETag"]

    response = owner_a.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.headers["ETag"] == etag
    assert response.data == b""


def test_another_agency_cannot_change_or_delete_the_pilot(owner_a, owner_b, naio, case_a):
    url = f"/api/v1/cases/{case_a['id']}"
    etag = owner_a.get(url).headers["ETag"]

    # While unpublished, the pilot does not exist for agency B: 404, exactly like a missing id.
    assert owner_b.get(url).status_code == 404
    assert owner_b.patch(url, json={"title": "Taken over"}, etag=etag).status_code == 404
    assert owner_b.delete(url, etag=etag).status_code == 404

    publish(naio, owner_a, case_a)
    etag = owner_b.get(url).headers["ETag"]

    edit = owner_b.patch(url, json={"title": "Taken over"}, etag=etag)
    delete = owner_b.delete(url, etag=etag)

    assert edit.status_code == 403
    assert edit.json["detail"]
    assert delete.status_code == 403
    assert owner_b.get(url).json["title"] == case_a["title"]
    assert owner_a.get(url).json["title"] == case_a["title"]


def test_an_agency_cannot_hand_its_pilot_to_another_agency(owner_a, agency_b, case_a):
    response = owner_a.edit(f"/api/v1/cases/{case_a['id']}", {"lead_agency_id": agency_b["id"]})

    assert response.status_code == 403


def test_naio_changes_any_pilot(naio, case_a):
    response = naio.edit(f"/api/v1/cases/{case_a['id']}", {"risk_tier": "high"})

    assert response.status_code == 200
    assert response.json["risk_tier"] == "high"


@pytest.mark.parametrize(
    "field",
    [
        "id",
        "reference",
        "status",
        "status_changed_at",
        "published",
        "published_at",
        "created_at",
        "exit",
        "lead_agency",
    ],
)
def test_server_owned_fields_cannot_be_set(owner_a, case_a, field):
    current = owner_a.get(f"/api/v1/cases/{case_a['id']}").json
    created = owner_a.post("/api/v1/cases", json=case_body(**{field: current[field] or "x"}))
    edited = owner_a.edit(f"/api/v1/cases/{case_a['id']}", {field: current[field] or "x"})

    assert created.status_code == 422
    assert edited.status_code == 422
    assert field in edited.json["errors"]["json"]


def test_delete_with_if_match(owner_a, case_a):
    url = f"/api/v1/cases/{case_a['id']}"

    assert owner_a.delete(url).status_code == 428
    assert owner_a.delete(url, etag=owner_a.get(url).headers["ETag"]).status_code == 204
    assert owner_a.get(url).status_code == 404


def test_unknown_ids_are_not_found_before_preconditions(owner_a):
    url = "/api/v1/cases/00000000-0000-4000-8000-000000000000"

    assert owner_a.get(url).status_code == 404
    assert owner_a.patch(url, json={"title": "x"}).status_code == 404
    assert owner_a.delete(url).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"primary_sector": "space"}, "primary_sector"),
        ({"sectors": ["health", "nope"]}, "sectors"),
        ({"sandbox_type": "playground"}, "sandbox_type"),
        ({"locations": ["Kuala Lumpur"]}, "locations"),
        ({"links": [{"title": "x", "url": "javascript:alert(1)", "kind": "source"}]}, "links"),
        ({"partners": [{"role": "funder"}]}, "partners"),
        ({"participants_count": -1}, "participants_count"),
        ({"colour": "blue"}, "colour"),
        ({"planned_start": "2025-05-01", "planned_end": "2025-04-01"}, "planned_end"),
        ({"data_categories": ["children"], "personal_data": False}, "personal_data"),
        ({"partners": [{"agency_id": "00000000-0000-4000-8000-000000000000", "role": "co_lead"}]}, "partners"),
    ],
)
def test_invalid_cases_are_refused_and_nothing_is_created(owner_a, body, field):
    response = owner_a.post("/api/v1/cases", json=case_body(**body))

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]["json"]
    assert owner_a.get("/api/v1/cases").json == []


def test_a_partial_update_is_checked_against_the_stored_fields(owner_a):
    case = create_case(owner_a, planned_start="2025-05-01")

    response = owner_a.edit(f"/api/v1/cases/{case['id']}", {"planned_end": "2025-01-01"})

    assert response.status_code == 422
    assert "planned_end" in response.json["errors"]["json"]


def test_list_filters(owner_a, owner_b, naio, agency_a):
    today = date.today()
    create_case(
        owner_a,
        title="Education GPT",
        sectors=["education"],
        capabilities=["generative_ai", "language"],
        principles=["transparency"],
        risk_tier="limited",
        personal_data=True,
        data_categories=["children"],
        planned_start="2024-01-15",
        next_review_due=str(today - timedelta(days=1)),
    )
    create_case(
        owner_b,
        title="Clinic triage",
        primary_sector="health",
        sectors=["education"],
        sandbox_type="regulatory_sandbox",
        capabilities=["decision_support"],
        risk_tier="high",
        planned_start="2025-03-01",
        next_review_due=str(today + timedelta(days=30)),
    )
    create_case(owner_b, title="Paddy forecasts", primary_sector="agriculture", capabilities=["forecasting"])

    def listed(query: str) -> set[str]:
        return set(titles(naio.get(f"/api/v1/cases?{query}")))

    assert listed("sector=education") == {"Education GPT", "Clinic triage"}
    assert listed("primary_sector=education") == {"Education GPT"}
    assert listed("primary_sector=health&primary_sector=agriculture") == {"Clinic triage", "Paddy forecasts"}
    assert listed("sector=education&capability=decision_support") == {"Clinic triage"}
    assert listed("capability=language&capability=forecasting") == {"Education GPT", "Paddy forecasts"}
    assert listed("principle=transparency") == {"Education GPT"}
    assert listed("sandbox_type=regulatory_sandbox") == {"Clinic triage"}
    assert listed("risk_tier=high") == {"Clinic triage"}
    assert listed("personal_data=true") == {"Education GPT"}
    assert listed("personal_data=false") == {"Clinic triage", "Paddy forecasts"}
    assert listed("status=draft") == {"Education GPT", "Clinic triage", "Paddy forecasts"}
    assert listed("status=active") == set()
    assert listed(f"lead_agency={agency_a['slug']}") == {"Education GPT"}
    assert listed(f"lead_agency={agency_a['id']}") == {"Education GPT"}
    assert listed("planned_start_from=2024-06-01") == {"Clinic triage"}
    assert listed("planned_start_from=2024-01-15&planned_start_to=2024-01-15") == {"Education GPT"}
    assert listed("review_overdue=true") == {"Education GPT"}
    assert listed("review_overdue=false") == {"Clinic triage", "Paddy forecasts"}
    overdue = naio.get("/api/v1/cases?review_overdue=true").json[0]
    assert overdue["review_overdue"] is True


def test_a_list_by_slug_finds_an_agency_registered_after_the_same_list_was_asked(admin, naio):
    before = titles(naio.get("/api/v1/cases?lead_agency=agency-late"))
    agency = create_agency(admin, "agency-late")
    create_case(naio, title="Late pilot", lead_agency_id=agency["id"])

    assert before == []
    assert titles(naio.get("/api/v1/cases?lead_agency=agency-late")) == ["Late pilot"]


@pytest.mark.parametrize(
    "query",
    [
        "sectr=education",
        "sector=educaton",
        "status=live",
        "page_size=101",
        "page=0",
        "sort=colour",
        "personal_data=maybe",
    ],
)
def test_typo_in_a_filter_is_refused(client, query):
    for _asked_again in range(2):  # query strings are parsed once, but only those that load are kept
        response = client.get(f"/api/v1/cases?{query}")

        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        assert response.json["errors"]["query"]


def test_a_query_string_asked_again_gets_arguments_of_its_own(app):
    schema = CaseListQuerySchema()
    with app.test_request_context("/api/v1/cases?sector=education&status=active"):
        first = Blueprint.ARGUMENTS_PARSER.parse(schema, location="query")
        first["sector"] = ["health"]
        first.pop("status")
        again = Blueprint.ARGUMENTS_PARSER.parse(schema, location="query")

    assert again is not first
    assert again["sector"] == ["education"]
    assert again["status"] == ["active"]


def test_pagination_headers_and_links(owner_a):
    for number in range(5):
        create_case(owner_a, title=f"Pilot {number}")

    page = owner_a.get("/api/v1/cases?page=2&page_size=2&sort=title&sector=education")

    assert titles(page) == ["Pilot 2", "Pilot 3"]
    assert json.loads(page.headers["X-Pagination"]) == {
        "total": 5,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
    }
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', page.headers["Link"]))
    assert set(links) == {"first", "prev", "next", "last"}
    assert titles(owner_a.get(links["next"])) == ["Pilot 4"]
    assert "sector=education" in links["next"]


def test_sort_is_deterministic_and_reversible(owner_a):
    for title in ("b", "a", "c"):
        create_case(owner_a, title=title)

    assert titles(owner_a.get("/api/v1/cases?sort=title")) == ["a", "b", "c"]
    assert titles(owner_a.get("/api/v1/cases?sort=-title")) == ["c", "b", "a"]
    assert titles(owner_a.get("/api/v1/cases")) == ["c", "a", "b"]  # newest first by default


def test_the_wire_format_is_the_same_on_both_databases(owner_a, agency_b):
    case = create_case(
        owner_a,
        partners=[{"agency_id": agency_b["id"], "role": "evaluator"}, {"name": "Vendor", "role": "funder"}],
        sectors=["health", "finance"],
        participants_count=270,
        next_review_due="2099-01-01",
    )

    listed = owner_a.get("/api/v1/cases").json[0]
    timestamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
    assert listed == owner_a.get(f"/api/v1/cases/{case['id']}").json == case
    assert all(re.fullmatch(timestamp, case[field]) for field in ("created_at", "updated_at", "status_changed_at"))
    assert (case["published_at"], case["exit"], case["description"]) == (None, None, None)
    assert (case["published"], case["personal_data"], case["review_overdue"]) == (False, False, False)
    assert case["participants_count"] == 270
    assert case["sectors"] == ["education", "finance", "health"]
    assert [partner["role"] for partner in case["partners"]] == ["evaluator", "funder"]
    assert case["lead_agency_id"] == str(uuid.UUID(case["lead_agency_id"]))


def test_codes_added_by_an_edit_are_listed_in_code_order_with_the_others(owner_a, naio):
    # Found by tests/test_representations.py: SQLite listed a case's sectors in the order their rows were
    # written, not in code order, once an edit had added a code that sorts before one already there.
    case = create_case(owner_a, primary_sector="public_administration", capabilities=["speech"])
    url = f"/api/v1/cases/{case['id']}"
    edited = owner_a.edit(url, {"sectors": ["public_administration", "law_justice", "education"]})
    assert edited.status_code == 200, edited.json
    edited = owner_a.edit(url, {"capabilities": ["speech", "forecasting"]})

    expected_sectors = ["education", "law_justice", "public_administration"]
    expected_capabilities = ["forecasting", "speech"]
    listed = [item for item in naio.get("/api/v1/cases").json if item["id"] == case["id"]]
    for answer in (edited.json, owner_a.get(url).json, *listed):
        assert (answer["sectors"], answer["capabilities"]) == (expected_sectors, expected_capabilities)
