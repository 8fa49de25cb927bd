"""`facets=` on the lists: counts per value over the whole filtered list, in `X-Facets`, the body unchanged."""

import json

import pytest
from sqlalchemy import event

from sandbox_api.storage import facets
from tests.conftest import create_case, create_lesson, curate, publish, transition

CASE_FACETS = (
    "sector",
    "primary_sector",
    "status",
    "sandbox_type",
    "risk_tier",
    "capability",
    "principle",
    "lead_agency",
)
LESSON_FACETS = ("origin_sector", "applies_to", "kind", "curation", "transferability", "principle", "risk_domain")


@pytest.fixture
def cases(naio, owner_a, owner_b) -> dict:
    """C1 (A, education+health, admitted), C2 (A, education, active), C3 (B, health, admitted), all
    published; C4 (B, education+finance) a draft."""
    c1 = create_case(
        owner_a,
        title="C1",
        sectors=["education", "health"],
        sandbox_type="flagship_project",
        risk_tier="high",
        capabilities=["generative_ai", "language"],
        principles=["fairness"],
    )
    c2 = create_case(owner_a, title="C2", sandbox_type="operational_pilot", capabilities=["generative_ai"])
    c3 = create_case(owner_b, title="C3", primary_sector="health", sandbox_type="testbed", risk_tier="high")
    c4 = create_case(owner_b, title="C4", sectors=["finance"], sandbox_type="operational_pilot", risk_tier="limited")
    for owner, case in ((owner_a, c1), (owner_a, c2), (owner_b, c3)):
        publish(naio, owner, case)
    transition(owner_a, c2, "start")
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4}


def facet_header(response) -> dict:
    assert response.status_code == 200, response.json
    return json.loads(response.headers["X-Facets"])


def _counts(values: list[dict]) -> list[tuple]:
    return [(value["value"], value["count"]) for value in values]


def test_facets_count_the_whole_filtered_list_and_leave_the_page_alone(cases, client):
    response = client.get("/api/v1/cases?facets=sector&facets=sandbox_type&page_size=1&page=2")
    found = facet_header(response)

    assert len(response.json) == 1
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
    assert list(found) == ["sector", "sandbox_type"]
    assert _counts(found["sector"]) == [("education", 2), ("health", 2)]
    assert _counts(found["sandbox_type"]) == [("flagship_project", 1), ("operational_pilot", 1), ("testbed", 1)]


def test_drafts_are_counted_only_for_those_who_may_see_them(cases, client, naio, owner_b, owner_a):
    url = "/api/v1/cases?facets=sector"

    assert _counts(facet_header(client.get(url))["sector"]) == [("education", 2), ("health", 2)]
    assert _counts(facet_header(owner_a.get(url))["sector"]) == [("education", 2), ("health", 2)]
    assert _counts(facet_header(owner_b.get(url))["sector"]) == [("education", 3), ("health", 2), ("finance", 1)]
    assert _counts(facet_header(naio.get(url))["sector"]) == [("education", 3), ("health", 2), ("finance", 1)]


def test_filters_narrow_every_facet(cases, client, agency_a, agency_b):
    query = "status=admitted&facets=sector&facets=status&facets=risk_tier&facets=lead_agency&facets=primary_sector"
    found = facet_header(client.get(f"/api/v1/cases?{query}"))

    assert _counts(found["sector"]) == [("health", 2), ("education", 1)]
    assert _counts(found["status"]) == [("admitted", 2)]
    assert _counts(found["risk_tier"]) == [("high", 2)]
    assert _counts(found["lead_agency"]) == [(agency_id, 1) for agency_id in sorted([agency_a["id"], agency_b["id"]])]
    assert _counts(found["primary_sector"]) == [("education", 1), ("health", 1)]


def test_a_facet_on_the_filtered_field_counts_every_value_of_the_rows_it_matched(cases, naio):
    found = facet_header(naio.get("/api/v1/cases?sector=finance&facets=sector&facets=capability&facets=principle"))

    assert _counts(found["sector"]) == [("education", 1), ("finance", 1)]
    assert found["capability"] == []
    assert found["principle"] == []


