"""A list costs a fixed number of SQL statements, whatever its page size (no N+1)."""

import json
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.conftest import case_body, create_agency, publish

LIST_URLS = [
    "/api/v1/cases?page_size={n}",
    "/api/v1/cases?sector=education&status=admitted&page_size={n}",
    "/api/v1/lessons?applies_to=health&page_size={n}",
    "/api/v1/cases/{case_id}/risks?page_size={n}",
    "/api/v1/cases/{case_id}/outcomes?page_size={n}",
    "/api/v1/cases/{case_id}/lessons?page_size={n}",
    "/api/v1/lessons/{lesson_id}/adoptions?page_size={n}",
    "/api/v1/agencies?page_size={n}",
]


@contextmanager
def counting_statements(connection):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):  # not the tests' SAVEPOINTs
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


@pytest.fixture
def registry(admin, owner_a, owner_b, naio, agency_b):
    """Twelve agencies and published cases, with partners, taxonomy links, risks, outcomes and a lesson
    adopted elsewhere: every list below has more than ten items for every caller."""
    for number in range(10):
        create_agency(admin, f"extra-{number}")
    cases = []
    for number in range(12):
        response = owner_a.post(
            "/api/v1/cases",
            json=case_body(
                title=f"Pilot {number}",
                sectors=["health", "finance"],
                capabilities=["generative_ai", "language"],
                principles=["fairness", "transparency"],
                partners=[
                    {"name": "Vendor", "role": "technology_provider"},
                    {"agency_id": agency_b["id"], "role": "evaluator"},
                ],
            ),
        )
        cases.append(publish(naio, owner_a, response.json))
    first = cases[0]
    for number in range(12):
        risk = owner_a.post(
            f"/api/v1/cases/{first['id']}/risks",
            json={"title": f"r{number}", "domain": "2", "likelihood": 2, "impact": 3},
        ).json
        outcome = owner_a.post(
            f"/api/v1/cases/{first['id']}/outcomes",
            json={"title": f"o{number}", "kind": "qualitative", "method": "survey"},
        ).json
        owner_a.post(
            f"/api/v1/cases/{first['id']}/lessons",
            json={
                "title": f"l{number}",
                "statement": "s",
                "kind": "good_practice",
                "applies_to_sectors": ["health", "finance"],
                "principles": ["fairness"],
                "risk_domains": ["2"],
                "evidence": {"outcome_ids": [outcome["id"]], "risk_ids": [risk["id"]]},
            },
        )
    lesson = owner_a.get(f"/api/v1/cases/{first['id']}/lessons").json[0]
    for case in cases[1:]:
        naio.post(f"/api/v1/lessons/{lesson['id']}/adoptions", json={"adopting_case_id": case["id"]})
    return {"case_id": first["id"], "lesson_id": lesson["id"]}


@pytest.mark.parametrize("caller", ["anonymous", "other_agency", "naio"])
@pytest.mark.parametrize("url", LIST_URLS)
def test_a_list_costs_the_same_statements_for_one_item_or_many(
    client, owner_b, naio, connection, registry, url, caller
):
    # Anonymous and agency callers see through a visibility condition, NAIO without one; each pays a
    # fixed number of statements whatever the page size.
    reader = {"anonymous": client, "other_agency": owner_b, "naio": naio}[caller]

    def statements_for(page_size: int) -> tuple[int, int]:
        with counting_statements(connection) as statements:
            response = reader.get(url.format(n=page_size, **registry))
        assert response.status_code == 200, response.json
        return len(response.json), len(statements)

    (one_item, statements_for_one), (many_items, statements_for_many) = statements_for(1), statements_for(50)

    assert (one_item, many_items > 10) == (1, True)
    # The second request may find its total counted already (see test_a_total_never_outlives_a_write).
    assert statements_for_many <= statements_for_one <= 8


def test_a_total_never_outlives_a_write(owner_a, naio, client):
    def total(reader) -> int:
        return json.loads(reader.get("/api/v1/cases?sector=education").headers["X-Pagination"])["total"]

    assert total(owner_a) == 0
    created = owner_a.post("/api/v1/cases", json=case_body()).json
    assert total(owner_a) == 1
    assert total(client) == 0
    publish(naio, owner_a, created)
    assert total(client) == 1
    assert naio.post(f"/api/v1/cases/{created['id']}/publication", json={"published": False}).status_code == 200
    assert total(client) == 0
    owner_a.edit(f"/api/v1/cases/{created['id']}", {"primary_sector": "health", "sectors": ["health"]})
    assert total(owner_a) == 0
