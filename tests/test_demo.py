"""Demo data: what `make run` shows a newcomer, loaded once, and never into a registry in use."""

import json

import pytest

from sandbox_api.demo import load
from sandbox_api.storage.db import db

PUBLIC_PILOTS = {"Education GPT", "AI at Work 2.0"}


def run_demo_load(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "load", *args])
    assert result.exit_code == 0, result.output
    return result.output


def load_in_transaction(**kwargs) -> int:
    with db.transaction() as session:
        return load(session=session, **kwargs)


def every(actor, url: str) -> list[dict]:
    response = actor.get(url, query_string={"page_size": 100})
    assert response.status_code == 200, response.json
    assert json.loads(response.headers["X-Pagination"])["total"] == len(response.json)
    return response.json


def totals(actor) -> dict[str, int]:
    cases = every(actor, "/api/v1/cases")
    lessons = every(actor, "/api/v1/lessons")
    return {
        "agencies": len(every(actor, "/api/v1/agencies")),
        "cases": len(cases),
        "risks": sum(len(every(actor, f"/api/v1/cases/{case['id']}/risks")) for case in cases),
        "outcomes": sum(len(every(actor, f"/api/v1/cases/{case['id']}/outcomes")) for case in cases),
        "lessons": len(lessons),
        "adoptions": sum(len(every(actor, f"/api/v1/lessons/{lesson['id']}/adoptions")) for lesson in lessons),
    }


@pytest.fixture
def demo(app, naio) -> dict[str, dict]:
    """The demo registry, loaded as `make run` loads it; its cases by title, as NAIO reads them."""
    run_demo_load(app, "--if-empty")
    return {case["title"]: case for case in every(naio, "/api/v1/cases")}


def agency_slug(actor, agency_id: str) -> str:
    return actor.get(f"/api/v1/agencies/{agency_id}").json["slug"]


def test_the_public_pilots_are_listed_with_their_lead_and_partner(demo, naio):
    education_gpt, ai_at_work = demo["Education GPT"], demo["AI at Work 2.0"]

    assert education_gpt["primary_sector"] == "education"
    assert education_gpt["sandbox_type"] == "flagship_project"
    assert agency_slug(naio, education_gpt["lead_agency_id"]) == "moe"
    assert agency_slug(naio, ai_at_work["lead_agency_id"]) == "digital"
    assert {"name": "Google Cloud", "agency_id": None, "agency": None, "role": "technology_provider"} in ai_at_work[
        "partners"
    ]
    assert ai_at_work["participants_count"] == 270


def test_naio_sits_under_the_ministry_of_digital(demo, naio):
    agencies = {agency["slug"]: agency for agency in every(naio, "/api/v1/agencies")}

    assert agencies["naio"]["parent_id"] == agencies["digital"]["id"]
    assert {"moe", "moh", "bnm", "kpkm", "jpa"} <= agencies.keys()
    assert agencies["bnm"]["kind"] == "statutory_body"


def test_ai_at_work_outcomes_carry_their_evidence_grades(demo, naio):
    outcomes = every(naio, f"/api/v1/cases/{demo['AI at Work 2.0']['id']}/outcomes")
    by_title = {outcome["title"]: outcome for outcome in outcomes}

    trained = by_title["Officers trained"]
    assert (trained["actual"], trained["method"], trained["evidence_grade"]) == (270, "administrative_data", "B")
    quality = by_title["Share reporting better work quality"]
    assert (quality["method"], quality["evidence_grade"]) == ("survey", "C")
    assert quality["target"] == 90
    assert quality["actual"] >= 90
    assert "floor" in quality["notes"]


def test_a_lesson_crossed_from_one_sector_to_another(demo, naio):
    crossings = [
        (lesson["origin_sector"], adoption["adopting_sector"], adoption["result"])
        for lesson in every(naio, "/api/v1/lessons")
        for adoption in every(naio, f"/api/v1/lessons/{lesson['id']}/adoptions")
    ]

    assert ("education", "health", "worked") in crossings
    assert all(origin != adopting for origin, adopting, _ in crossings)


def test_naio_endorsed_lessons_that_the_public_can_read(demo, client):
    response = client.get("/api/v1/lessons", query_string={"curation": "endorsed", "page_size": 100})
    endorsed = {lesson["title"] for lesson in response.json}

    assert "Keep a professional between the model and the public" in endorsed
    assert "Give the tools together with hands-on training" in endorsed


