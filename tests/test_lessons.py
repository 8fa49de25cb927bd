"""Lessons and adoptions: evidence from the same case, cross-sector lists, the transfer of practice."""

import uuid

import pytest
from sqlalchemy import select

from sandbox_api.cases.models import Case
from sandbox_api.lessons.models import Lesson, LessonAdoption
from sandbox_api.storage.db import db
from tests.conftest import create_case, publish

LESSON = {
    "title": "Keep a teacher in the loop",
    "statement": "Answers reviewed by a teacher before use caught most errors.",
    "kind": "good_practice",
    "applies_to_sectors": ["health", "public_administration"],
    "principles": ["reliability_safety_control"],
    "risk_domains": ["3", "5"],
    "transferability": "high",
}


def lessons_url(case) -> str:
    return f"/api/v1/cases/{case['id']}/lessons"


@pytest.fixture
def health_case(owner_b) -> dict:
    return create_case(owner_b, title="Clinic triage", primary_sector="health")


def test_lesson_lifecycle_with_evidence(owner_a, case_a):
    outcome = owner_a.post(
        f"/api/v1/cases/{case_a['id']}/outcomes",
        json={"title": "Errors caught", "kind": "qualitative", "method": "survey"},
    ).json
    risk = owner_a.post(
        f"/api/v1/cases/{case_a['id']}/risks", json={"title": "Errors", "domain": "3", "likelihood": 3, "impact": 3}
    ).json

    created = owner_a.post(
        lessons_url(case_a),
        json={
            **LESSON,
            "evidence": {
                "outcome_ids": [outcome["id"]],
                "risk_ids": [risk["id"]],
                "urls": ["https://example.org/report"],
            },
        },
    )

    assert created.status_code == 201, created.json
    lesson = created.json
    assert lesson["origin_sector"] == "education"
    assert lesson["curation"] == "proposed"
    assert lesson["adoption_count"] == 0
    assert lesson["applies_to_sectors"] == ["health", "public_administration"]
    assert lesson["evidence"] == {
        "outcome_ids": [outcome["id"]],
        "risk_ids": [risk["id"]],
        "urls": ["https://example.org/report"],
    }
    assert owner_a.get(created.headers["Location"]).json == lesson

    updated = owner_a.edit(created.headers["Location"], {"applies_to_sectors": ["finance"], "evidence": {"urls": []}})

    assert updated.status_code == 200
    assert updated.json["applies_to_sectors"] == ["finance"]
    assert updated.json["evidence"] == {"outcome_ids": [], "risk_ids": [], "urls": []}


def test_evidence_must_come_from_the_same_case(owner_a, owner_b, health_case, case_a):
    foreign = owner_b.post(
        f"/api/v1/cases/{health_case['id']}/outcomes", json={"title": "x", "kind": "qualitative", "method": "survey"}
    ).json

    response = owner_a.post(lessons_url(case_a), json={**LESSON, "evidence": {"outcome_ids": [foreign["id"]]}})

    assert response.status_code == 422
    assert "evidence" in response.json["errors"]["json"]
    assert owner_a.get(lessons_url(case_a)).json == []


def test_curation_is_not_set_by_the_agency(owner_a, case_a):
    response = owner_a.post(lessons_url(case_a), json={**LESSON, "curation": "endorsed"})

    assert response.status_code == 422
    assert "curation" in response.json["errors"]["json"]


def test_lessons_across_cases_by_sector(owner_a, owner_b, naio, case_a, health_case):
    owner_a.post(lessons_url(case_a), json=LESSON)
    owner_a.post(
        lessons_url(case_a),
        json={**LESSON, "title": "Education only", "applies_to_sectors": ["education"], "kind": "pitfall"},
    )
    owner_b.post(
        lessons_url(health_case),
        json={
            **LESSON,
            "title": "Consent first",
            "applies_to_sectors": ["education"],
            "principles": ["privacy_security"],
            "risk_domains": ["2"],
            "transferability": "low",
        },
    )

    def listed(query: str) -> set[str]:
        response = naio.get(f"/api/v1/lessons?{query}")
        assert response.status_code == 200, response.json
        return {lesson["title"] for lesson in response.json}

    assert listed("applies_to=health") == {"Keep a teacher in the loop"}
    assert listed("applies_to=education") == {"Education only", "Consent first"}
    assert listed("origin_sector=health") == {"Consent first"}
    assert listed("origin_sector=education&applies_to=education") == {"Education only"}
    assert listed("kind=pitfall") == {"Education only"}
    assert listed("curation=proposed") == {"Keep a teacher in the loop", "Education only", "Consent first"}
    assert listed("curation=endorsed") == set()
    assert listed("principle=privacy_security") == {"Consent first"}
    assert listed("risk_domain=2") == {"Consent first"}
    assert listed("transferability=low") == {"Consent first"}
    assert naio.get("/api/v1/lessons?applies_to=healthcare").status_code == 422


