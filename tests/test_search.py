"""Full-text search with `q`: stems, AND, phrases, prefixes, filters, visibility, writes in step, ranking,
snippets, hostile input and Malay words, on both databases."""

import json
import uuid

import pytest
from sqlalchemy import select

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.models import Case
from sandbox_api.storage import search
from sandbox_api.storage.db import db
from tests.conftest import create_case, create_lesson, create_risk, publish

RISK = {"title": "Hallucinated answers", "domain": "3", "subdomain": "3.1", "likelihood": 4, "impact": 3}
LESSON = {"title": "Keep a teacher in the loop", "statement": "Answers reviewed first.", "kind": "good_practice"}


def found(actor, url: str, q: str, **params) -> list[str]:
    """The titles that the search answers, in its order."""
    response = actor.get(url, query_string={"q": q, **params})
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json]


def total(response) -> int:
    return json.loads(response.headers["X-Pagination"])["total"]


def test_english_words_are_found_by_their_stem(owner_a):
    create_case(owner_a, title="Prompt clinic", summary="Officers completed training in writing prompts.")
    create_case(owner_a, title="Traffic lights", summary="Signals timed by a model.")

    assert found(owner_a, "/api/v1/cases", "trained") == ["Prompt clinic"]
    assert found(owner_a, "/api/v1/cases", "TRAINS") == ["Prompt clinic"]
    assert found(owner_a, "/api/v1/cases", "officer") == ["Prompt clinic"]


def test_every_word_must_match_and_a_quoted_phrase_keeps_its_order(owner_a):
    create_case(owner_a, title="Tax chatbot", summary="A chatbot answers taxpayers; the teacher assistant is human.")
    create_case(owner_a, title="Clinic chatbot", summary="A chatbot for patients; an assistant teacher reviews it.")

    assert found(owner_a, "/api/v1/cases", "chatbot taxpayers") == ["Tax chatbot"]
    assert found(owner_a, "/api/v1/cases", "chatbot patients tax") == []
    assert sorted(found(owner_a, "/api/v1/cases", "teacher assistant")) == ["Clinic chatbot", "Tax chatbot"]
    assert found(owner_a, "/api/v1/cases", '"teacher assistant"') == ["Tax chatbot"]
    assert found(owner_a, "/api/v1/cases", '"assistant teacher" chatbot') == ["Clinic chatbot"]


def test_a_reference_is_found_as_written(owner_a):
    case = create_case(owner_a, title="Referenced")
    create_case(owner_a, title="Another")

    assert found(owner_a, "/api/v1/cases", case["reference"]) == ["Referenced"]


def test_malay_words_match_whole_words_and_a_prefix_finds_their_affixed_forms(owner_a):
    create_case(owner_a, title="Pembantu pelajaran", summary="Sokongan untuk guru di sekolah luar bandar.")
    create_case(owner_a, title="Pelajar universiti", summary="Bantuan kewangan.")

    assert found(owner_a, "/api/v1/cases", "pelajar") == ["Pelajar universiti"]
    assert found(owner_a, "/api/v1/cases", "PELAJARAN") == ["Pembantu pelajaran"]
    assert sorted(found(owner_a, "/api/v1/cases", "pelajar*")) == ["Pelajar universiti", "Pembantu pelajaran"]
    assert found(owner_a, "/api/v1/cases", "sekolah guru") == ["Pembantu pelajaran"]


def test_search_combines_with_the_filters_and_the_count_is_of_the_matches(owner_a):
    create_case(owner_a, title="Triage in clinics", primary_sector="health")
    create_case(owner_a, title="Triage of appeals", primary_sector="public_administration")
    create_case(owner_a, title="Clinic rosters", primary_sector="health")

    response = owner_a.get("/api/v1/cases", query_string={"q": "triage", "primary_sector": "health"})
    assert [case["title"] for case in response.json] == ["Triage in clinics"]
    assert total(response) == 1
    assert total(owner_a.get("/api/v1/cases", query_string={"q": "triage"})) == 2


