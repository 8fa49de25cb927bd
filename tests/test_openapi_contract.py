"""Operation ids: one per operation, unique, and named by the documented scheme (docs/api-conventions.md)."""

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
