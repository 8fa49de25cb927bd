"""Lessons for my sector: other sectors' lessons that apply to it, ranked, each saying why it ranks there."""

import pytest

from sandbox_api.policy.auth import Role
from tests.conftest import actor, adopt, create_agency, create_case, create_lesson, create_outcome, curate, publish

FOR_HEALTH = "/api/v1/lessons?for_sector=health"


@pytest.fixture
def registry(client, admin, naio, owner_a, owner_b):
    """Education (agency A) and finance (agency B) lessons for health, and the lessons that must not show.

    Adopted by a health pilot (agency C), an agriculture pilot (B), the finance pilot (B), all published,
    and by a draft public-administration pilot of agency A. Lessons are adopted once their cases are public.
    """
    create_agency(admin, "agency-c", name="Ministry of Health C")
    owner_c = actor(client, Role.AGENCY, "agency-c")
    education = create_case(owner_a, title="Education GPT", primary_sector="education")
    finance = create_case(owner_b, title="Fraud triage", primary_sector="finance")
    health = create_case(owner_c, title="Clinic triage", primary_sector="health")
    draft_education = create_case(owner_a, title="Unpublished tutor", primary_sector="education")
    agriculture = create_case(owner_b, title="Crop advice", primary_sector="agriculture")
    draft_public_admin = create_case(owner_a, title="Draft letters", primary_sector="public_administration")

    experiment = create_outcome(
        owner_a,
        education,
        title="Marking time saved",
        kind="quantitative",
        method="controlled_experiment",
        baseline=10,
        target=20,
        actual=25,
        direction="increase",
    )
    survey = create_outcome(owner_b, finance, title="Analysts satisfied", kind="qualitative", method="survey")
    by_experiment = {"outcome_ids": [experiment["id"]]}
    by_survey = {"outcome_ids": [survey["id"]]}

    lessons = {
        "endorsed_a": create_lesson(
            owner_a, education, title="Teacher in the loop", applies_to_sectors=["health"], evidence=by_experiment
        ),
        "endorsed_c": create_lesson(
            owner_b,
            finance,
            title="Explain each flag",
            applies_to_sectors=["education", "health"],
            evidence=by_survey,
        ),
        "proposed_adopted": create_lesson(
            owner_a, education, title="Co-design with staff", applies_to_sectors=["health", "finance"]
        ),
        "retired": create_lesson(
            owner_b, finance, title="Full automation", applies_to_sectors=["health"], evidence=by_survey
        ),
        "from_health": create_lesson(owner_c, health, title="Nurse review", applies_to_sectors=["health"]),
        "agriculture_only": create_lesson(
            owner_a, education, title="Seasonal data", applies_to_sectors=["agriculture"]
        ),
        "proposed_plain": create_lesson(owner_b, finance, title="Log every override", applies_to_sectors=["health"]),
        "of_a_draft": create_lesson(
            owner_a, draft_education, title="Unpublished insight", applies_to_sectors=["health"]
        ),
    }
    for name in ("endorsed_a", "endorsed_c", "from_health", "agriculture_only"):
        curate(naio, lessons[name], "endorsed")
    curate(naio, lessons["retired"], "retired")

    for owner, case in ((owner_a, education), (owner_b, finance), (owner_c, health), (owner_b, agriculture)):
        publish(naio, owner, case)
    # The endorsed lessons' adoptions must not lift them: curation and evidence come first.
    adopt(owner_c, lessons["endorsed_c"], health, result="did_not_work")
    adopt(owner_c, lessons["proposed_adopted"], health, result="worked")
    adopt(owner_b, lessons["proposed_adopted"], agriculture, result="worked")
    adopt(owner_b, lessons["proposed_adopted"], finance, result="did_not_work")
    adopt(owner_a, lessons["proposed_adopted"], draft_public_admin, result="worked")
    adopt(owner_b, lessons["retired"], agriculture, result="worked")

    return lessons


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json]


def _ranking(response, title: str) -> dict:
    return next(item["ranking"] for item in response.json if item["title"] == title)


def test_endorsed_lessons_from_other_sectors_first_and_whether_they_worked(client, registry):
    response = client.get(FOR_HEALTH)

    assert _titles(response) == [
        "Teacher in the loop",
        "Explain each flag",
        "Co-design with staff",
        "Log every override",
    ]
    assert _ranking(response, "Teacher in the loop") == {
        "position_key": ["endorsed", "A", 1, 0],
        "curation": "endorsed",
        "best_evidence_grade": "A",
        "cited_outcomes": 1,
        "attained_outcomes": 1,
        "adoptions_worked": 0,
        "adoptions_did_not_work": 0,
        "reasons": [
            "Endorsed by NAIO as good practice to scale",
            "Evidence grade A (controlled experiment), the best of 1 cited outcome; 1 attained its target",
            "No adopting case reports that it worked",
        ],
    }
    assert _ranking(response, "Explain each flag") == {
        "position_key": ["endorsed", "C", 0, -1],
        "curation": "endorsed",
        "best_evidence_grade": "C",
        "cited_outcomes": 1,
        "attained_outcomes": 0,
        "adoptions_worked": 0,
        "adoptions_did_not_work": 1,
        "reasons": [
            "Endorsed by NAIO as good practice to scale",
            "Evidence grade C (survey or expert review), the best of 1 cited outcome; 0 attained its target",
            "No adopting case reports that it worked; did not work in 1 case (health)",
        ],
    }
    # The draft pilot's adoption is not public: two published cases report it worked, one that it did not.
    assert _ranking(response, "Co-design with staff") == {
        "position_key": ["proposed", None, 0, 1],
        "curation": "proposed",
        "best_evidence_grade": None,
        "cited_outcomes": 0,
        "attained_outcomes": 0,
        "adoptions_worked": 2,
        "adoptions_did_not_work": 1,
        "reasons": [
            "Proposed by its agency, not yet endorsed by NAIO",
            "Cites no outcome as evidence",
            "Worked in 2 adopting cases (agriculture, health); did not work in 1 case (finance)",
        ],
    }
    assert _ranking(response, "Log every override")["position_key"] == ["proposed", None, 0, 0]