def test_a_draft_is_found_only_by_its_agency_and_naio(client, owner_a, owner_b, naio):
    draft = create_case(owner_a, title="Zygomorphic draft", summary="Not yet published.")
    owner_a.post(f"/api/v1/cases/{draft['id']}/lessons", json={**LESSON, "title": "Zygomorphic lesson"})
    public = create_case(owner_a, title="Zygomorphic public", summary="Published.")
    publish(naio, owner_a, public)

    anonymous = client.get("/api/v1/cases", query_string={"q": "zygomorphic"})
    assert [case["title"] for case in anonymous.json] == ["Zygomorphic public"]
    assert total(anonymous) == 1
    assert found(owner_b, "/api/v1/cases", "zygomorphic") == ["Zygomorphic public"]
    assert sorted(found(owner_a, "/api/v1/cases", "zygomorphic")) == ["Zygomorphic draft", "Zygomorphic public"]
    assert sorted(found(naio, "/api/v1/cases", "zygomorphic")) == ["Zygomorphic draft", "Zygomorphic public"]

    assert client.get("/api/v1/lessons", query_string={"q": "zygomorphic"}).json == []
    assert found(owner_b, "/api/v1/lessons", "zygomorphic") == []
    assert found(owner_a, "/api/v1/lessons", "zygomorphic") == ["Zygomorphic lesson"]
    assert found(naio, "/api/v1/lessons", "zygomorphic") == ["Zygomorphic lesson"]
    assert client.get(f"/api/v1/cases/{draft['id']}/risks", query_string={"q": "zygomorphic"}).status_code == 404


def test_lessons_across_cases_page_by_relevance_then_id_over_visible_cases_only(client, owner_a, owner_b, naio):
    public = create_case(owner_a, title="Public pilot", primary_sector="health", sectors=["health"])
    other = create_case(owner_b, title="Other pilot", primary_sector="education", sectors=["education"])
    draft = create_case(owner_b, title="Draft pilot", primary_sector="health", sectors=["health"])
    for case, actor in ((public, owner_a), (other, owner_b)):
        publish(naio, actor, case)
    posted = []
    for case, actor, title in (
        (public, owner_a, "Quokka in the title"),
        *((public, owner_a, f"Same text {n}") for n in range(3)),
        *((other, owner_b, f"Same text {n}") for n in range(3, 5)),
        (draft, owner_b, "Quokka in a draft"),
        (draft, owner_b, "Same text in a draft"),
    ):
        statement = "A quokka was seen." if title.startswith("Same") else "Answers reviewed first."
        response = actor.post(
            f"/api/v1/cases/{case['id']}/lessons", json={**LESSON, "title": title, "statement": statement}
        )
        assert response.status_code == 201, response.json
        posted.append(response.json)
    # The five lessons that say it in their statement tie: the id orders them.
    tied = sorted(
        lesson["id"] for lesson in posted if lesson["title"].startswith("Same text") and "draft" not in lesson["title"]
    )
    pages = [
        client.get("/api/v1/lessons", query_string={"q": "quokka", "page_size": 2, "page": page})
        for page in (1, 2, 3, 4)
    ]
    assert [len(page.json) for page in pages] == [2, 2, 2, 0]
    assert all(total(page) == 6 for page in pages[:3])
    ids = [lesson["id"] for page in pages for lesson in page.json]
    assert ids[0] == posted[0]["id"]
    assert ids[1:] == tied
    # A filter on the lesson's case narrows the same order.
    health = client.get("/api/v1/lessons", query_string={"q": "quokka", "origin_sector": "health"})
    assert [lesson["id"] for lesson in health.json] == [
        posted[0]["id"],
        *sorted(lesson["id"] for lesson in posted[1:4]),
    ]
    # The draft's agency sees its draft's lessons in the same order.
    assert len(owner_b.get("/api/v1/lessons", query_string={"q": "quokka"}).json) == 8


def test_lessons_are_searched_across_cases_with_their_filters(owner_a):
    first, second = create_case(owner_a, title="First"), create_case(owner_a, title="Second")
    lessons = (
        (first, "Consent forms", "Parents signed consent before any data moved.", "good_practice"),
        (second, "Consent fatigue", "Too many consent prompts were ignored.", "pitfall"),
        (second, "Rosters", "Shift rosters drafted by the model saved hours.", "good_practice"),
    )
    for case, title, statement, kind in lessons:
        response = owner_a.post(
            f"/api/v1/cases/{case['id']}/lessons", json={**LESSON, "title": title, "statement": statement, "kind": kind}
        )
        assert response.status_code == 201, response.json

    assert sorted(found(owner_a, "/api/v1/lessons", "consent")) == ["Consent fatigue", "Consent forms"]
    assert found(owner_a, "/api/v1/lessons", "consent", kind="pitfall") == ["Consent fatigue"]
    assert found(owner_a, "/api/v1/lessons", "saved hours") == ["Rosters"]


def test_a_cases_risks_are_searched_with_their_filters(owner_a):
    case = create_case(owner_a)
    url = f"/api/v1/cases/{case['id']}/risks"
    for title, mitigation, status in (
        ("Biased grading", "Moderation by a second teacher.", "mitigating"),
        ("Leaked grades", "Encryption and a second teacher's review.", "identified"),
        ("Downtime", "Offline fallback.", "identified"),
    ):
        response = owner_a.post(url, json={**RISK, "title": title, "mitigation": mitigation, "status": status})
        assert response.status_code == 201, response.json

    assert sorted(found(owner_a, url, "teacher")) == ["Biased grading", "Leaked grades"]
    assert found(owner_a, url, "teacher", status="identified") == ["Leaked grades"]
    assert found(owner_a, url, "offline") == ["Downtime"]


