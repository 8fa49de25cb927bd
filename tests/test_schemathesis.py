"""Schemathesis fuzzes every operation in-process, as every kind of caller, with valid and invalid data, and
follows the spec's links through sequences of calls: no 5xx, and every answer is one the spec documents."""

import hashlib
import json
import re
import uuid

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.openapi.checks import EnsureResourceAvailability, RejectedPositiveData
from sqlalchemy import Connection

from sandbox_api import create_app
from sandbox_api.config import TestConfig
from sandbox_api.policy.auth import Role
from tests.conftest import case_body, make_key

EXAMPLES_PER_OPERATION = 30
# The stateful phase: scenarios, each a chain of calls that follows the spec's links from a creating POST.
STATEFUL_SCENARIOS = 60
STATEFUL_STEPS = 8
# Stands for "the resource's current ETag" in a generated If-Match or If-None-Match; replaced just before
# the call, so that PATCH and DELETE get past the precondition and exercise the write, and GET answers 304.
CURRENT_ETAG = "current-etag"
CONDITIONAL_HEADERS = ("If-Match", "If-None-Match")
WHO_MAY_CALL = re.compile(r"\*\*Who may call:\*\* ([^\n]*)")
# Body fields that name other resources, and the seeded resource each may point at.
REFERENCES = {
    "lead_agency_id": "agency_id",
    "parent_id": "parent_agency_id",
    "agency_id": "agency_id",
    "adopting_case_id": "adopter_case_id",
    "outcome_ids": "outcome_id",
    "risk_ids": "risk_id",
}
# A 422 for a schema-valid body is a spec mismatch when the body's own validation refused it (the spec
# should have said so), but documented behaviour when a rule about the registry's state or about several
# fields at once refused it: a reference to nothing, fields that contradict each other. JSON Schema cannot
# express those; docs/api-conventions.md promises 422 for them, and the field descriptions state the rules.
BODY_VALIDATION = "The request did not validate"
CROSS_FIELD_KEY = "_schema"  # marshmallow's key for a rule about several fields of one object

# Path parameters naming records that belong to a case: a risk, outcome or lesson, or an adoption by one.
CHILD_IDS = frozenset({"risk_id", "outcome_id", "lesson_id", "adoption_id"})

# Who calls. Each request is sent as one of them, chosen from the request itself (see `caller_for`).
ANONYMOUS = "anonymous"
OWNER = "agency"  # an `agency` key of the agency that leads the seeded cases
OTHER_AGENCY = "other agency"  # an `agency` key of another agency: the owner's parent, which has no say over it
CALLERS = (ANONYMOUS, OWNER, OTHER_AGENCY, Role.NAIO.value, Role.ADMIN.value)
# Stands for the caller's key in a generated Authorization header, e.g. `Bearer key-of:naio`; replaced just
# before the call. The coverage phase generates its cases when the tests are collected, before any key exists.
KEY_PLACEHOLDER = "Bearer key-of:"

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20250101,
        # Valid and invalid data: every invalid request must be refused with a documented 4xx.
        "generation": {"deterministic": True, "database": "none", "mode": "all"},
        # The stateful phase follows the links the spec declares (sandbox_api/openapi_links.py), and only those.
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    }
)


