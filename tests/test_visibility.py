"""Who sees what, and who may do what to it: every route with an id x every kind of caller (OWASP API1, API5).

A draft is visible only to its agency, NAIO and admin; what a caller may not see is 404 exactly like a
missing id, in item routes, child routes, lists, totals and aggregates.
"""

import json

import pytest

from sandbox_api.policy.auth import endpoint_policy
from tests.conftest import adopt, create_case, create_key, create_lesson, create_outcome, create_risk, publish
from tests.test_lessons import LESSON
from tests.test_risks_outcomes import OUTCOME, RISK

CALLERS = ("anonymous", "agency_a", "agency_b", "naio", "admin")
SEES_EVERYTHING = {"naio", "admin"}

# Every route with an id, each method, and the body a write sends. Writes carry no If-Match, so a caller
# allowed through gets 428 on PATCH and DELETE and nothing changes; POST bodies are valid.
ROUTES = [
    ("GET", "/api/v1/agencies/{agency_id}", None),
    ("PATCH", "/api/v1/agencies/{agency_id}", {"name": "Renamed"}),
    ("DELETE", "/api/v1/agencies/{agency_id}", None),
    ("GET", "/api/v1/cases/{case_id}", None),
    ("PATCH", "/api/v1/cases/{case_id}", {"title": "Renamed"}),
    ("DELETE", "/api/v1/cases/{case_id}", None),
    ("POST", "/api/v1/cases/{case_id}/transitions", {"action": "withdraw"}),
    ("POST", "/api/v1/cases/{case_id}/publication", {"published": True}),
    ("GET", "/api/v1/cases/{case_id}/history", None),
    ("GET", "/api/v1/cases/{case_id}/similar", None),
    ("GET", "/api/v1/cases/{case_id}/risks", None),
    ("POST", "/api/v1/cases/{case_id}/risks", RISK),
    ("GET", "/api/v1/cases/{case_id}/risks/{risk_id}", None),
    ("PATCH", "/api/v1/cases/{case_id}/risks/{risk_id}", {"impact": 1}),
    ("DELETE", "/api/v1/cases/{case_id}/risks/{risk_id}", None),
    ("GET", "/api/v1/cases/{case_id}/outcomes", None),
    ("POST", "/api/v1/cases/{case_id}/outcomes", OUTCOME),
    ("GET", "/api/v1/cases/{case_id}/outcomes/{outcome_id}", None),
    ("PATCH", "/api/v1/cases/{case_id}/outcomes/{outcome_id}", {"actual": 1}),
    ("DELETE", "/api/v1/cases/{case_id}/outcomes/{outcome_id}", None),
    ("GET", "/api/v1/cases/{case_id}/lessons", None),
    ("POST", "/api/v1/cases/{case_id}/lessons", LESSON),
    ("GET", "/api/v1/cases/{case_id}/lessons/{lesson_id}", None),
    ("PATCH", "/api/v1/cases/{case_id}/lessons/{lesson_id}", {"title": "Renamed"}),
    ("DELETE", "/api/v1/cases/{case_id}/lessons/{lesson_id}", None),
    ("POST", "/api/v1/lessons/{lesson_id}/curation", {"curation": "endorsed"}),
    ("GET", "/api/v1/lessons/{lesson_id}/adoptions", None),
    ("POST", "/api/v1/lessons/{lesson_id}/adoptions", "adopt with the caller's own case"),
    ("GET", "/api/v1/lessons/{lesson_id}/adoptions/{adoption_id}", None),
    ("PATCH", "/api/v1/lessons/{lesson_id}/adoptions/{adoption_id}", {"result": "worked"}),
    ("DELETE", "/api/v1/lessons/{lesson_id}/adoptions/{adoption_id}", None),
    ("GET", "/api/v1/taxonomies/{name}", None),
    ("GET", "/api/v1/keys/{key_id}", None),
    ("POST", "/api/v1/keys/{key_id}/rotation", {"overlap_hours": 1}),
    ("POST", "/api/v1/keys/{key_id}/revocation", {"note": "Leaked."}),
]


def _flask_path(path: str) -> str:
    return path.replace("{name}", "<name>").replace("{", "<uuid:").replace("}", ">")


def test_the_matrix_covers_every_route_with_an_id(app):
    declared = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if "<" in rule.rule and rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert declared == {(method, _flask_path(path)) for method, path, _ in ROUTES}


def _case_with_children(owner, title: str) -> dict:
    case = create_case(owner, title=title)
    risk = create_risk(owner, case, **RISK)
    outcome = create_outcome(owner, case, **OUTCOME)
    lesson = create_lesson(owner, case, **LESSON)
    ids = {"case_id": case["id"], "risk_id": risk["id"], "outcome_id": outcome["id"], "lesson_id": lesson["id"]}
    return {"case": case, "lesson": lesson, **ids}


@pytest.fixture
def world(client, naio, admin, owner_a, owner_b, agency_a):
    """Agency A's draft and published cases, each with a risk, outcome and lesson; agency B's published
    and draft cases, each adopting A's published lesson."""
    a_draft = _case_with_children(owner_a, "A draft")
    a_public = _case_with_children(owner_a, "A published")
    publish(naio, owner_a, a_public["case"])
    b_public = create_case(owner_b, title="B published", primary_sector="health")
    publish(naio, owner_b, b_public)
    b_draft = create_case(owner_b, title="B draft", primary_sector="health")
    key = create_key(admin, name="Dashboard", role="naio")
    public_adoption = adopt(owner_b, a_public["lesson"], b_public)
    private_adoption = adopt(owner_b, a_public["lesson"], b_draft)
    return {
        "actors": {"anonymous": client, "agency_a": owner_a, "agency_b": owner_b, "naio": naio, "admin": admin},
        "agency_id": agency_a["id"],
        "key_id": key["id"],
        "own_case": {"agency_a": a_draft["case_id"], "agency_b": b_draft["id"], "naio": b_public["id"]},
        # Each subject: the ids that fill a route, who sees it, and which agency may change it.
        "subjects": {
            "A's draft case": ({**a_draft}, {"agency_a", *SEES_EVERYTHING}, "agency_a"),
            "A's published case": ({**a_public}, set(CALLERS), "agency_a"),
            "an adoption between published cases": (
                {**a_public, "adoption_id": public_adoption["id"]},
                set(CALLERS),
                "agency_b",
            ),
            "an adoption by B's draft": (
                {**a_public, "adoption_id": private_adoption["id"]},
                {"agency_b", *SEES_EVERYTHING},
                "agency_b",
            ),
        },
    }