def test_the_index_follows_creates_updates_and_deletes(owner_a):
    case = create_case(owner_a, title="Quokka counter", summary="Counts wildlife.")
    url = f"/api/v1/cases/{case['id']}"
    risk = owner_a.post(f"{url}/risks", json={**RISK, "title": "Quokka misread"}).json
    owner_a.post(f"{url}/lessons", json={**LESSON, "title": "Quokka lesson"})
    assert found(owner_a, "/api/v1/cases", "quokka") == ["Quokka counter"]

    assert owner_a.edit(url, {"title": "Wallaby counter"}).status_code == 200
    assert found(owner_a, "/api/v1/cases", "quokka") == []
    assert found(owner_a, "/api/v1/cases", "wallaby") == ["Wallaby counter"]

    risk_url = f"{url}/risks/{risk['id']}"
    assert owner_a.edit(risk_url, {"description": "The wallaby hides."}).status_code == 200
    assert found(owner_a, f"{url}/risks", "wallaby") == ["Quokka misread"]

    etag = owner_a.get(url).headers["ETag"]
    assert owner_a.delete(url, etag=etag).status_code == 204
    assert found(owner_a, "/api/v1/cases", "wallaby") == []
    # The case's lessons went with it, and with them their entries in the index.
    assert found(owner_a, "/api/v1/lessons", "quokka") == []


def test_a_write_is_searchable_in_its_own_transaction_and_a_rollback_leaves_the_index_as_it_was(app, owner_a):
    case = create_case(owner_a, title="Quokka counter")
    query = {"q": search.parse("numbat"), "sort": search.RELEVANCE}
    with app.app_context():
        session = db.new_session(write=True)
        session.get(Case, uuid.UUID(case["id"])).title = "Numbat counter"
        session.flush()
        statement = search.ordered(select(Case), session=session, index=cases_service.SEARCH_INDEX, query=query)
        assert session.scalars(statement.with_only_columns(Case.title)).all() == ["Numbat counter"]
        session.rollback()
        session.close()

    assert found(owner_a, "/api/v1/cases", "numbat") == []
    assert found(owner_a, "/api/v1/cases", "quokka") == ["Quokka counter"]


def test_a_match_in_the_title_ranks_above_one_in_the_description(owner_a):
    create_case(owner_a, title="Water meters", description="Readings by drone, sometimes.")
    create_case(owner_a, title="Drone surveys", description="Aerial photographs of farms.")

    response = owner_a.get("/api/v1/cases", query_string={"q": "drone"})
    assert [case["title"] for case in response.json] == ["Drone surveys", "Water meters"]
    ranks = [case["match"]["rank"] for case in response.json]
    assert ranks[0] > ranks[1]
    # An explicit sort wins over relevance.
    assert found(owner_a, "/api/v1/cases", "drone", sort="title") == ["Drone surveys", "Water meters"]
    assert found(owner_a, "/api/v1/cases", "drone", sort="-title") == ["Water meters", "Drone surveys"]
    # The pages of a search follow its order.
    assert found(owner_a, "/api/v1/cases", "drone", page_size=1, page=2) == ["Water meters"]


def test_the_snippet_marks_the_match_and_escapes_the_text(owner_a):
    create_case(
        owner_a, title="Forms", description="Applicants <script>alert(1)</script> & clerks reviewed eligibility."
    )

    [case] = owner_a.get("/api/v1/cases", query_string={"q": "eligibility"}).json
    snippet = case["match"]["snippet"]
    assert "<mark>eligibility</mark>" in snippet
    assert "<script>" not in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "&amp;" in snippet


def test_without_q_there_is_no_match_and_relevance_is_the_default_order(owner_a):
    # `sort=relevance` without `q` was 422, though the spec cannot say that one parameter needs another.
    for title in ("Second", "First"):
        create_case(owner_a, title=title)
    listed = owner_a.get("/api/v1/cases").json
    assert all("match" not in case for case in listed)
    by_relevance = owner_a.get("/api/v1/cases", query_string={"sort": "relevance"})
    assert by_relevance.status_code == 200
    assert by_relevance.json == listed


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "*",
        "NEAR(",
        "NEAR(a b)",
        "col:",
        "title:drone",
        "AND OR NOT",
        "drone OR",
        "-drone",
        "^drone",
        '"unbalanced phrase',
        "a''b",
        "{title summary}: drone",
        "ünïcödé ÉCOLE",
        "🙂 drone",
        "数据 安全",
        "drone*",
        "dr*",
        "'; DROP TABLE cases; --",
        "x" * 200,
        " ".join(["word"] * 16),
        " ".join(f"w{number}" for number in range(50)),
    ],
)
def test_hostile_queries_answer_results_or_a_clear_422(owner_a, q):
    create_case(owner_a, title="Drone surveys", summary="NEAR the farms; AND more.")
    for url in ("/api/v1/cases", "/api/v1/lessons"):
        response = owner_a.get(url, query_string={"q": q})
        assert response.status_code in (200, 422), (q, response.status_code)
        if response.status_code == 422:
            assert response.mimetype == "application/problem+json"
            assert response.json["errors"]["query"]["q"]