def test_another_agency_cannot_change_the_lesson(owner_a, owner_b, naio, case_a):
    url = owner_a.post(lessons_url(case_a), json=LESSON).headers["Location"]
    etag = owner_a.get(url).headers["ETag"]

    # While the case is unpublished, agency B cannot see it: 404, exactly like a missing case.
    assert owner_b.get(url).status_code == 404
    assert owner_b.post(lessons_url(case_a), json=LESSON).status_code == 404
    assert owner_b.patch(url, json={"title": "x"}, etag=etag).status_code == 404

    publish(naio, owner_a, case_a)

    assert owner_b.post(lessons_url(case_a), json=LESSON).status_code == 403
    assert owner_b.patch(url, json={"title": "x"}, etag=owner_b.get(url).headers["ETag"]).status_code == 403
    assert owner_a.get(url).json["title"] == LESSON["title"]


def test_an_adoption_carries_practice_across_sectors(owner_a, owner_b, naio, client, case_a, health_case):
    lesson_url = owner_a.post(lessons_url(case_a), json=LESSON).headers["Location"]
    publish(naio, owner_a, case_a)
    lesson = client.get(lesson_url).json
    adoptions_url = f"/api/v1/lessons/{lesson['id']}/adoptions"

    adopted = owner_b.post(
        adoptions_url, json={"adopting_case_id": health_case["id"], "note": "Nurse reviews triage advice"}
    )

    assert adopted.status_code == 201, adopted.json
    adoption = adopted.json
    assert adoption["result"] == "planned"
    assert adoption["adopting_sector"] == "health"
    assert adoption["adopting_agency_id"] == health_case["lead_agency_id"]
    # Until the adopting case is published, the adoption is neither counted nor listed in public.
    assert client.get(lesson_url).json["adoption_count"] == 0
    assert client.get(adoptions_url).json == []
    assert client.get(adopted.headers["Location"]).status_code == 404
    assert [a["id"] for a in owner_b.get(adoptions_url).json] == [adoption["id"]]

    publish(naio, owner_b, health_case)

    assert client.get(lesson_url).json["adoption_count"] == 1
    assert [a["id"] for a in client.get(adoptions_url).json] == [adoption["id"]]

    worked = owner_b.edit(adopted.headers["Location"], {"result": "worked"})

    assert worked.json["result"] == "worked"
    assert [a["id"] for a in client.get(f"{adoptions_url}?result=worked").json] == [adoption["id"]]
    assert owner_b.edit(adopted.headers["Location"], {"adopting_case_id": case_a["id"]}).status_code == 422


def test_an_adoptions_sector_and_agency_are_its_adopting_cases_in_a_query_that_joins_cases(
    app, owner_a, owner_b, naio, case_a, health_case
):
    # Their subqueries read `cases`; joined to the lesson's case, they were correlated to that one instead.
    lesson = owner_a.post(lessons_url(case_a), json=LESSON).json
    publish(naio, owner_a, case_a)
    owner_b.post(f"/api/v1/lessons/{lesson['id']}/adoptions", json={"adopting_case_id": health_case["id"]})
    with_lesson_case = (
        select(LessonAdoption.adopting_sector, LessonAdoption.adopting_agency_id, Case.primary_sector)
        .join(Lesson, Lesson.id == LessonAdoption.lesson_id)
        .join(Case, Case.id == Lesson.case_id)
    )

    with app.app_context():
        rows = db.session.execute(with_lesson_case).all()

    assert [tuple(row) for row in rows] == [("health", uuid.UUID(health_case["lead_agency_id"]), "education")]


