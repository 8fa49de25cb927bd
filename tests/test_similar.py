"""Similar cases: ranked by the terms they share with a case, each saying why, within what the caller sees."""

import pytest

from tests.conftest import create_case, create_risk, publish


@pytest.fixture
def pilots(naio, owner_a, owner_b):
    """A generative-AI education pilot and four others sharing more or less with it."""
    target = create_case(
        owner_a,
        title="Education GPT",
        capabilities=["generative_ai", "language"],
        principles=["transparency", "fairness"],
        sectors=["education", "public_administration"],
    )
    create_risk(owner_a, target, subdomain="3.1")
    create_risk(owner_a, target, subdomain="3.1")
    create_risk(owner_a, target, subdomain="2.1")
    # 3 (generative_ai) + 2 (3.1, counted once though met twice) + 1 (transparency) = 6, no shared sector.
    officers = create_case(
        owner_b,
        title="AI at Work",
        primary_sector="health",
        capabilities=["generative_ai", "speech"],
        principles=["transparency"],
    )
    create_risk(owner_b, officers, subdomain="3.1")
    create_risk(owner_b, officers, subdomain="3.1")
    create_risk(owner_b, officers, subdomain="7.3")
    # 2 (education) + 2 (public_administration) = 4.
    classroom = create_case(
        owner_b, title="Timetabling", sectors=["public_administration"], capabilities=["optimisation_planning"]
    )
    # 3 + 3 (generative_ai, language) + 2 (education) + 1 + 1 (both principles) = 10.
    twin = create_case(
        owner_b,
        title="Tutor chatbot",
        capabilities=["generative_ai", "language"],
        principles=["fairness", "transparency"],
    )
    # Shares nothing: not listed.
    create_case(owner_b, title="Crop drones", primary_sector="agriculture", capabilities=["computer_vision"])
    draft = create_case(owner_b, title="Draft twin", capabilities=["generative_ai", "language"])
    for case in (target, officers, classroom, twin):
        publish(naio, owner_a if case is target else owner_b, case)
    return {"target": target, "draft": draft}


def _similar(caller, case: dict, query: str = ""):
    response = caller.get(f"/api/v1/cases/{case['id']}/similar{query}")
    assert response.status_code == 200, response.json
    return response


def test_similar_cases_come_best_first_with_the_terms_they_share(client, pilots):
    response = _similar(client, pilots["target"])

    assert [(case["title"], case["similarity"]["score"]) for case in response.json] == [
        ("Tutor chatbot", 10),
        ("AI at Work", 6),
        ("Timetabling", 4),
    ]
    officers = response.json[1]["similarity"]
    assert officers == {
        "score": 6,
        "shared_capabilities": ["generative_ai"],
        "shared_sectors": [],
        "shared_principles": ["transparency"],
        "shared_risk_subdomains": ["3.1"],
        "shared_words": [],
    }
    assert response.json[2]["similarity"]["shared_sectors"] == ["education", "public_administration"]
    assert response.headers["X-Pagination"].startswith('{"total": 3')


def test_similar_cases_are_paged(client, pilots):
    second = _similar(client, pilots["target"], "?page=2&page_size=2")

    assert [case["title"] for case in second.json] == ["Timetabling"]


def test_a_draft_is_similar_only_for_those_who_may_see_it(client, naio, owner_a, owner_b, pilots):
    assert "Draft twin" not in [case["title"] for case in _similar(client, pilots["target"]).json]
    assert "Draft twin" not in [case["title"] for case in _similar(owner_a, pilots["target"]).json]
    # 3 + 3 (capabilities) + 2 (education) = 8.
    assert ("Draft twin", 8) in [
        (c["title"], c["similarity"]["score"]) for c in _similar(owner_b, pilots["target"]).json
    ]
    assert "Draft twin" in [case["title"] for case in _similar(naio, pilots["target"]).json]


def test_similar_cases_of_a_case_the_caller_may_not_see_are_not_found(client, owner_a, pilots):
    for caller in (client, owner_a):
        response = caller.get(f"/api/v1/cases/{pilots['draft']['id']}/similar")

        assert response.status_code == 404
        assert response.content_type == "application/problem+json"


def test_cases_described_alike_share_their_distinctive_words(client, naio, owner_a, owner_b):
    target = create_case(
        owner_a,
        title="Hallucination checks for tutors",
        primary_sector="agriculture",
        summary="Tutors review chatbot answers for hallucinations before pupils see them.",
    )
    alike = create_case(
        owner_b, title="Homework helper", primary_sector="health", summary="Chatbot hallucinations worried tutors."
    )
    # `answers` and `for` are in most cases: too common to say two cases are alike.
    fillers = [
        create_case(
            owner_b, title=f"Routine pilot {number}", primary_sector="finance", summary="Routine answers for officers."
        )
        for number in range(20)
    ]
    for owner, case in [(owner_a, target), (owner_b, alike), *((owner_b, filler) for filler in fillers)]:
        publish(naio, owner, case)
    # A draft: only its agency and NAIO count it, and for them `tutors` is in one case too many (3 of 23).
    create_case(owner_b, title="Tutor rota", primary_sector="finance", summary="Tutors on duty.")

    response = _similar(client, target)

    assert [case["title"] for case in response.json] == ["Homework helper"]
    # `hallucinations` is the same word as `hallucination` for the index, so it counts once.
    assert response.json[0]["similarity"]["shared_words"] == ["chatbot", "hallucination", "tutors"]
    assert response.json[0]["similarity"]["score"] == 3
    for insider in (owner_b, naio):
        alike_seen = next(case for case in _similar(insider, target).json if case["title"] == "Homework helper")
        assert alike_seen["similarity"]["shared_words"] == ["chatbot", "hallucination"]


def test_english_stop_words_never_make_two_cases_alike(client, naio, owner_a, owner_b):
    target = create_case(
        owner_a, title="Kiosk", primary_sector="agriculture", summary="It was about them, and all of those."
    )
    other = create_case(owner_b, title="Drone", primary_sector="health", summary="Those were all about them.")
    for owner, case in ((owner_a, target), (owner_b, other)):
        publish(naio, owner, case)

    assert _similar(client, target).json == []
