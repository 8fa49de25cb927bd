"""Fields the server owns cannot be set through any body (OWASP API3, mass assignment)."""

import marshmallow as ma
import pytest

from sandbox_api.agencies.schemas import AgencySchema
from sandbox_api.cases.schemas import CaseSchema
from sandbox_api.lessons.schemas import AdoptionSchema, LessonSchema
from sandbox_api.outcomes.schemas import OutcomeSchema
from sandbox_api.risks.schemas import RiskSchema
from tests.conftest import case_body
from tests.test_lessons import LESSON
from tests.test_risks_outcomes import OUTCOME, RISK


def plausible(field: ma.fields.Field, current):
    """A value of the field's own type, so that only ownership can be the reason for a refusal."""
    if current is not None:
        return current
    for field_type, value in (
        (ma.fields.DateTime, "2026-01-01T00:00:00Z"),
        (ma.fields.Boolean, True),
        (ma.fields.Integer, 1),
        (ma.fields.Nested, {}),
        (ma.fields.List, []),
        (ma.fields.Dict, {}),
    ):
        if isinstance(field, field_type):
            return value
    return "x"


def server_owned(schema_class) -> list[str]:
    return sorted(name for name, field in schema_class().fields.items() if field.dump_only)


# Each resource: its schema, how to make one, and its collection URL given the world.
RESOURCES = {
    "agency": (AgencySchema, lambda w: "/api/v1/agencies", {"slug": "agency-new", "name": "New", "kind": "ministry"}),
    "case": (CaseSchema, lambda w: "/api/v1/cases", case_body()),
    "risk": (RiskSchema, lambda w: f"/api/v1/cases/{w['case']['id']}/risks", RISK),
    "outcome": (OutcomeSchema, lambda w: f"/api/v1/cases/{w['case']['id']}/outcomes", OUTCOME),
    "lesson": (LessonSchema, lambda w: f"/api/v1/cases/{w['case']['id']}/lessons", LESSON),
    "adoption": (AdoptionSchema, lambda w: f"/api/v1/lessons/{w['lesson']['id']}/adoptions", None),
}
CASES = [(kind, field) for kind, (schema, _, _) in RESOURCES.items() for field in server_owned(schema)]


@pytest.fixture
def world(admin, owner_a, owner_b, case_a):
    lesson = owner_a.post(f"/api/v1/cases/{case_a['id']}/lessons", json=LESSON).json
    adopter = owner_a.post("/api/v1/cases", json=case_body(title="Adopter")).json
    return {"case": case_a, "lesson": lesson, "adopter": adopter, "admin": admin, "owner": owner_a}


# What docs/api-conventions.md and docs/domain.md say the server owns: ids, references, status, publication, timestamps, curation
# and every derived field.
PROMISED = {
    "agency": {"id", "created_at", "updated_at"},
    "case": {
        "id",
        "reference",
        "status",
        "status_changed_at",
        "published",
        "published_at",
        "review_overdue",
        "exit",
        "lead_agency",
    },
    "risk": {"id", "case_id", "score", "residual_score", "created_at", "updated_at"},
    "outcome": {"id", "case_id", "attained", "evidence_grade"},
    "lesson": {"id", "case_id", "origin_sector", "curation", "adoption_count"},
    "adoption": {"id", "lesson_id", "adopting_agency_id", "adopting_agency", "adopting_sector", "created_at"},
}


@pytest.mark.parametrize("kind", sorted(PROMISED))
def test_the_promised_fields_are_server_owned(kind):
    assert PROMISED[kind] <= set(server_owned(RESOURCES[kind][0]))


@pytest.mark.parametrize(("kind", "field"), CASES, ids=[f"{kind}.{field}" for kind, field in CASES])
def test_a_server_owned_field_is_refused_on_create_and_update_and_changes_nothing(world, kind, field):
    schema_class, collection, body = RESOURCES[kind]
    actor = world["admin"] if kind == "agency" else world["owner"]
    url = collection(world)
    made = actor.post(url, json=body or {"adopting_case_id": world["adopter"]["id"]})
    assert made.status_code == 201, made.json
    value = plausible(schema_class().fields[field], made.json.get(field))
    before = actor.get(url).json
    another = {"slug": "agency-other"} if kind == "agency" else {}
    if kind == "adoption":
        another = {"adopting_case_id": actor.post("/api/v1/cases", json=case_body(title="Other")).json["id"]}

    created = actor.post(url, json={**(body or {}), **another, field: value})

    assert created.status_code == 422, created.json
    assert field in created.json["errors"]["json"]
    assert actor.get(url).json == before
    item = made.headers["Location"]
    changed = actor.patch(item, json={field: value}, etag=actor.get(item).headers["ETag"])
    assert changed.status_code == 422, changed.json
    assert actor.get(item).json == made.json


def test_an_agency_key_cannot_hand_a_case_to_another_agency(owner_a, agency_b, case_a):
    response = owner_a.edit(f"/api/v1/cases/{case_a['id']}", {"lead_agency_id": agency_b["id"]})
    assert response.status_code == 403
    assert owner_a.get(f"/api/v1/cases/{case_a['id']}").json == case_a


def test_a_partners_agency_is_server_owned(owner_a, agency_b, case_a):
    """Issue 19: a partner names its agency by `agency_id` alone; `agency` is only ever read."""
    url = f"/api/v1/cases/{case_a['id']}"
    partner = {"agency_id": agency_b["id"], "role": "evaluator", "agency": {"slug": "agency-b", "name": "Ministry B"}}

    created = owner_a.post("/api/v1/cases", json=case_body(title="Other", partners=[partner]))
    changed = owner_a.edit(url, {"partners": [partner]})

    for refused in (created, changed):
        assert refused.status_code == 422, refused.json
        assert "agency" in refused.json["errors"]["json"]["partners"]["0"]
    assert owner_a.get(url).json == case_a