def test_every_representation_of_an_adoption_names_the_adopting_agency_as_it_is_named_now(
    client, admin, naio, owner_a, owner_b, agency_a, agency_b, case_a, health_case
):
    """Issue 19: `adopting_agency` beside `adopting_agency_id`, rendered when read, so a rename shows at once."""
    lesson = owner_a.post(lessons_url(case_a), json=LESSON).json
    publish(naio, owner_a, case_a)
    adoptions_url = f"/api/v1/lessons/{lesson['id']}/adoptions"
    adopted = owner_b.post(adoptions_url, json={"adopting_case_id": health_case["id"]})
    publish(naio, owner_b, health_case)
    (publication,) = [
        event
        for event in client.get("/api/v1/changes?limit=1000").json["events"]
        if event["action"] == "publish" and event["entity_id"] == health_case["id"]
    ]
    named_b = {"slug": "agency-b", "name": "Ministry B"}

    assert adopted.status_code == 201, adopted.json
    assert adopted.json["adopting_agency"] == named_b
    assert [adoption["adopting_agency"] for adoption in publication["snapshot"]["adoptions"]] == [named_b]
    admin.edit(f"/api/v1/agencies/{agency_b['id']}", {"name": "Ministry B, renamed"})
    renamed = {"slug": "agency-b", "name": "Ministry B, renamed"}
    for actor in (client, owner_b, naio):
        assert actor.get(adopted.headers["Location"]).json["adopting_agency"] == renamed
        assert [adoption["adopting_agency"] for adoption in actor.get(adoptions_url).json] == [renamed]
    naio.edit(f"/api/v1/cases/{health_case['id']}", {"lead_agency_id": agency_a["id"]})
    handed_over = client.get(adopted.headers["Location"]).json
    assert (handed_over["adopting_agency_id"], handed_over["adopting_agency"]) == (
        agency_a["id"],
        {"slug": "agency-a", "name": "Ministry A"},
    )


def test_adoption_rules(owner_a, owner_b, naio, case_a, health_case):
    lesson = owner_a.post(lessons_url(case_a), json=LESSON).json
    adoptions_url = f"/api/v1/lessons/{lesson['id']}/adoptions"

    own_case = owner_a.post(adoptions_url, json={"adopting_case_id": case_a["id"]})
    unseen_case = owner_a.post(adoptions_url, json={"adopting_case_id": health_case["id"]})
    unseen_lesson = owner_b.post(adoptions_url, json={"adopting_case_id": health_case["id"]})
    publish(naio, owner_a, case_a)
    publish(naio, owner_b, health_case)
    someone_elses = owner_a.post(adoptions_url, json={"adopting_case_id": health_case["id"]})
    missing_case = naio.post(adoptions_url, json={"adopting_case_id": "00000000-0000-4000-8000-000000000000"})
    first = naio.post(adoptions_url, json={"adopting_case_id": health_case["id"], "result": "applied"})
    twice = owner_b.post(adoptions_url, json={"adopting_case_id": health_case["id"]})

    assert own_case.status_code == 422
    assert unseen_case.status_code == 422  # another agency's draft names no case, like a missing one
    assert unseen_lesson.status_code == 404  # a lesson of another agency's draft is not found
    assert someone_elses.status_code == 403
    assert missing_case.status_code == 422
    assert first.status_code == 201
    assert twice.status_code == 409


def test_deleting_a_lesson_deletes_its_adoptions(owner_a, owner_b, naio, case_a, health_case):
    created = owner_a.post(lessons_url(case_a), json=LESSON)
    publish(naio, owner_a, case_a)
    adoptions_url = f"/api/v1/lessons/{created.json['id']}/adoptions"
    adoption_url = owner_b.post(adoptions_url, json={"adopting_case_id": health_case["id"]}).headers["Location"]
    assert naio.get(adoption_url).status_code == 200

    deleted = owner_a.delete(created.headers["Location"], etag=owner_a.get(created.headers["Location"]).headers["ETag"])

    assert deleted.status_code == 204
    assert naio.get(adoption_url).status_code == 404
    assert naio.get(adoptions_url).status_code == 404


def test_deleting_an_outcome_removes_it_from_the_evidence(owner_a, case_a):
    outcome_url = owner_a.post(
        f"/api/v1/cases/{case_a['id']}/outcomes", json={"title": "x", "kind": "qualitative", "method": "survey"}
    ).headers["Location"]
    outcome_id = outcome_url.rsplit("/", 1)[1]
    lesson_url = owner_a.post(lessons_url(case_a), json={**LESSON, "evidence": {"outcome_ids": [outcome_id]}}).headers[
        "Location"
    ]

    owner_a.delete(outcome_url, etag=owner_a.get(outcome_url).headers["ETag"])

    assert owner_a.get(lesson_url).json["evidence"]["outcome_ids"] == []