def test_link_facets_and_missing_values(cases, naio):
    found = facet_header(naio.get("/api/v1/cases?facets=capability&facets=principle&facets=risk_tier"))

    assert _counts(found["capability"]) == [("generative_ai", 2), ("language", 1)]
    assert _counts(found["principle"]) == [("fairness", 1)]
    assert _counts(found["risk_tier"]) == [("high", 2), ("limited", 1), (None, 1)]


def test_each_facet_lists_at_most_its_cap_of_values(cases, naio, monkeypatch):
    monkeypatch.setattr(facets, "MAX_FACET_VALUES", 2)

    found = facet_header(naio.get("/api/v1/cases?facets=sector"))

    assert _counts(found["sector"]) == [("education", 3), ("health", 2)]


def test_one_statement_per_facet_whatever_the_page_size(cases, naio, engine):
    grouped: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "GROUP BY" in statement:
            grouped.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        for page_size in (1, 100):
            grouped.clear()
            response = naio.get(f"/api/v1/cases?facets=sector&facets=status&facets=lead_agency&page_size={page_size}")
            assert response.status_code == 200
            assert len(grouped) == 3
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_without_facets_there_is_no_header(cases, client):
    response = client.get("/api/v1/cases")

    assert response.status_code == 200
    assert "X-Facets" not in response.headers


@pytest.mark.parametrize(
    "query",
    ["facets=title", "facets=", "facets=applies_to", "&".join(["facets=sector"] * (len(CASE_FACETS) + 1))],
)
def test_unknown_or_too_many_facets_are_refused(client, query):
    response = client.get(f"/api/v1/cases?{query}")

    assert response.status_code == 422
    assert "facets" in response.json["errors"]["query"]


def test_every_documented_facet_is_accepted(client):
    case_query = "&".join(f"facets={name}" for name in CASE_FACETS)
    lesson_query = "&".join(f"facets={name}" for name in LESSON_FACETS)

    assert list(facet_header(client.get(f"/api/v1/cases?{case_query}"))) == list(CASE_FACETS)
    assert list(facet_header(client.get(f"/api/v1/lessons?{lesson_query}"))) == list(LESSON_FACETS)
    assert client.get("/api/v1/lessons?facets=sector").status_code == 422


@pytest.fixture
def lessons(cases, naio, owner_a, owner_b) -> None:
    """L1 of C1 (education), L2 of C3 (health, endorsed), L3 of the draft C4 (education)."""
    create_lesson(
        owner_a,
        cases["c1"],
        applies_to_sectors=["health", "finance"],
        principles=["fairness"],
        risk_domains=["3"],
        transferability="high",
    )
    l2 = create_lesson(owner_b, cases["c3"], kind="pitfall", applies_to_sectors=["education"], transferability="low")
    curate(naio, l2, "endorsed")
    create_lesson(owner_b, cases["c4"], applies_to_sectors=["health"], transferability="high")


def test_lesson_facets_over_the_lessons_the_caller_may_see(lessons, client, naio):
    query = "&".join(f"facets={name}" for name in LESSON_FACETS)
    public = facet_header(client.get(f"/api/v1/lessons?{query}"))
    everything = facet_header(naio.get(f"/api/v1/lessons?{query}"))

    assert {name: _counts(values) for name, values in public.items()} == {
        "origin_sector": [("education", 1), ("health", 1)],
        "applies_to": [("education", 1), ("finance", 1), ("health", 1)],
        "kind": [("good_practice", 1), ("pitfall", 1)],
        "curation": [("endorsed", 1), ("proposed", 1)],
        "transferability": [("high", 1), ("low", 1)],
        "principle": [("fairness", 1)],
        "risk_domain": [("3", 1)],
    }
    assert _counts(everything["origin_sector"]) == [("education", 2), ("health", 1)]
    assert _counts(everything["applies_to"]) == [("health", 2), ("education", 1), ("finance", 1)]
    assert _counts(everything["kind"]) == [("good_practice", 2), ("pitfall", 1)]


def test_lesson_facets_follow_the_lesson_filters(lessons, naio):
    found = facet_header(naio.get("/api/v1/lessons?origin_sector=education&facets=origin_sector&facets=applies_to"))

    assert _counts(found["origin_sector"]) == [("education", 2)]
    assert _counts(found["applies_to"]) == [("health", 2), ("finance", 1)]