def _expected(app, method: str, path: str, caller: str, visible: bool, changer: str | None) -> str:
    """`200`, `404`, `401`, `403`, or `through` (authorised: any answer but 401, 403, 404 or 5xx)."""
    roles = endpoint_policy(app, _endpoint(app, path), method).roles
    if roles is None:
        return "200" if visible else "404"
    if caller == "anonymous":
        return "401"
    if ("agency" if caller.startswith("agency") else caller) not in roles:
        return "403"
    if not visible:
        return "404"
    # An agency changes only its own agency's records; it adopts a lesson it sees with a case of its own.
    if caller.startswith("agency") and changer is not None and not path.endswith("/adoptions"):
        return "through" if caller == changer else "403"
    return "200" if method == "GET" else "through"


def _endpoint(app, path: str) -> str:
    flask_path = _flask_path(path)
    return next(rule.endpoint for rule in app.url_map.iter_rules() if rule.rule == flask_path)


def _outcome(method: str, response) -> str:
    if response.status_code in (401, 403, 404) or (method == "GET" and response.status_code == 200):
        return str(response.status_code)
    assert response.status_code < 500, response.json
    return "through"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_each_caller_gets_what_its_role_and_visibility_allow(app, world, method, path, body):
    subjects = world["subjects"]
    if "{adoption_id}" not in path and "{case_id}" not in path and "{lesson_id}" not in path:
        ids = {"agency_id": world["agency_id"], "key_id": world["key_id"], "name": "sectors"}
        subjects = {"the resource": (ids, set(CALLERS), None)}
    elif "{adoption_id}" not in path:
        subjects = {name: subject for name, subject in subjects.items() if "adoption" not in name}
    else:
        subjects = {name: subject for name, subject in subjects.items() if "adoption" in name}
    mismatches = []
    for subject_name, (ids, visible_to, changer) in subjects.items():
        url = path.format(
            **{
                name: ids.get(name)
                for name in (
                    "agency_id",
                    "key_id",
                    "case_id",
                    "risk_id",
                    "outcome_id",
                    "lesson_id",
                    "adoption_id",
                    "name",
                )
            }
        )
        for caller in CALLERS:
            actor = world["actors"][caller]
            payload = body
            if body == "adopt with the caller's own case":
                payload = {"adopting_case_id": world["own_case"].get(caller, ids["case_id"])}
            if method == "GET":
                response = actor.get(url)
            elif method == "DELETE":
                response = actor.delete(url)
            else:
                response = getattr(actor, method.lower())(url, json=payload)
            expected = _expected(app, method, path, caller, caller in visible_to, changer)
            if _outcome(method, response) != expected:
                mismatches.append(
                    (subject_name, caller, expected, response.status_code, response.get_data(as_text=True)[:120])
                )
    assert mismatches == []


def test_lists_and_their_totals_hold_only_what_the_caller_may_see(world):
    actors = world["actors"]
    expected_titles = {
        "anonymous": {"A published", "B published"},
        "agency_a": {"A published", "B published", "A draft"},
        "agency_b": {"A published", "B published", "B draft"},
        "naio": {"A published", "B published", "A draft", "B draft"},
        "admin": {"A published", "B published", "A draft", "B draft"},
    }
    for caller, titles in expected_titles.items():
        response = actors[caller].get("/api/v1/cases?page_size=100")
        assert {case["title"] for case in response.json} == titles, caller
        assert json.loads(response.headers["X-Pagination"])["total"] == len(titles), caller
        drafts = actors[caller].get("/api/v1/cases?status=draft")
        assert json.loads(drafts.headers["X-Pagination"])["total"] == len(titles - {"A published", "B published"})


def test_lessons_across_cases_hold_only_lessons_of_visible_cases(world):
    a_draft_lesson = world["subjects"]["A's draft case"][0]["lesson_id"]
    for caller in CALLERS:
        response = world["actors"][caller].get("/api/v1/lessons?page_size=100")
        ids = {lesson["id"] for lesson in response.json}
        assert (a_draft_lesson in ids) == (caller in {"agency_a", *SEES_EVERYTHING}), caller
        assert json.loads(response.headers["X-Pagination"])["total"] == len(ids)


def test_adoptions_by_unpublished_cases_are_neither_listed_nor_counted(world):
    ids = world["subjects"]["an adoption by B's draft"][0]
    private_adoption = ids["adoption_id"]
    for caller in CALLERS:
        actor = world["actors"][caller]
        listed = {item["id"] for item in actor.get(f"/api/v1/lessons/{ids['lesson_id']}/adoptions").json}
        assert (private_adoption in listed) == (caller in {"agency_b", *SEES_EVERYTHING}), caller
        lesson = actor.get(f"/api/v1/cases/{ids['case_id']}/lessons/{ids['lesson_id']}").json
        assert lesson["adoption_count"] == 1, caller  # the adoption by B's published case only
