"""Risks and outcomes across all cases: each with its case's reference and sector, filtered, and only of
cases the caller may see."""

import json

import pytest

from tests.conftest import create_case, create_outcome, create_risk, publish


@pytest.fixture
def registry(naio, owner_a, owner_b):
    """A published generative-AI education pilot, a published health pilot, and a health draft."""
    education = create_case(
        owner_a, title="Education GPT", capabilities=["generative_ai"], sectors=["public_administration"]
    )
    health = create_case(owner_b, title="Triage assistant", primary_sector="health", capabilities=["forecasting"])
    draft = create_case(owner_b, title="Draft pilot", primary_sector="health", capabilities=["generative_ai"])
    risks = {
        "hallucination": create_risk(owner_a, education),
        "leak": create_risk(
            owner_a,
            education,
            title="Leak",
            subdomain="2.1",
            principle="privacy_security",
            likelihood=3,
            status="materialised",
            materialised_note="A prompt exposed a pupil's record.",
        ),
        "bias": create_risk(owner_b, health, title="Bias", subdomain="1.3", impact=5),
        "closed": create_risk(
            owner_b,
            health,
            title="Closed after it happened",
            likelihood=1,
            impact=2,
            status="closed",
            materialised_note="Wrong dosage suggested once; caught by a nurse.",
        ),
        "draft": create_risk(owner_b, draft, title="Draft risk", likelihood=2),
    }
    outcome = {"kind": "quantitative", "direction": "increase", "target": 100}
    outcomes = {
        "trained": create_outcome(
            owner_a, education, title="Teachers trained", method="administrative_data", actual=120, **outcome
        ),
        "rct": create_outcome(
            owner_b, health, title="Triage time", method="controlled_experiment", actual=80, **outcome
        ),
        "survey": create_outcome(owner_b, health, title="Nurses satisfied", kind="qualitative", method="survey"),
        "draft": create_outcome(
            owner_b, draft, title="Draft outcome", method="controlled_experiment", actual=150, **outcome
        ),
    }
    education = publish(naio, owner_a, education)
    health = publish(naio, owner_b, health)
    return {"cases": {"education": education, "health": health, "draft": draft}, "risks": risks, "outcomes": outcomes}


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json]


def test_risks_across_cases_name_their_case_and_come_highest_score_first(client, registry):
    response = client.get("/api/v1/risks")

    assert _titles(response) == ["Bias", "Hallucinated answers", "Leak", "Closed after it happened"]
    education = registry["cases"]["education"]
    hallucination = next(item for item in response.json if item["title"] == "Hallucinated answers")
    assert hallucination["case_reference"] == education["reference"]
    assert hallucination["case_primary_sector"] == "education"
    assert hallucination["case_id"] == education["id"]
    assert response.headers["X-Pagination"].startswith('{"total": 4')


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("domain=3", ["Hallucinated answers", "Closed after it happened"]),
        ("subdomain=1.3&subdomain=2.1", ["Bias", "Leak"]),
        ("principle=privacy_security", ["Leak"]),
        ("sector=health", ["Bias", "Closed after it happened"]),
        ("sector=public_administration", ["Hallucinated answers", "Leak"]),
        ("capability=generative_ai", ["Hallucinated answers", "Leak"]),
        ("status=closed", ["Closed after it happened"]),
        ("min_score=12", ["Bias", "Hallucinated answers"]),
        ("min_score=13", ["Bias"]),
        ("materialised=true", ["Leak", "Closed after it happened"]),
        ("materialised=false", ["Bias", "Hallucinated answers"]),
        ("capability=generative_ai&materialised=true", ["Leak"]),
        ("sort=title", ["Bias", "Closed after it happened", "Hallucinated answers", "Leak"]),
    ],
)
def test_risks_across_cases_are_filtered(client, registry, query, expected):
    assert _titles(client.get(f"/api/v1/risks?{query}")) == expected


def test_risks_of_a_draft_are_seen_by_its_agency_and_naio_only(client, naio, owner_a, owner_b, registry):
    assert "Draft risk" not in _titles(client.get("/api/v1/risks"))
    assert "Draft risk" not in _titles(owner_a.get("/api/v1/risks"))
    assert "Draft risk" in _titles(owner_b.get("/api/v1/risks"))
    assert _titles(naio.get("/api/v1/risks?capability=generative_ai&domain=3")) == [
        "Hallucinated answers",
        "Draft risk",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Teachers trained", "Triage time", "Nurses satisfied"]),
        ("sector=health", ["Triage time", "Nurses satisfied"]),
        ("evidence_grade=A", ["Triage time"]),
        ("evidence_grade=B&evidence_grade=C", ["Teachers trained", "Nurses satisfied"]),
        ("method=survey", ["Nurses satisfied"]),
        ("method=survey&evidence_grade=A", []),
        ("attained=true", ["Teachers trained"]),
        ("attained=false", ["Triage time"]),
        ("capability=forecasting&attained=false", ["Triage time"]),
    ],
)
def test_outcomes_across_cases_are_filtered(client, registry, query, expected):
    assert _titles(client.get(f"/api/v1/outcomes?{query}")) == expected


def test_outcomes_across_cases_name_their_case_and_grade(client, naio, registry):
    rct = next(item for item in client.get("/api/v1/outcomes").json if item["title"] == "Triage time")

    assert (rct["case_reference"], rct["case_primary_sector"]) == (registry["cases"]["health"]["reference"], "health")
    assert (rct["evidence_grade"], rct["attained"]) == ("A", False)
    assert "Draft outcome" in _titles(naio.get("/api/v1/outcomes?evidence_grade=A"))


@pytest.mark.parametrize(
    "query",
    ["min_score=26", "materialised=perhaps", "evidence_grade=E", "sector=space", "capability=telepathy", "q2=x"],
)
def test_bad_filters_are_refused_with_problem_details(client, query):
    path = "/api/v1/outcomes" if "evidence_grade" in query else "/api/v1/risks"
    response = client.get(f"{path}?{query}")

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_risks_across_cases_are_faceted_over_the_whole_filtered_list(client, registry):
    response = client.get("/api/v1/risks?page_size=1&facets=domain&facets=sector")

    assert len(response.json) == 1
    assert json.loads(response.headers["X-Facets"]) == {
        "domain": [{"value": "3", "count": 2}, {"value": "1", "count": 1}, {"value": "2", "count": 1}],
        "sector": [
            {"value": "education", "count": 2},
            {"value": "health", "count": 2},
            {"value": "public_administration", "count": 2},
        ],
    }


def test_outcomes_across_cases_are_faceted_within_what_the_caller_sees(client, naio, registry):
    public = json.loads(client.get("/api/v1/outcomes?facets=evidence_grade&facets=attained").headers["X-Facets"])
    everything = json.loads(naio.get("/api/v1/outcomes?facets=evidence_grade").headers["X-Facets"])

    assert public == {
        "evidence_grade": [{"value": "A", "count": 1}, {"value": "B", "count": 1}, {"value": "C", "count": 1}],
        "attained": [{"value": False, "count": 1}, {"value": True, "count": 1}, {"value": None, "count": 1}],
    }
    assert everything["evidence_grade"][0] == {"value": "A", "count": 2}
