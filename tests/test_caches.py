"""The caches of sandbox_api/caches.py never answer from before a write: what a write changes shows at the next request.

Totals and insight answers are kept per registry state, which every write transaction replaces: each is read,
written to (create, update, delete, a transition) and read again. tests/test_queries.py follows the case list's
total through a case's creation, publication, withdrawal and edit, and tests/test_insights.py an insight
through a risk's creation and a publication; these cover the other writes. The statements, paging statements and
parsed query strings are pure functions of the request: no write changes them, and what the data decides (an
agency's slug) is looked up by the kept statement's own SQL at each request.
"""

import json

from sandbox_api.policy.auth import Role
from tests.conftest import actor, create, create_agency, create_case, risk_body, transition

INSIGHTS = "/api/v1/insights"


def total(reader, url: str) -> int:
    response = reader.get(url)
    assert response.status_code == 200, response.json
    return json.loads(response.headers["X-Pagination"])["total"]


def delete(owner, url: str) -> None:
    assert owner.delete(url, etag=owner.get(url).headers["ETag"]).status_code == 204


def test_list_totals_follow_each_write_to_their_items(owner_a):
    case = create_case(owner_a)
    risks = f"/api/v1/cases/{case['id']}/risks"
    lists = (f"{risks}?domain=3", "/api/v1/risks?domain=3", "/api/v1/cases")

    def totals() -> tuple[int, ...]:
        return tuple(total(owner_a, url) for url in lists)

    assert totals() == (0, 0, 1)
    risk = create(owner_a, risks, risk_body(subdomain="3.1"))
    assert totals() == (1, 1, 1)
    assert owner_a.edit(f"{risks}/{risk['id']}", {"domain": "7", "subdomain": "7.3"}).status_code == 200
    assert totals() == (0, 0, 1)
    assert owner_a.edit(f"{risks}/{risk['id']}", {"domain": "3", "subdomain": "3.2"}).status_code == 200
    assert totals() == (1, 1, 1)
    delete(owner_a, f"{risks}/{risk['id']}")
    assert totals() == (0, 0, 1)
    create(owner_a, risks, risk_body(subdomain="3.1"))
    assert totals() == (1, 1, 1)
    delete(owner_a, f"/api/v1/cases/{case['id']}")
    assert total(owner_a, "/api/v1/risks?domain=3") == 0
    assert total(owner_a, "/api/v1/cases") == 0


def _heat(naio) -> list[tuple]:
    response = naio.get(f"{INSIGHTS}/risk-heatmap")
    assert response.status_code == 200, response.json
    return [(cell["domain"], cell["sector"], cell["risk_count"], cell["mean_score"]) for cell in response.json["cells"]]


def _statuses(naio) -> list[tuple]:
    response = naio.get(f"{INSIGHTS}/case-status")
    assert response.status_code == 200, response.json
    return [(cell["sector"], cell["status"], cell["case_count"]) for cell in response.json["cells"]]


def test_insight_answers_follow_updates_deletions_and_transitions(naio, owner_a):
    case = create_case(owner_a)
    risks = f"/api/v1/cases/{case['id']}/risks"
    assert (_heat(naio), _statuses(naio)) == ([], [("education", "draft", 1)])

    risk = create(owner_a, risks, risk_body(subdomain="3.1", likelihood=4, impact=3))
    assert _heat(naio) == [("3", "education", 1, 12.0)]
    assert owner_a.edit(f"{risks}/{risk['id']}", {"likelihood": 1}).status_code == 200
    assert _heat(naio) == [("3", "education", 1, 3.0)]
    delete(owner_a, f"{risks}/{risk['id']}")
    assert _heat(naio) == []

    transition(owner_a, case, "submit")
    assert _statuses(naio) == [("education", "submitted", 1)]
    assert (
        owner_a.edit(f"/api/v1/cases/{case['id']}", {"primary_sector": "health", "sectors": ["health"]}).status_code
        == 200
    )
    assert _statuses(naio) == [("health", "submitted", 1)]
    delete(owner_a, f"/api/v1/cases/{case['id']}")
    assert _statuses(naio) == []


def test_a_kept_list_statement_looks_its_agency_up_at_each_request(client, admin, naio):
    """The case list's statement for `lead_agency=<slug>` is kept per query: the slug is resolved by its SQL."""
    led_by_c = "/api/v1/cases?lead_agency=agency-c"
    assert total(naio, led_by_c) == 0

    agency = create_agency(admin, "agency-c")
    assert total(naio, led_by_c) == 0
    create_case(actor(client, Role.AGENCY, agency["slug"]))
    assert total(naio, led_by_c) == 1
