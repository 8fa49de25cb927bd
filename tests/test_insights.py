"""Insights: aggregates a user could count by hand, over only the cases the caller may see, narrowed by filters.

The world: agency A leads E1 (education and health, generative AI, active, published, review overdue) and
E2 (education, language, admitted, published); agency B leads H1 (health, generative AI, active, published,
review overdue) and P1 (public administration and education, generative AI, a draft, review overdue).
"""

from dataclasses import dataclass

import pytest

from tests.conftest import adopt, create_case, create_lesson, create_outcome, create_risk, publish, transition

INSIGHTS = "/api/v1/insights"
PAST = "2020-01-01"
FUTURE = "2099-01-01"
MATERIALISED = {"status": "materialised", "materialised_note": "It happened."}


@dataclass
class World:
    e1: dict
    e2: dict
    h1: dict
    p1: dict


@pytest.fixture
def world(naio, owner_a, owner_b) -> World:
    e1 = create_case(
        owner_a,
        title="E1",
        primary_sector="education",
        sectors=["education", "health"],
        capabilities=["generative_ai"],
        sandbox_type="flagship_project",
        actual_start="2025-03-01",
        next_review_due=PAST,
    )
    e2 = create_case(
        owner_a,
        title="E2",
        primary_sector="education",
        capabilities=["language"],
        sandbox_type="operational_pilot",
        planned_start="2025-09-01",
        next_review_due=FUTURE,
    )
    h1 = create_case(
        owner_b,
        title="H1",
        primary_sector="health",
        capabilities=["generative_ai"],
        sandbox_type="testbed",
        actual_start="2024-06-01",
        next_review_due=PAST,
    )
    p1 = create_case(
        owner_b,
        title="P1",
        primary_sector="public_administration",
        sectors=["public_administration", "education"],
        capabilities=["generative_ai"],
        sandbox_type="operational_pilot",
        planned_start="2025-01-15",
        next_review_due=PAST,
    )
    for owner, case in ((owner_a, e1), (owner_a, e2), (owner_b, h1)):
        publish(naio, owner, case)
    transition(owner_a, e1, "start")
    transition(owner_b, h1, "start")

    create_risk(owner_a, e1, subdomain="3.1", likelihood=3, impact=4, **MATERIALISED)  # score 12
    create_risk(owner_a, e1, subdomain="2.1", likelihood=2, impact=2)  # 4
    create_risk(owner_a, e2, subdomain="3.1", likelihood=2, impact=3)  # 6
    create_risk(owner_b, h1, subdomain="3.1", likelihood=5, impact=5)  # 25
    create_risk(owner_b, h1, subdomain="7.3", likelihood=1, impact=1)  # 1
    create_risk(owner_b, p1, subdomain="3.1", likelihood=4, impact=4)  # 16
    create_risk(owner_b, p1, subdomain="2.1", likelihood=3, impact=3, **MATERIALISED)  # 9

    # Their evidence grades and attainment, in order: A attained; C unknown; B not attained; C attained.
    create_outcome(owner_a, e1, method="controlled_experiment", target=100, actual=120, direction="increase")
    create_outcome(owner_a, e1, method="survey", kind="qualitative")
    create_outcome(owner_b, h1, method="administrative_data", target=10, actual=5, direction="increase")
    create_outcome(owner_b, p1, method="survey", target=5, actual=3, direction="decrease")

    l1, l2, l3 = create_lesson(owner_a, e1), create_lesson(owner_b, h1), create_lesson(owner_b, p1)
    adopt(owner_b, l1, h1, result="worked")
    adopt(owner_b, l1, p1, result="planned")
    adopt(owner_a, l2, e2, result="did_not_work")
    adopt(owner_b, l3, h1, result="applied")
    return World(e1, e2, h1, p1)


def insight(caller, name: str, query: str = "") -> dict:
    response = caller.get(f"{INSIGHTS}/{name}{'?' + query if query else ''}")
    assert response.status_code == 200, response.json
    return response.json


def _status_cells(body: dict) -> list[tuple]:
    return [(cell["sector"], cell["status"], cell["case_count"]) for cell in body["cells"]]


def test_cases_by_sector_and_status_count_a_case_in_every_sector_it_touches(world, client, naio):
    public = insight(client, "case-status")
    everything = insight(naio, "case-status")

    assert public["by"] == "sector"
    assert public["case_count"] == 3
    assert _status_cells(public) == [("education", "active", 1), ("education", "admitted", 1), ("health", "active", 2)]
    assert everything["case_count"] == 4
    assert _status_cells(everything) == [
        ("education", "active", 1),
        ("education", "admitted", 1),
        ("education", "draft", 1),
        ("health", "active", 2),
        ("public_administration", "draft", 1),
    ]


def test_cases_by_primary_sector_count_each_case_once(world, client):
    body = insight(client, "case-status", "by=primary_sector")

    assert _status_cells(body) == [("education", "active", 1), ("education", "admitted", 1), ("health", "active", 1)]


def test_an_agency_sees_its_own_drafts_in_the_aggregates_and_no_other_agencys(world, owner_a, owner_b):
    assert insight(owner_a, "case-status")["case_count"] == 3
    assert insight(owner_b, "case-status")["case_count"] == 4


