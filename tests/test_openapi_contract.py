"""What a generated client needs of the OpenAPI document (docs/api-conventions.md): one operation id per
operation, unique, named by the documented scheme; every enumeration one named component; request bodies
without the fields the server assigns."""

import json
import re
from pathlib import Path

SPEC = json.loads((Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text())
METHODS = ("get", "put", "post", "patch", "delete")


def operation_ids() -> dict[tuple[str, str], str | None]:
    return {
        (method, path): item[method].get("operationId")
        for path, item in SPEC["paths"].items()
        for method in METHODS
        if method in item
    }


def test_every_operation_has_a_unique_camel_case_id_starting_with_its_verb():
    ids = operation_ids()
    verbs = {"get": ("get", "list", "export"), "post": ("create",), "patch": ("update",), "delete": ("delete",)}

    assert None not in ids.values()
    assert len(set(ids.values())) == len(ids)
    for (method, _), operation_id in ids.items():
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)+", operation_id), operation_id
        assert operation_id.startswith(verbs[method]), operation_id


def test_ids_follow_the_path():
    ids = operation_ids()

    assert ids[("get", "/api/v1/cases")] == "listCases"
    assert ids[("get", "/api/v1/cases/{case_id}")] == "getCase"
    assert ids[("post", "/api/v1/cases/{case_id}/risks")] == "createCaseRisk"
    assert ids[("patch", "/api/v1/lessons/{lesson_id}/adoptions/{adoption_id}")] == "updateLessonAdoption"
    assert ids[("get", "/api/v1/risks")] == "listRisks"
    assert ids[("get", "/api/v1/taxonomies/{name}")] == "getTaxonomy"


def enumerations(node, where: str = ""):
    """Where an `enum` stands in the node."""
    if isinstance(node, dict):
        if "enum" in node:
            yield where
        for key, value in node.items():
            yield from enumerations(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from enumerations(value, f"{where}/{index}")


def test_every_enumeration_is_a_component_but_the_values_of_sort_and_facets():
    """`sort` and `facets` differ per list; every other enumeration is one component, referred to."""
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            for parameter in item.get(method, {}).get("parameters", []):
                if parameter.get("name") not in ("sort", "facets"):
                    assert list(enumerations(parameter)) == [], (method, path, parameter["name"])
    for name, schema in SPEC["components"]["schemas"].items():
        # An enumeration's own component is its `enum`; any other `enum` in a component is inlined.
        inlined = [where for key, value in schema.items() if key != "enum" for where in enumerations(value, key)]
        assert inlined == [], name
    assert {"Sector", "Capability", "Principle", "RiskDomain", "RiskSubdomain", "CaseStatus"} <= {
        name for name, schema in SPEC["components"]["schemas"].items() if "enum" in schema
    }


def _referenced(schema: dict) -> set[str]:
    """The components a schema refers to, directly or through its properties, items and alternatives."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if ref := node.get("$ref"):
                found.add(ref.rsplit("/", 1)[-1])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def test_request_bodies_hold_no_read_only_field_at_any_depth():
    # A generated client builds a request from the body's component: a read-only field it lists as required
    # (as response components do) would have to be sent, and the server refuses it.
    components = SPEC["components"]["schemas"]
    bodies = {
        content["schema"]["$ref"].rsplit("/", 1)[-1]
        for path in SPEC["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "requestBody" in operation
        for content in operation["requestBody"]["content"].values()
    }
    seen, pending = set(), set(bodies)
    while pending:
        name = pending.pop()
        seen.add(name)
        pending |= _referenced(components[name]) - seen
    with_read_only = {
        name for name in seen if any(field.get("readOnly") for field in components[name].get("properties", {}).values())
    }
    assert {"NewCase", "CasePatch"} <= bodies and "NewPartner" in seen  # a case's partners, at depth
    assert with_read_only == set()