def test_a_ranked_item_is_the_lesson_plus_its_ranking(client, registry):
    ranked = client.get(FOR_HEALTH).json[0]
    lesson = client.get(f"/api/v1/cases/{ranked['case_id']}/lessons/{ranked['id']}").json

    assert {name: value for name, value in ranked.items() if name != "ranking"} == lesson
    assert all("ranking" not in item for item in client.get("/api/v1/lessons?applies_to=health").json)


def test_visibility_decides_which_lessons_and_which_adoptions_count(registry, owner_a, owner_b, naio):
    for_health = [owner_a.get(FOR_HEALTH), naio.get(FOR_HEALTH)]
    for response in for_health:
        # The draft case's lesson is its agency's and NAIO's; the newer of two equal keys comes first.
        assert _titles(response) == [
            "Teacher in the loop",
            "Explain each flag",
            "Co-design with staff",
            "Unpublished insight",
            "Log every override",
        ]
        ranking = _ranking(response, "Co-design with staff")
        assert (ranking["adoptions_worked"], ranking["adoptions_did_not_work"]) == (3, 1)
        assert ranking["reasons"][2] == (
            "Worked in 3 adopting cases (agriculture, health, public_administration); did not work in 1 case (finance)"
        )

    other_agency = owner_b.get(FOR_HEALTH)
    assert _titles(other_agency) == [
        "Teacher in the loop",
        "Explain each flag",
        "Co-design with staff",
        "Log every override",
    ]
    assert _ranking(other_agency, "Co-design with staff")["adoptions_worked"] == 2


def test_for_sector_combines_with_the_other_filters(client, registry, naio):
    assert _titles(client.get(f"{FOR_HEALTH}&curation=endorsed")) == ["Teacher in the loop", "Explain each flag"]
    assert _titles(client.get(f"{FOR_HEALTH}&origin_sector=finance")) == ["Explain each flag", "Log every override"]
    assert _titles(naio.get(f"{FOR_HEALTH}&curation=proposed&origin_sector=education")) == [
        "Co-design with staff",
        "Unpublished insight",
    ]
    # Retired lessons are no practice to scale, so ranking for a sector never lists them.
    assert _titles(client.get(f"{FOR_HEALTH}&curation=retired")) == []
    assert _titles(client.get(f"{FOR_HEALTH}&origin_sector=health")) == []
    assert _titles(client.get("/api/v1/lessons?for_sector=agriculture")) == ["Seasonal data"]


def test_pages_follow_the_ranking(client, registry):
    first = client.get(f"{FOR_HEALTH}&page_size=3")
    second = client.get(f"{FOR_HEALTH}&page_size=3&page=2")

    assert _titles(first) + _titles(second) == [
        "Teacher in the loop",
        "Explain each flag",
        "Co-design with staff",
        "Log every override",
    ]
    assert '"total": 4' in first.headers["X-Pagination"]


def test_an_explicit_sort_wins_over_the_ranking(client, registry):
    response = client.get(f"{FOR_HEALTH}&sort=title")

    assert _titles(response) == [
        "Co-design with staff",
        "Explain each flag",
        "Log every override",
        "Teacher in the loop",
    ]
    assert _ranking(response, "Teacher in the loop")["position_key"] == ["endorsed", "A", 1, 0]


@pytest.mark.parametrize(
    ("query", "field"),
    [("for_sector=mars", "for_sector"), ("for_sector=", "for_sector"), ("for_sector=health&sort=rank", "sort")],
)
def test_a_bad_for_sector_query_is_refused(client, query, field):
    response = client.get(f"/api/v1/lessons?{query}")

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]["query"]


def test_the_document_gives_sort_no_default_so_a_client_that_fills_in_defaults_keeps_the_ranking(client, registry):
    """Swagger UI and generated clients send a parameter's published default: a `sort` default would turn the
    ranking off (and relevance with `q`)."""
    spec = client.get("/openapi.json").json
    for item in spec["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                assert parameter.get("name") != "sort" or "default" not in parameter["schema"]

    ranked = client.get(FOR_HEALTH)
    by_creation = client.get(f"{FOR_HEALTH}&sort=-created_at")

    assert _titles(ranked)[0] == "Teacher in the loop"
    assert sorted(_titles(by_creation)) == sorted(_titles(ranked))
    created = [lesson["created_at"] for lesson in by_creation.json]
    assert created == sorted(created, reverse=True)
    assert all("ranking" in lesson for lesson in by_creation.json)