def test_filters_narrow_the_cases_aggregated(world, client, naio):
    assert insight(client, "case-status", "capability=generative_ai")["case_count"] == 2
    assert insight(naio, "case-status", "capability=generative_ai")["case_count"] == 3
    assert insight(naio, "case-status", "sandbox_type=testbed&sandbox_type=flagship_project")["case_count"] == 2
    assert insight(naio, "case-status", "status=draft&capability=generative_ai")["case_count"] == 1
    assert _status_cells(insight(naio, "case-status", "sector=public_administration")) == [
        ("education", "draft", 1),
        ("public_administration", "draft", 1),
    ]
    # E1 started in March 2025; E2 has not started and is planned for September; H1 started in 2024.
    started_2025 = insight(client, "case-status", "started_from=2025-01-01")
    assert _status_cells(started_2025) == [
        ("education", "active", 1),
        ("education", "admitted", 1),
        ("health", "active", 1),
    ]
    assert started_2025["filters"] == {"started_from": "2025-01-01"}
    assert insight(client, "case-status", "started_from=2025-01-01&started_to=2025-06-30")["case_count"] == 1
    assert insight(client, "case-status", "started_from=2026-01-01")["cells"] == []


def _heat(body: dict) -> list[tuple]:
    return [
        (cell["domain"], cell["sector"], cell["risk_count"], cell["mean_score"], cell["materialised_count"])
        for cell in body["cells"]
    ]


def test_the_risk_heatmap_counts_risks_of_visible_cases_by_domain_and_sector(world, client, naio):
    assert _heat(insight(client, "risk-heatmap")) == [
        ("2", "education", 1, 4.0, 0),
        ("2", "health", 1, 4.0, 0),
        ("3", "education", 2, 9.0, 1),
        ("3", "health", 2, 18.5, 1),
        ("7", "health", 1, 1.0, 0),
    ]
    assert _heat(insight(naio, "risk-heatmap")) == [
        ("2", "education", 2, 6.5, 1),
        ("2", "health", 1, 4.0, 0),
        ("2", "public_administration", 1, 9.0, 1),
        ("3", "education", 3, 11.33, 1),
        ("3", "health", 2, 18.5, 1),
        ("3", "public_administration", 1, 16.0, 0),
        ("7", "health", 1, 1.0, 0),
    ]
    assert _heat(insight(client, "risk-heatmap", "by=primary_sector&capability=generative_ai")) == [
        ("2", "education", 1, 4.0, 0),
        ("3", "education", 1, 12.0, 1),
        ("3", "health", 1, 25.0, 0),
        ("7", "health", 1, 1.0, 0),
    ]


def test_an_insight_asked_again_counts_what_was_written_since(world, client, naio, owner_b):
    """Answers are kept until the registry changes: each caller gets its own, and a write counts at once."""
    assert ("7", "health", 1, 1.0, 0) in _heat(insight(client, "risk-heatmap"))
    assert len(_heat(insight(naio, "risk-heatmap"))) == 7
    assert len(_heat(insight(client, "risk-heatmap"))) == 5

    create_risk(owner_b, world.h1, subdomain="7.1", likelihood=3, impact=3)
    assert ("7", "health", 2, 5.0, 0) in _heat(insight(client, "risk-heatmap"))
    assert ("7", "health", 2, 5.0, 0) in _heat(insight(naio, "risk-heatmap"))

    publish(naio, owner_b, world.p1)
    assert _heat(insight(client, "risk-heatmap")) == _heat(insight(naio, "risk-heatmap"))


def _recurring(body: dict) -> list[tuple]:
    return [
        (row["subdomain"], row["sector_count"], row["case_count"], row["risk_count"], row["materialised_count"])
        for row in body["rows"]
    ]


def test_recurring_risks_in_generative_ai_pilots_rank_subdomains_by_sectors_then_cases(world, client, naio):
    public = insight(client, "recurring-risks", "capability=generative_ai")
    everything = insight(naio, "recurring-risks", "capability=generative_ai")

    assert _recurring(public) == [("3.1", 2, 2, 2, 1), ("2.1", 2, 1, 1, 0), ("7.3", 1, 1, 1, 0)]
    assert public["rows"][0]["label"] == "False or misleading information"
    assert public["rows"][0]["domain"] == "3"
    assert public["rows"][0]["sectors"] == [
        {"sector": "education", "case_count": 1, "risk_count": 1},
        {"sector": "health", "case_count": 2, "risk_count": 2},
    ]
    assert _recurring(everything) == [("3.1", 3, 3, 3, 1), ("2.1", 3, 2, 2, 1), ("7.3", 1, 1, 1, 0)]
    assert [s["sector"] for s in everything["rows"][0]["sectors"]] == ["education", "health", "public_administration"]
    # E2 (language) adds a third case to 3.1 in a sector already counted.
    assert _recurring(insight(client, "recurring-risks")) == [
        ("3.1", 2, 3, 3, 1),
        ("2.1", 2, 1, 1, 0),
        ("7.3", 1, 1, 1, 0),
    ]
    assert _recurring(insight(client, "recurring-risks", "capability=generative_ai&by=primary_sector")) == [
        ("3.1", 2, 2, 2, 1),
        ("2.1", 1, 1, 1, 0),
        ("7.3", 1, 1, 1, 0),
    ]


