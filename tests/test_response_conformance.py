"""Every read route's live answer validates against the committed OpenAPI document (JSON Schema 2020-12), on
the demo registry and on records whose every nullable field is null, for a keyed and a keyless caller: what
a generated client or a validating gateway would check."""

import json
from pathlib import Path

import marshmallow as ma
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from sandbox_api.agencies.schemas import AgencySchema
from sandbox_api.cases.schemas import CaseSchema
from sandbox_api.keys.schemas import ApiKeySchema
from sandbox_api.lessons.schemas import AdoptionSchema, LessonSchema
from sandbox_api.outcomes.schemas import OutcomeSchema
from sandbox_api.policy.auth import Role
from sandbox_api.risks.schemas import RiskSchema
from tests.conftest import (
    Actor,
    actor,
    adopt,
    case_body,
    create,
    create_agency,
    create_case,
    key_body,
    lesson_body,
    outcome_body,
    publish,
    risk_body,
)
from tests.test_demo import run_demo_load

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
SPEC_URI = "urn:sandbox-case-registry:openapi"
REGISTRY = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))
JSON = "application/json"
# Searched and ranked lists add members (`match`, `ranking`) to their items.
VARIANTS = {
    "/api/v1/cases": [{"q": "AI"}],
    "/api/v1/risks": [{"q": "AI"}],
    "/api/v1/lessons": [{"q": "AI"}, {"for_sector": "education"}],
    "/api/v1/changes": [{"limit": 1000}],
}


def pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def validator(location: str) -> Draft202012Validator:
    """A validator of the schema at the JSON pointer, its `$ref`s resolved in the whole document."""
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{location}"}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def response_validator(path: str) -> Draft202012Validator:
    response = SPEC["paths"][path]["get"]["responses"]["200"]
    location = response["$ref"][1:] if "$ref" in response else pointer("paths", path, "get", "responses", "200")
    return validator(location + pointer("content", JSON, "schema"))


READ_PATHS = [
    path
    for path, item in SPEC["paths"].items()
    if "get" in item and JSON in item["get"]["responses"]["200"].get("content", {})
]


def nulls(schema_class: type[ma.Schema]) -> dict:
    """Null for every field of the body that the server accepts as null."""
    return {field.data_key or name: None for name, field in schema_class().load_fields.items() if field.allow_none}


def ids(actor: Actor, collection: str) -> list[str]:
    response = actor.get(collection, query_string={"page_size": 100})
    assert response.status_code == 200, (collection, response.json)
    return [item["id"] for item in response.json]


def urls(reader: Actor, path: str) -> list[str]:
    """The path with its parameters filled in every way the registry can: from the parameter's enumeration,
    or with the ids that the collection the parameter stands in lists."""
    parameters = {p["name"]: p["schema"] for p in SPEC["paths"][path].get("parameters", []) if p["in"] == "path"}
    filled = [""]
    for segment in path.strip("/").split("/"):
        if segment.startswith("{"):
            schema = parameters[segment[1:-1]]
            filled = [f"{url}/{value}" for url in filled for value in schema.get("enum") or ids(reader, url)]
        else:
            filled = [f"{url}/{segment}" for url in filled]
    return filled


def nonconforming(reader: Actor, anonymous) -> list[str]:
    """Every answer of every read route, as the reader (a key that sees everything) and without a key,
    that does not validate: the route, the query and the first error."""
    failures = []
    for path in READ_PATHS:
        check = response_validator(path)
        for url in urls(reader, path):
            for query in [{}, *VARIANTS.get(path, [])]:
                for caller in (reader, anonymous):
                    response = caller.get(url, query_string={**query})
                    if caller is reader:
                        assert response.status_code == 200, (url, query, response.json)
                    elif response.status_code != 200:
                        continue
                    error = next(iter(sorted(check.iter_errors(response.json), key=str)), None)
                    if error is not None:
                        where = "/".join(map(str, error.absolute_path))
                        failures.append(f"GET {url} {query} ({where}): {error.message}")
    return failures


def test_every_read_route_conforms_on_the_demo_registry(app, client):
    run_demo_load(app, "--if-empty")
    failures = nonconforming(actor(client, Role.ADMIN), client)
    assert failures == [], "\n".join(failures[:20])


def test_every_read_route_conforms_when_every_nullable_field_is_null(client, admin, naio):
    agency = create_agency(admin, "nulls", **nulls(AgencySchema))
    owner = actor(client, Role.AGENCY, agency["slug"])
    create(admin, "/api/v1/keys", key_body(**{**nulls(ApiKeySchema), "agency_id": agency["id"]}))
    cases = [create_case(owner, **case_body(**nulls(CaseSchema))) for _ in range(2)]
    for case in cases:
        base = f"/api/v1/cases/{case['id']}"
        create(owner, f"{base}/risks", risk_body(**nulls(RiskSchema)))
        create(owner, f"{base}/outcomes", outcome_body(**nulls(OutcomeSchema)))
        lesson = create(owner, f"{base}/lessons", lesson_body(**nulls(LessonSchema)))
        publish(naio, owner, case)
    adopt(owner, lesson, cases[0], **nulls(AdoptionSchema))
    failures = nonconforming(admin, client)
    assert failures == [], "\n".join(failures[:20])