class Registry:
    """The app under test, a key per caller, and resources that generated requests may point at."""

    def __init__(self, app: Flask, connection: Connection) -> None:
        self.app = app
        self.connection = connection  # the test's; each stateful scenario runs in a savepoint of it
        self.admin_key = make_key(Role.ADMIN)
        self.naio_key = make_key(Role.NAIO)
        self.keys: dict[str, str | None] = {
            ANONYMOUS: None,
            Role.NAIO.value: self.naio_key,
            Role.ADMIN.value: self.admin_key,
        }
        self.ids: dict[str, str] = {}
        self.agency_of: dict[str, str] = {}  # the agency each `agency` key is bound to
        self.created: dict[str, dict] = {}  # what the API answered 201 with, by id

    def wsgi(self, environ, start_response):
        # A fresh app context per request, as in production: its own session, closed at the end.
        with self.app.app_context():
            return self.app.wsgi_app(environ, start_response)

    def request(self, method: str, url: str, key: str | None, **kwargs):
        with self.app.app_context():
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            headers.update(kwargs.pop("headers", {}))
            response = self.app.test_client().open(url, method=method, headers=headers, **kwargs)
        assert response.status_code < 500, (method, url, response.get_json())
        return response

    def create(self, url: str, body: dict, key: str | None = None) -> str:
        response = self.request("POST", url, key or self.naio_key, json=body)
        assert response.status_code == 201, (url, response.get_json())
        self.created[response.json["id"]] = response.json
        return response.json["id"]

    def seed(self) -> None:
        """Two agencies with a key each, and three cases of the second: the first published, with a risk, an
        outcome and a lesson, adopted by the second case; the second and third drafts."""

        def agency(**fields) -> tuple[str, str]:
            slug = f"fuzz-{uuid.uuid4().hex[:8]}"
            body = {"slug": slug, "name": "Fuzzing Ministry", "kind": "ministry", **fields}
            return self.create("/api/v1/agencies", body, self.admin_key), slug

        parent_agency_id, parent_slug = agency()
        agency_id, slug = agency(parent_id=parent_agency_id)
        self.keys[OWNER] = make_key(Role.AGENCY, slug)
        self.keys[OTHER_AGENCY] = make_key(Role.AGENCY, parent_slug)
        self.agency_of = {OWNER: agency_id, OTHER_AGENCY: parent_agency_id}
        case_id = self.create("/api/v1/cases", case_body(lead_agency_id=agency_id))
        other_case_id = self.create("/api/v1/cases", case_body(lead_agency_id=agency_id, title="Adopter"))
        adopter_case_id = self.create("/api/v1/cases", case_body(lead_agency_id=agency_id, title="Late adopter"))
        risk_id = self.create(
            f"/api/v1/cases/{case_id}/risks", {"title": "Bias", "domain": "1", "likelihood": 3, "impact": 4}
        )
        outcome_id = self.create(
            f"/api/v1/cases/{case_id}/outcomes",
            {"title": "Officers trained", "kind": "quantitative", "method": "survey"},
        )
        lesson_id = self.create(
            f"/api/v1/cases/{case_id}/lessons",
            {
                "title": "Pilot with teachers",
                "statement": "Teachers adopt tools they helped design.",
                "kind": "good_practice",
                "evidence": {"outcome_ids": [outcome_id], "risk_ids": [risk_id]},
            },
        )
        adoption_id = self.create(f"/api/v1/lessons/{lesson_id}/adoptions", {"adopting_case_id": other_case_id})
        self.publish(case_id)
        self.ids = {
            "parent_agency_id": parent_agency_id,
            "agency_id": agency_id,
            "case_id": case_id,
            "draft_case_id": other_case_id,
            "adopter_case_id": adopter_case_id,
            "risk_id": risk_id,
            "outcome_id": outcome_id,
            "lesson_id": lesson_id,
            "adoption_id": adoption_id,
        }

    def publish(self, case_id: str) -> None:
        """Submit (the owning agency), admit and publish (NAIO): anonymous callers see it and its children."""
        url = f"/api/v1/cases/{case_id}"
        for key, path, body in (
            (self.keys[OWNER], "transitions", {"action": "submit"}),
            (self.naio_key, "transitions", {"action": "admit"}),
            (self.naio_key, "publication", {"published": True}),
        ):
            response = self.request("POST", f"{url}/{path}", key, json=body)
            assert response.status_code == 200, (path, body, response.get_json())

    def current_etag(self, path: str, authorization: str | None) -> str:
        """The ETag of the resource as the caller sees it (callers without a key see less of a case)."""
        with self.app.app_context():
            headers = {"Authorization": authorization} if authorization else {}
            response = self.app.test_client().get(path, headers=headers)
        return response.headers.get("ETag", "") if response.status_code == 200 else '"gone"'

    def caller_of(self, case) -> str | None:
        """Who sent the case: the caller whose key it carries (None for a key of an earlier seed)."""
        authorization = (case.headers or {}).get("Authorization")
        if not authorization:
            return ANONYMOUS
        return next((caller for caller, key in self.keys.items() if key and authorization == f"Bearer {key}"), None)

    def cases_behind(self, case) -> set[str]:
        """The cases whose visibility decides whether the case's caller may see what it asks for: the case in
        the path, the case of a lesson, risk or outcome in it, and the adopting case of an adoption in it."""
        parameters = case.path_parameters or {}
        cases = {parameters.get("case_id")}
        for name in CHILD_IDS:
            created = self.created.get(str(parameters.get(name)), {})
            cases |= {created.get("case_id"), created.get("adopting_case_id")}
        return {case_id for case_id in cases if case_id}

    def hidden_from(self, case) -> bool:
        """Whether what the case reads exists (NAIO reads it) but its caller may not see it: a case behind it
        is unpublished and the caller has no key, or its `agency` key is not of the case's lead agency."""
        caller = self.caller_of(case)
        if caller not in (ANONYMOUS, OTHER_AGENCY):
            return False
        if self.request("GET", case.formatted_path, self.naio_key).status_code != 200:
            return False
        for case_id in self.cases_behind(case):
            found = self.request("GET", f"/api/v1/cases/{case_id}", self.naio_key)
            private = found.status_code == 200 and not found.json["published"]
            if private and (caller == ANONYMOUS or found.json["lead_agency_id"] != self.agency_of[caller]):
                return True
        return False

    def gone_with_its_case(self, case) -> bool:
        """Whether the record the case reads was deleted with a case behind it: deleting a case deletes
        its risks, outcomes, lessons and adoptions (see `DELETE /api/v1/cases/{case_id}`)."""
        if not CHILD_IDS & set(case.path_parameters or {}):
            return False
        return any(
            self.request("GET", f"/api/v1/cases/{case_id}", self.naio_key).status_code == 404
            for case_id in self.cases_behind(case)
        )

    def headers_to_send(self, case) -> dict:
        """The case's headers with the placeholders replaced: the caller's key, the current ETag."""
        headers = dict(case.headers or {})
        authorization = headers.get("Authorization", "")
        if authorization.startswith(KEY_PLACEHOLDER):
            headers["Authorization"] = f"Bearer {self.keys[authorization.removeprefix(KEY_PLACEHOLDER)]}"
        for name in CONDITIONAL_HEADERS:
            if headers.get(name) == CURRENT_ETAG:
                headers[name] = self.current_etag(case.formatted_path, headers.get("Authorization"))
        return headers