def _transfers(body: dict) -> list[tuple]:
    return [
        (cell["origin_sector"], cell["adopting_sector"], cell["adoption_count"], cell["lesson_count"], cell["results"])
        for cell in body["cells"]
    ]


def _results(**counts) -> dict:
    return {"planned": 0, "applied": 0, "worked": 0, "did_not_work": 0, **counts}


def test_lesson_transfers_count_adoptions_only_when_both_cases_are_visible(world, client, naio, owner_a, owner_b):
    public = [
        ("education", "health", 1, 1, _results(worked=1)),
        ("health", "education", 1, 1, _results(did_not_work=1)),
    ]
    everything = [
        ("education", "health", 1, 1, _results(worked=1)),
        ("education", "public_administration", 1, 1, _results(planned=1)),
        ("health", "education", 1, 1, _results(did_not_work=1)),
        ("public_administration", "health", 1, 1, _results(applied=1)),
    ]

    assert _transfers(insight(client, "lesson-transfers")) == public
    assert _transfers(insight(owner_a, "lesson-transfers")) == public
    assert _transfers(insight(owner_b, "lesson-transfers")) == everything
    assert _transfers(insight(naio, "lesson-transfers")) == everything


def test_lesson_transfer_filters_select_the_origin_or_the_adopting_case(world, client):
    from_education = insight(client, "lesson-transfers", "sector=education")
    into_education = insight(client, "lesson-transfers", "sector=education&apply_filters_to=adopting")

    assert from_education["apply_filters_to"] == "origin"
    # E1 touches education and health, so its lesson is selected by either; H1's only by health.
    assert _transfers(from_education) == [("education", "health", 1, 1, _results(worked=1))]
    assert _transfers(into_education) == [("health", "education", 1, 1, _results(did_not_work=1))]


def _attainment(body: dict) -> list[tuple]:
    return [
        (
            cell["sector"],
            cell["evidence_grade"],
            cell["outcome_count"],
            cell["attained_count"],
            cell["not_attained_count"],
            cell["unknown_count"],
        )
        for cell in body["cells"]
    ]


def test_outcome_attainment_by_sector_and_evidence_grade(world, client, naio):
    assert _attainment(insight(client, "outcome-attainment")) == [
        ("education", "A", 1, 1, 0, 0),
        ("education", "C", 1, 0, 0, 1),
        ("health", "A", 1, 1, 0, 0),
        ("health", "B", 1, 0, 1, 0),
        ("health", "C", 1, 0, 0, 1),
    ]
    assert _attainment(insight(naio, "outcome-attainment")) == [
        ("education", "A", 1, 1, 0, 0),
        ("education", "C", 2, 1, 0, 1),
        ("health", "A", 1, 1, 0, 0),
        ("health", "B", 1, 0, 1, 0),
        ("health", "C", 1, 0, 0, 1),
        ("public_administration", "C", 1, 1, 0, 0),
    ]
    assert _attainment(insight(naio, "outcome-attainment", "sector=public_administration&by=primary_sector")) == [
        ("public_administration", "C", 1, 1, 0, 0)
    ]


def _reviews(body: dict) -> list[tuple]:
    return [(row["agency_slug"], row["case_count"], row["overdue_count"]) for row in body["rows"]]


def test_overdue_reviews_per_lead_agency_most_overdue_first(world, client, naio, agency_a):
    public = insight(client, "overdue-reviews")
    everything = insight(naio, "overdue-reviews")

    assert _reviews(public) == [("agency-a", 2, 1), ("agency-b", 1, 1)]
    assert public["rows"][0]["agency_id"] == agency_a["id"]
    assert public["rows"][0]["agency_name"] == "Ministry A"
    assert public["agency_count"] == 2
    assert _reviews(everything) == [("agency-b", 2, 2), ("agency-a", 2, 1)]
    capped = insight(naio, "overdue-reviews", "limit=1")
    assert (_reviews(capped), capped["agency_count"], capped["limit"]) == ([("agency-b", 2, 2)], 2, 1)
    assert _reviews(insight(naio, "overdue-reviews", "status=admitted")) == [("agency-a", 1, 0)]


def test_an_empty_registry_has_empty_insights(client):
    for name in ("case-status", "risk-heatmap", "lesson-transfers", "outcome-attainment"):
        assert insight(client, name)["cells"] == []
    assert insight(client, "recurring-risks")["rows"] == []
    assert insight(client, "overdue-reviews") == {"filters": {}, "limit": 100, "agency_count": 0, "rows": []}
    assert insight(client, "case-status")["case_count"] == 0


@pytest.mark.parametrize(
    "query",
    ["nope=1", "by=agency", "sector=atlantis", "apply_filters_to=origin", "limit=0", "started_from=yesterday"],
)
def test_bad_parameters_are_refused(client, query):
    response = client.get(f"{INSIGHTS}/case-status?{query}")

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
