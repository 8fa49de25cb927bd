"""Hostile inputs, sent to every operation of the committed OpenAPI document on both databases: none gets a
500, none changes anything. Each is refused with problem details (400, 413, 415, 422) or, where it is
harmless, answered (a search for FTS5 or tsquery syntax finds what it finds).

The test client re-raises what a view raises, so an input that would be a 500 fails here with its traceback.
"""

import io
import json
import re
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from sandbox_api.policy.audit import Event
from sandbox_api.wire.fields import PLAIN_TEXT_PATTERN
from tests.conftest import (
    ROOT,
    Actor,
    adopt,
    case_body,
    create,
    create_case,
    create_lesson,
    create_outcome,
    create_risk,
    key_body,
    lesson_body,
    outcome_body,
    risk_body,
)

SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
OPERATIONS = [
    (method, path, operation)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
    if method in ("get", "post", "patch", "delete")
]
WITH_BODIES = [(method, path) for method, path, operation in OPERATIONS if "requestBody" in operation]

# Some thousand nested arrays in 2 KB: Python's JSON decoder recurses once per level.
DEEP_JSON = '{"title":' + "[" * 980 + "]" * 980 + "}"

# Query values, as raw query-string text (already percent-encoded where they must be).
HOSTILE_QUERY_VALUES = {
    "FTS5 syntax": quote('NEAR(ai data) OR "unclosed * ^col:'),
    "tsquery syntax": quote("ai & !data | (x:* <-> ''"),
    "beyond int64": "99999999999999999999",
    "huge float": "1e400",
    "negative": "-1",
    "non-ASCII digits": quote("١٢"),
    "overlong": "a" * 5000,
    "lone surrogate as UTF-8": "%ED%A0%80",
    "invalid UTF-8": "%FF%FE",
    "C0 control": "%07",
    "NUL": "%00",
}

# Text that the API refuses in every free-text field, with a 422 naming the field.
REFUSED_TEXT = {
    "lone surrogate": "\ud800",
    "C0 control": "bell \x07",
    "escape sequence": "\x1b[31mred",
    "NUL": "a\x00b",
}

REFUSALS = {400, 404, 405, 409, 413, 415, 422}


def component(reference: str) -> dict:
    found: dict = SPEC
    for part in reference.split("/")[1:]:
        found = found[part]
    return found


def parameters(operation: dict) -> list[dict]:
    return [component(p["$ref"]) if "$ref" in p else p for p in operation.get("parameters", [])]