def test_lessons_cite_their_own_cases_evidence(demo, naio):
    for case in demo.values():
        outcome_ids = {outcome["id"] for outcome in every(naio, f"/api/v1/cases/{case['id']}/outcomes")}
        risk_ids = {risk["id"] for risk in every(naio, f"/api/v1/cases/{case['id']}/risks")}
        lessons = every(naio, f"/api/v1/cases/{case['id']}/lessons")

        assert lessons, case["title"]
        for lesson in lessons:
            evidence = lesson["evidence"]
            assert evidence["outcome_ids"] or evidence["risk_ids"], lesson["title"]
            assert set(evidence["outcome_ids"]) <= outcome_ids
            assert set(evidence["risk_ids"]) <= risk_ids
            assert set(lesson["applies_to_sectors"]) - {lesson["origin_sector"]}, lesson["title"]


def test_whatever_is_not_from_a_public_source_says_it_is_illustrative(demo, naio):
    illustrative = {title: case for title, case in demo.items() if title not in PUBLIC_PILOTS}

    assert {case["primary_sector"] for case in illustrative.values()} >= {
        "health",
        "finance",
        "agriculture",
        "public_administration",
    }
    for case in illustrative.values():
        assert case["summary"].startswith("Illustrative pilot:")
        assert "illustrative" in case["title"].lower()
    for case in demo.values():
        for risk in every(naio, f"/api/v1/cases/{case['id']}/risks"):
            assert "Illustrative" in risk["title"]
        for lesson in every(naio, f"/api/v1/cases/{case['id']}/lessons"):
            assert "Illustrative" in lesson["statement"]
        for outcome in every(naio, f"/api/v1/cases/{case['id']}/outcomes"):
            assert outcome["source_url"] or "Illustrative" in outcome["notes"]
    for lesson in every(naio, "/api/v1/lessons"):
        for adoption in every(naio, f"/api/v1/lessons/{lesson['id']}/adoptions"):
            assert "Illustrative" in adoption["note"]


def test_public_facts_name_their_source(demo):
    sources = [link for link in demo["AI at Work 2.0"]["links"] if link["kind"] == "source"]

    assert sources
    assert all(link["url"].startswith("https://") for link in sources)


def test_loading_twice_adds_nothing_the_second_time(app, naio):
    first = run_demo_load(app)
    before = totals(naio)

    second = run_demo_load(app)

    assert first == f"Demo data: {before['cases']} cases added.\n"
    assert second == "Demo data: nothing to add.\n"
    assert totals(naio) == before


def test_loading_again_restores_a_deleted_demo_case_and_its_adoptions(naio):
    load_in_transaction()
    before = totals(naio)
    education_gpt = next(case for case in every(naio, "/api/v1/cases") if case["title"] == "Education GPT")
    url = f"/api/v1/cases/{education_gpt['id']}"
    assert naio.delete(url, etag=naio.get(url).headers["ETag"]).status_code == 204

    assert load_in_transaction() == 1
    assert totals(naio) == before


def test_if_empty_loads_nothing_into_a_registry_in_use(app, naio, case_a):
    agencies_before = every(naio, "/api/v1/agencies")

    assert load_in_transaction(if_empty=True) == 0
    assert run_demo_load(app, "--if-empty") == "Demo data: nothing to add.\n"
    assert [case["id"] for case in every(naio, "/api/v1/cases")] == [case_a["id"]]
    assert every(naio, "/api/v1/agencies") == agencies_before


def test_if_empty_loads_an_empty_registry(naio):
    assert load_in_transaction(if_empty=True) > 0
    assert {case["title"] for case in every(naio, "/api/v1/cases")} >= PUBLIC_PILOTS


def test_callers_without_a_key_see_only_what_naio_published(demo, client):
    published = {title for title, case in demo.items() if case["published"]}
    assert PUBLIC_PILOTS <= published < set(demo)
    assert {case["title"] for case in every(client, "/api/v1/cases")} == published


def test_the_demo_is_in_the_change_feed_from_which_the_published_registry_rebuilds(demo, client):
    from tests.test_audit import published_registry, rebuild

    events = client.get("/api/v1/changes", query_string={"limit": 1000}).json["events"]
    assert rebuild(events) == published_registry(client)