def permitted_callers(operation) -> tuple[str, ...]:
    """The callers that the operation's `**Who may call:**` admits (`agency`: the owning agency's key)."""
    who = WHO_MAY_CALL.search(operation.definition.raw.get("description", ""))
    assert who, f"{operation.label} does not say who may call it"
    roles = re.findall(r"`(\w+)`", who.group(1))
    if not roles:
        return CALLERS  # anyone, with or without a key
    assert set(roles) <= {OWNER, Role.NAIO, Role.ADMIN}, f"{operation.label}: unknown roles {roles}"
    return tuple(roles)


def caller_for(case) -> str:
    """Who sends this request: any caller, with those the operation admits twice as likely.

    Chosen from a digest of the request, not drawn: the same request always goes out as the same caller, so
    Hypothesis replays and shrinks a failure faithfully; over the examples of an operation, every caller
    comes up (unauthorized ones answer 401, 403 or 404), and the callers that may call it reach its logic.
    Values that differ from run to run (ids, ETags) count by what they are, not by their value.
    """
    headers = {
        name: value if name not in CONDITIONAL_HEADERS else "etag"
        for name, value in (case.headers or {}).items()
        if name.lower() != "authorization"
    }
    request = [case.operation.label, case.path_parameters, case.query, headers, case.body]
    seeded = {value: name for name, value in (Current.registry.ids if Current.registry else {}).items()}
    stable = without_run_values(request, seeded)
    digest = hashlib.sha256(json.dumps(stable, sort_keys=True, default=repr).encode()).digest()
    candidates = CALLERS + permitted_callers(case.operation)
    return candidates[int.from_bytes(digest[:8], "big") % len(candidates)]


class Current:
    """The registry of the running test, for what is registered on the schema at import time."""

    registry: Registry | None = None


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def without_run_values(value, seeded: dict[str, str]):
    """The value with each UUID replaced by the name of the seeded resource it is, or by `uuid`."""
    if isinstance(value, dict):
        return {str(name): without_run_values(item, seeded) for name, item in value.items()}
    if isinstance(value, list):
        return [without_run_values(item, seeded) for item in value]
    if isinstance(value, str) and is_uuid(value):
        return seeded.get(value, "uuid")
    return value


def with_seeded_references(value, ids: dict[str, str], field: str | None = None):
    """The body with every valid UUID that names another resource replaced by a seeded one."""
    if isinstance(value, dict):
        return {name: with_seeded_references(item, ids, name) for name, item in value.items()}
    if isinstance(value, list):
        return [with_seeded_references(item, ids, field) for item in value]
    if field in REFERENCES and REFERENCES[field] in ids and isinstance(value, str) and is_uuid(value):
        return ids[REFERENCES[field]]
    return value


def spec_from_the_app() -> dict:
    """The spec the app serves; generating it touches no database."""
    response = create_app(TestConfig).test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.json


def serve(environ, start_response):
    return Current.registry.wsgi(environ, start_response)


schema = schemathesis.openapi.from_dict(spec_from_the_app(), config=CONFIG)
schema.app = serve


