"""Examples that work: every request body example of the committed spec, sent as it stands to a fresh registry
with a key of the role the operation documents, succeeds; so does Swagger UI's first "Execute"."""

import json
import re
from functools import cached_property
from pathlib import Path

import pytest

from tests.conftest import Actor, admit, adopt, create_case, create_key, create_lesson, create_outcome, create_risk

SPEC = json.loads((Path(__file__).parents[1] / "openapi" / "openapi.json").read_text())
WRITE_METHODS = ("post", "put", "patch", "delete")
WITH_BODY = [
    pytest.param(method, path, operation, id=f"{method.upper()} {path}")
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in WRITE_METHODS and "requestBody" in operation
]
# The first role that the operation's description says may call it (http.api.Blueprint.policy writes it).
WHO_MAY_CALL = re.compile(r"\*\*Who may call:\*\* keys with role `(\w+)`")

# What an example cannot hold as it stands: the id of a record of this registry. Kept explicit and few.
REPLACED = {
    ("post", "/api/v1/lessons/{lesson_id}/adoptions"): lambda records: {"adopting_case_id": records.other_case["id"]},
}
# The state an operation's example needs its record in, beyond existing.
PRECONDITIONS = {
    ("post", "/api/v1/cases/{case_id}/publication"): lambda records: admit(records.naio, records.owner, records.case),
}


class Records:
    """The records that a path's parameters name, created on first use by the keys that may create them."""

    def __init__(self, owner: Actor, naio: Actor, admin: Actor, agency: dict) -> None:
        self.owner, self.naio, self.admin, self.agency = owner, naio, admin, agency

    @cached_property
    def case(self) -> dict:
        return create_case(self.owner)

    @cached_property
    def other_case(self) -> dict:
        return create_case(self.owner)

    @cached_property
    def lesson(self) -> dict:
        return create_lesson(self.owner, self.case)

    def id_of(self, parameter: str) -> str:
        created = {
            "agency_id": lambda: self.agency,
            "case_id": lambda: self.case,
            "risk_id": lambda: create_risk(self.owner, self.case),
            "outcome_id": lambda: create_outcome(self.owner, self.case),
            "lesson_id": lambda: self.lesson,
            "adoption_id": lambda: adopt(self.owner, self.lesson, self.other_case),
            "key_id": lambda: create_key(self.admin, role="naio"),
        }
        assert parameter in created, f"No record for the path parameter `{parameter}`: add one to Records.id_of."
        return created[parameter]()["id"]


@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODY)
def test_the_example_body_succeeds(method, path, operation, owner_a, naio, admin, agency_a):
    content = operation["requestBody"]["content"]["application/json"]
    assert "example" in content, f"{method.upper()} {path} has no request body example"
    role = WHO_MAY_CALL.search(operation["description"])
    assert role, f"{method.upper()} {path} does not say who may call it"
    actor = {"agency": owner_a, "naio": naio, "admin": admin}[role[1]]
    records = Records(owner_a, naio, admin, agency_a)
    url = re.sub(r"\{(\w+)\}", lambda parameter: records.id_of(parameter[1]), path)
    if (method, path) in PRECONDITIONS:
        PRECONDITIONS[method, path](records)
    body = {**content["example"], **REPLACED.get((method, path), lambda records: {})(records)}

    if method == "patch":
        current = actor.get(url)
        assert current.status_code == 200, current.json
        response = actor.patch(url, json=body, etag=current.headers["ETag"])
    else:
        response = getattr(actor, method)(url, json=body)

    assert 200 <= response.status_code < 300, (response.status_code, response.json)


def test_every_replacement_and_precondition_names_an_operation_with_a_body():
    operations = {(method, path) for method, path, _ in (param.values for param in WITH_BODY)}
    assert set(REPLACED) | set(PRECONDITIONS) <= operations