def free_text_fields(method: str, path: str) -> list[str]:
    """The top-level fields of the operation's body that take free text (they carry the plain-text pattern)."""
    schema = SPEC["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = component(schema["$ref"])
    return [name for name, field in schema.get("properties", {}).items() if field.get("pattern") == PLAIN_TEXT_PATTERN]


@pytest.fixture
def registry(client, admin: Actor, naio: Actor, owner_a: Actor, agency_a: dict) -> dict:
    """One record of every kind, to fill the paths' ids: requests then reach what parses their input."""
    case = create_case(owner_a)
    lesson = create_lesson(owner_a, case)
    return {
        "agency_id": agency_a["id"],
        "case_id": case["id"],
        "risk_id": create_risk(owner_a, case)["id"],
        "outcome_id": create_outcome(owner_a, case)["id"],
        "lesson_id": lesson["id"],
        "adoption_id": adopt(owner_a, lesson, create_case(owner_a, title="Adopting pilot"))["id"],
        "key_id": create(admin, "/api/v1/keys", key_body(agency_id=agency_a["id"]))["id"],
        "name": "sectors",
    }


def url_of(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda found: str(ids[found[1]]), path)


def events(connection) -> int:
    return connection.scalar(select(func.count()).select_from(Event))


def assert_refused_or_answered(response, what: str) -> None:
    assert response.status_code < 500, what
    if response.status_code >= 400:
        assert response.status_code in REFUSALS | {401, 403}, (what, response.status_code)
        assert response.content_type == "application/problem+json", what


def test_hostile_query_values_are_refused_or_answered_on_every_read(naio, registry, connection):
    before = events(connection)
    for method, path, operation in OPERATIONS:
        if method != "get":
            continue
        url = url_of(path, registry)
        for parameter in parameters(operation):
            if parameter["in"] != "query":
                continue
            for what, value in HOSTILE_QUERY_VALUES.items():
                response = naio.client.get(
                    f"{url}?{parameter['name']}={value}", headers={"Authorization": f"Bearer {naio.key}"}
                )
                assert_refused_or_answered(response, f"GET {path}?{parameter['name']}= {what}")
                response.close()  # an export streams from its own savepoint until closed
    assert events(connection) == before


@pytest.mark.parametrize(("method", "path"), WITH_BODIES)
def test_a_deeply_nested_body_is_400(naio, admin, registry, connection, method, path):
    before = events(connection)
    actor = admin if path.startswith(("/api/v1/agencies", "/api/v1/keys")) else naio
    response = actor.client.open(
        url_of(path, registry),
        method=method.upper(),
        data=DEEP_JSON,
        headers={"Authorization": f"Bearer {actor.key}", "Content-Type": "application/json", "If-Match": '"x"'},
    )
    assert response.status_code == 400, response.json
    assert response.content_type == "application/problem+json"
    assert events(connection) == before


# A valid body for each creation, and the role that may send it: the hostile text goes into one field at a time.
CREATIONS = {
    "/api/v1/agencies": ("admin", lambda ids: {"slug": "hostile", "name": "Hostile agency", "kind": "ministry"}),
    "/api/v1/keys": ("admin", lambda ids: key_body(agency_id=ids["agency_id"])),
    "/api/v1/cases": ("owner", lambda ids: case_body()),
    "/api/v1/cases/{case_id}/risks": ("owner", lambda ids: risk_body()),
    "/api/v1/cases/{case_id}/outcomes": ("owner", lambda ids: outcome_body()),
    "/api/v1/cases/{case_id}/lessons": ("owner", lambda ids: lesson_body()),
}


@pytest.mark.parametrize("path", CREATIONS)
def test_text_with_control_characters_or_lone_surrogates_is_422_naming_the_field(
    admin, owner_a, registry, connection, path
):
    role, body = CREATIONS[path]
    actor = admin if role == "admin" else owner_a
    fields = free_text_fields("post", path)
    assert fields, f"POST {path} has no free-text field"
    before = events(connection)
    for field in fields:
        for what, value in REFUSED_TEXT.items():
            # Serialised by hand: a lone surrogate is valid JSON text (`\ud800`), never valid UTF-8.
            data = json.dumps({**body(registry), field: value})
            response = actor.client.post(
                url_of(path, registry),
                data=data,
                headers={"Authorization": f"Bearer {actor.key}", "Content-Type": "application/json"},
            )
            assert response.status_code == 422, (path, field, what, response.json)
            assert field in response.json["errors"]["json"], (path, field, what)
    assert events(connection) == before


def test_tab_and_line_breaks_and_bidirectional_controls_are_kept_as_sent(owner_a):
    summary = "Line one\r\nline two\twith a tab; Jawi \u202b\u0628\u0647\u0627\u0633\u202c kept"
    case = create_case(owner_a, summary=summary)
    assert owner_a.get(f"/api/v1/cases/{case['id']}").json["summary"] == summary


@pytest.mark.parametrize("cursor", ["9223372036854775807", "9223372036854775808", "9999999999999999999"])
def test_a_cursor_at_or_beyond_the_largest_event_id_is_an_empty_page_that_keeps_it(client, cursor):
    response = client.get(f"/api/v1/changes?after={cursor}")
    assert response.status_code == 200
    assert response.json == {"events": [], "next": cursor}


@pytest.mark.parametrize("cursor", ["99999999999999999999", quote("١٢"), "007", "-1", "%00"])
def test_a_cursor_longer_than_an_event_id_or_not_in_ascii_digits_is_422(client, cursor):
    response = client.get(f"/api/v1/changes?after={cursor}")
    assert response.status_code == 422
    assert "after" in response.json["errors"]["query"]


def chunked(client, actor: Actor, body: bytes, content_type: str):
    return client.post(
        "/api/v1/agencies",
        input_stream=io.BytesIO(body),
        # What gunicorn says of a chunked body: it ends where the stream ends.
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Authorization": f"Bearer {actor.key}", "Content-Type": content_type, "Transfer-Encoding": "chunked"},
    )


def test_a_chunked_body_is_checked_like_any_other(client, admin, app, connection):
    before = events(connection)
    body = b'{"slug": "chunked", "name": "Chunked agency", "kind": "ministry"}'

    not_json = chunked(client, admin, body, "text/plain")
    too_large = chunked(client, admin, b" " * app.config["MAX_CONTENT_LENGTH"] + body, "application/json")

    assert (not_json.status_code, not_json.content_type) == (415, "application/problem+json")
    assert (too_large.status_code, too_large.content_type) == (413, "application/problem+json")
    assert events(connection) == before
    assert chunked(client, admin, body, "application/json").status_code == 201