@schema.auth(refresh_interval=None)
class RegistryKeys:
    """Each request carries the key of its caller (`caller_for`), or none for an anonymous one."""

    def get(self, case, context):
        return CALLERS

    def set(self, case, callers, context):
        caller = caller_for(case)
        headers = {name: value for name, value in (case.headers or {}).items() if name.lower() != "authorization"}
        case.headers = headers if caller == ANONYMOUS else {**headers, "Authorization": KEY_PLACEHOLDER + caller}


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict | None) -> st.SearchStrategy:
    # Either the generated ids or the seeded ones, all or none, so that child ids belong to their
    # parent. Only valid UUIDs are swapped: a deliberately invalid id stays invalid.
    # A seeded case id is also tried as the draft case, which only its agency, NAIO and admin see. An id of
    # a created resource, which a link of the stateful phase provides, stays.
    registry = Current.registry
    ids = registry.ids if registry else {}
    swappable = {
        name
        for name, value in (path_parameters or {}).items()
        if name in ids and is_uuid(value) and value not in registry.created
    }
    if not swappable:
        return st.just(path_parameters)
    seeded = {**path_parameters, **{name: ids[name] for name in swappable}}
    variants = [path_parameters, seeded]
    if "case_id" in swappable:
        variants.append({**seeded, "case_id": ids["draft_case_id"]})
    return st.sampled_from(variants)


@schema.hook
def after_call(context, case, response) -> None:
    if response.status_code == 201 and Current.registry:
        body = response.json()
        Current.registry.created[body["id"]] = body


@schema.hook
def flatmap_body(context, body) -> st.SearchStrategy:
    ids = Current.registry.ids if Current.registry else {}
    seeded = with_seeded_references(body, ids)
    return st.just(body) if seeded == body else st.sampled_from([body, seeded])


@schema.hook
def flatmap_headers(context, headers: dict | None) -> st.SearchStrategy:
    conditional = [name for name in CONDITIONAL_HEADERS if name in (headers or {})]
    if not conditional:
        return st.just(headers)
    return st.sampled_from([headers, {**headers, **dict.fromkeys(conditional, CURRENT_ETAG)}])


def field_errors(errors, path: tuple = ()) -> list[tuple]:
    """The paths to every message of a problem's `errors` member, e.g. `("json", "links", "0", "url")`."""
    if isinstance(errors, dict):
        return [found for key, value in errors.items() for found in field_errors(value, (*path, key))]
    return [path]


@schema.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure except requests refused for a documented reason."""
    if isinstance(failure, EnsureResourceAvailability):
        # The check expects whoever reads a created resource to find it, but the reader is not always its
        # creator: a draft and its risks, outcomes, lessons and adoptions are private to its agency, NAIO and
        # admin, and anyone else gets 404 exactly as for a missing one (see *Visibility* in the spec). Nor
        # does it know that a record goes with its deleted case.
        return not (Current.registry.hidden_from(case) or Current.registry.gone_with_its_case(case))
    if not isinstance(failure, RejectedPositiveData):
        return True
    if response.status_code == 412:
        return False  # a generated If-Match names no current representation: 412, as documented
    if response.status_code == 422:
        problem = response.json()
        if BODY_VALIDATION not in problem.get("detail", ""):
            return False  # a rule about references or about several fields, raised by the service
        return not all(path[-1] == CROSS_FIELD_KEY for path in field_errors(problem.get("errors", {})))
    return True


@pytest.fixture
def registry(app: Flask, connection: Connection):
    Current.registry = Registry(app, connection)
    Current.registry.seed()
    yield Current.registry
    Current.registry = None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_conforms_to_the_spec(case, registry):
    # A copy: Hypothesis passes the coverage phase's cases again to the next database's run.
    case = case.derive(headers=registry.headers_to_send(case), keep_auth=True)
    response = case.call_and_validate()
    if case.method.upper() == "DELETE" and response.status_code == 204:
        registry.seed()  # a seeded resource may be gone; later cases get a fresh set


class RegistryWorkflows(schema.as_state_machine()):
    """Chains of calls along the spec's links: create a case, then change, move, publish, delete it...

    Each scenario starts from the seeded registry and is rolled back at its end, so that a scenario replays
    exactly: Hypothesis needs the same calls to get the same answers.
    """

    def setup(self):
        self.savepoint = Current.registry.connection.begin_nested()

    def teardown(self):
        self.savepoint.rollback()

    def before_call(self, case):
        case.headers = Current.registry.headers_to_send(case)


def test_sequences_of_calls_along_the_links_conform_to_the_spec(registry):
    RegistryWorkflows.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            phases=[Phase.generate],  # as Schemathesis runs its stateful phase: report unshrunk scenarios
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


# Found by the fuzzer, pinned here so that they run whatever it draws: PostgreSQL refuses NUL in text,
# SQLite stores it, and neither may turn it into a 500.
def test_a_nul_character_in_a_string_is_never_a_server_error(naio, agency_a, client):
    created = naio.post("/api/v1/cases", json=case_body(lead_agency_id=agency_a["id"], title="Pilot\x00"))
    filtered = client.get("/api/v1/cases", query_string={"lead_agency": "moe\x00"})

    assert created.status_code in (201, 422), created.get_data(as_text=True)
    if created.status_code == 201:
        assert client.get(created.headers["Location"]).json["title"] == "Pilot\x00"
    assert filtered.status_code in (200, 422), filtered.get_data(as_text=True)