# What the OpenAPI document refuses: longer than its maxLength, or outside its plain-text pattern.
@pytest.mark.parametrize("q", ["a" * 201, "drone\x00", "drone\x07"])
def test_overlong_queries_and_control_characters_are_422(owner_a, q):
    response = owner_a.get("/api/v1/cases", query_string={"q": q})
    assert response.status_code == 422, q
    assert response.json["errors"]["query"]["q"]


@pytest.mark.parametrize("q", ["", "   ", "*", '""', "!!! ---", '"-" *'])
def test_a_query_with_no_letter_or_digit_matches_nothing(client, naio, owner_a, q):
    case = create_case(owner_a, title="Drone surveys", summary="Aerial photos, checked by officers.")
    create_risk(owner_a, case)
    create_lesson(owner_a, case)
    publish(naio, owner_a, case)
    for route in ("/api/v1/cases", "/api/v1/lessons", "/api/v1/risks", f"/api/v1/cases/{case['id']}/risks"):
        response = client.get(route, query_string={"q": q})
        assert response.status_code == 200, (route, q, response.json)
        assert (response.json, total(response)) == ([], 0), (route, q)
    facets = client.get("/api/v1/cases/facets", query_string={"q": q, "facets": "status"})
    assert facets.json == {"status": []}
    export = client.get("/api/v1/exports/cases", query_string={"q": q, "format": "csv"})
    assert export.status_code == 200
    assert export.get_data(as_text=True).splitlines()[1:] == []
    assert export.get_data(as_text=True).splitlines()[0].endswith(",match")


def test_a_prefix_shorter_than_three_letters_is_searched_as_the_word(owner_a):
    create_case(owner_a, title="Dr Aminah's clinic", summary="A clinic run by one doctor.")
    create_case(owner_a, title="Drone surveys", summary="Aerial photos of farms.")

    assert found(owner_a, "/api/v1/cases", "dr*") == ["Dr Aminah's clinic"]
    assert found(owner_a, "/api/v1/cases", "Dr") == ["Dr Aminah's clinic"]
    assert found(owner_a, "/api/v1/cases", "dro*") == ["Drone surveys"]


def test_past_eight_prefixes_a_word_with_a_star_is_searched_as_the_word(owner_a):
    stems = [f"pre{letter}" for letter in "abcdefghi"]  # nine prefixes
    create_case(owner_a, title="Longer words", summary=" ".join(f"{stem}fix" for stem in stems))
    create_case(owner_a, title="The ninth whole", summary=" ".join(f"{stem}fix" for stem in stems[:8]) + " prei")

    q = " ".join(f"{stem}*" for stem in stems)
    assert [term.prefix for term in search.parse(q).terms] == [True] * search.MAX_PREFIXES + [False]
    assert found(owner_a, "/api/v1/cases", q) == ["The ninth whole"]


def test_every_word_of_a_long_query_must_match_and_a_repeated_one_counts_once(owner_a):
    words = [f"w{number}" for number in range(40)]
    create_case(owner_a, title="Every word", summary=" ".join(words))
    create_case(owner_a, title="All but the last", summary=" ".join(words[:-1]))

    assert found(owner_a, "/api/v1/cases", " ".join(words)) == ["Every word"]
    assert sorted(found(owner_a, "/api/v1/cases", " ".join(words[:-1]))) == ["All but the last", "Every word"]
    repeated = " ".join(["W39", "w39", '"w39"', "w39."] * 10)
    assert found(owner_a, "/api/v1/cases", repeated) == ["Every word"]
    assert len(search.parse(repeated).terms) == 1


def test_operator_words_are_searched_as_words(owner_a):
    create_case(owner_a, title="Near misses", summary="Reports of incidents that were NEAR misses.")
    create_case(owner_a, title="Other", summary="Nothing to see.")

    assert found(owner_a, "/api/v1/cases", "NEAR(misses") == ["Near misses"]
    # Not FTS5's column filter (which would find it): the phrase "summary incidents", found nowhere.
    assert found(owner_a, "/api/v1/cases", "summary:incidents") == []
    assert found(owner_a, "/api/v1/cases", "incidents OR nothing") == []
