"""The response headers are part of the contract: what the server sends is what the spec documents."""

import json
import re

import pytest
from jsonschema import Draft202012Validator

from sandbox_api.http.api import HEADERS
from tests.conftest import create_case
from tests.test_hardening import app_with

# Headers of the contract: each component of `components/headers`, and the ETag.
CONTRACT_HEADERS = {*HEADERS, "ETag"}


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").json


def documented_headers(spec: dict, path: str, method: str, status: int) -> set[str]:
    """The headers that the spec documents on the answer to `method path` with `status`."""
    for template, item in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method in item:
            response = item[method]["responses"][str(status)]
            if "$ref" in response:
                response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            return set(response.get("headers", {}))
    raise AssertionError(f"{method.upper()} {path} is not in the spec")


def assert_documented(spec: dict, method: str, path: str, response) -> None:
    sent = {name for name in CONTRACT_HEADERS if name in response.headers}
    assert sent <= documented_headers(spec, path, method, response.status_code), (method, path, sent)


def test_every_header_sent_is_documented_on_its_response(spec, client, owner_a, naio):
    case = create_case(owner_a)
    item = f"/api/v1/cases/{case['id']}"
    answers = [
        ("post", "/api/v1/cases", owner_a.post("/api/v1/cases", json={**case_body_of(case)})),
        ("get", "/api/v1/cases", client.get("/api/v1/cases?facets=sector")),
        ("get", "/api/v1/cases", owner_a.get("/api/v1/cases?facets=sector")),
        ("get", item, owner_a.get(item)),
    ]
    etag = answers[-1][2].headers["ETag"]
    answers += [
        ("get", item, owner_a.get(item, headers={"If-None-Match": etag})),
        ("patch", item, owner_a.patch(item, json={"title": "Changed"})),
        ("patch", item, owner_a.patch(item, json={"title": "Changed"}, etag='"stale"')),
        ("patch", item, owner_a.patch(item, json={"title": "Changed"}, etag=etag)),
        ("post", f"{item}/transitions", owner_a.post(f"{item}/transitions", json={"action": "submit"})),
        ("get", "/health/live", client.get("/health/live")),
    ]
    replayed = [owner_a.post("/api/v1/cases", json=case_body_of(case), headers={"Idempotency-Key": "k1"}) for _ in "12"]
    answers += [("post", "/api/v1/cases", answer) for answer in replayed]
    assert [answer.status_code for _, _, answer in answers] == [
        201,
        200,
        200,
        200,
        304,
        428,
        412,
        200,
        200,
        200,
        201,
        201,
    ]
    assert replayed[1].headers["Idempotent-Replayed"] == "true"
    for method, path, answer in answers:
        assert_documented(spec, method, path, answer)


def case_body_of(case: dict) -> dict:
    return {
        name: case[name] for name in ("title", "summary", "primary_sector", "sectors", "capabilities", "sandbox_type")
    }


def test_a_429_documents_its_retry_after(spec, engine, connection):
    client = app_with(engine, connection, RATELIMIT_APPLICATION="1 per minute").test_client()
    client.get("/api/v1/cases")
    refused = client.get("/api/v1/cases")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert_documented(spec, "get", "/api/v1/cases", refused)


def test_x_pagination_is_valid_by_its_schema(spec, client, owner_a):
    for _ in range(3):
        create_case(owner_a)
    schema = {**spec["components"]["schemas"]["PaginationMetadata"], "components": spec["components"]}
    header = spec["components"]["headers"]["X-Pagination"]["content"]["application/json"]["schema"]
    assert header == {"$ref": "#/components/schemas/PaginationMetadata"}
    for page in (1, 2, 3, 4):
        metadata = json.loads(owner_a.get(f"/api/v1/cases?page_size=1&page={page}").headers["X-Pagination"])
        Draft202012Validator(schema).validate(metadata)
        assert set(metadata) <= set(schema["properties"])
    assert json.loads(owner_a.get("/api/v1/cases?page=2&page_size=3").headers["X-Pagination"]) == {
        "total": 3,
        "total_pages": 1,
        "first_page": 1,
        "last_page": 1,
        "page": 2,
        "previous_page": 1,
    }
