"""`<list>/facets`: the counts of a list's `X-Facets` header as a body with a schema, for generated clients."""

import json

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import create_case, create_lesson, create_outcome, create_risk, publish

LISTS = {
    "/api/v1/cases": ("CaseFacets", "sector=education", ["status", "sector", "lead_agency"]),
    "/api/v1/risks": ("RiskFacets", "materialised=false", ["domain", "subdomain"]),
    "/api/v1/outcomes": ("OutcomeFacets", "sector=education", ["method", "attained"]),
    "/api/v1/lessons": ("LessonFacets", "q=teacher", ["kind", "applies_to"]),
}


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").json


@pytest.fixture
def registry(naio, owner_a):
    """A published case with a risk, an outcome and a lesson, and a draft case with the same."""
    for published in (True, False):
        case = create_case(owner_a)
        create_risk(owner_a, case)
        create_risk(owner_a, case, subdomain=None, domain="2")
        create_outcome(owner_a, case)
        create_lesson(owner_a, case)
        if published:
            publish(naio, owner_a, case)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.usefixtures("registry")
def test_the_body_is_the_lists_header_for_every_caller(path, spec, client, owner_a):
    component, filters, facets = LISTS[path]
    schema = {**spec["components"]["schemas"][component], "components": spec["components"]}
    asked = "&".join(f"facets={facet}" for facet in facets)
    for caller in (client, owner_a):
        header = caller.get(f"{path}?{filters}&{asked}").headers["X-Facets"]
        body = caller.get(f"{path}/facets?{filters}&{asked}")
        assert body.status_code == 200, body.json
        assert body.json == json.loads(header)
        assert any(count["count"] for counts in body.json.values() for count in counts)
        Draft202012Validator(schema).validate(body.json)


@pytest.mark.parametrize("path", LISTS)
def test_without_facets_every_field_is_counted(path, spec, client):
    component = LISTS[path][0]
    assert set(client.get(f"{path}/facets").json) == set(spec["components"]["schemas"][component]["properties"])


@pytest.mark.usefixtures("registry")
def test_counts_only_what_the_caller_may_see(client, owner_a):
    def statuses(caller) -> dict:
        return {
            count["value"]: count["count"] for count in caller.get("/api/v1/cases/facets?facets=status").json["status"]
        }

    assert statuses(client) == {"admitted": 1}
    assert statuses(owner_a) == {"admitted": 1, "draft": 1}


@pytest.mark.parametrize("parameter", ["page=1", "page_size=10", "sort=title"])
def test_paging_and_order_are_refused(client, parameter):
    answer = client.get(f"/api/v1/cases/facets?{parameter}")
    assert answer.status_code == 422
    assert parameter.split("=")[0] in answer.json["errors"]["query"]
