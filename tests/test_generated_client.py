"""A client generated from the committed OpenAPI document by openapi-python-client takes a pilot through the
registry on both databases: every answer must parse into the client's own types, so a field the document
types wrongly (a null where it promises an enumeration, a missing required field) fails here."""

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
from flask import Flask

from sandbox_api.policy.auth import Role
from tests.conftest import ROOT, make_key

SPEC = ROOT / "openapi" / "openapi.json"
PACKAGE = "registry_client"
MODULES = {
    "client": "client",
    "types": "types",
    "models": "models",
    "agencies": "api.agencies",
    "keys": "api.keys",
    "cases": "api.cases",
    "risks": "api.risks",
    "outcomes": "api.outcomes",
    "lessons": "api.lessons",
}


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The client's package, generated once per session; any warning of the generator fails it."""
    folder = tmp_path_factory.mktemp("generated")
    bin_folder = os.path.dirname(sys.executable)
    subprocess.run(
        [
            os.path.join(bin_folder, "openapi-python-client"),
            "generate",
            "--path",
            str(SPEC),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
            "--fail-on-warning",
        ],
        check=True,
        timeout=120,
        # The generator formats its output with ruff, which it looks for on the PATH.
        env={**os.environ, "PATH": bin_folder + os.pathsep + os.environ.get("PATH", "")},
    )
    sys.path.insert(0, str(folder))
    try:
        yield SimpleNamespace(
            **{name: importlib.import_module(f"{PACKAGE}.{module}") for name, module in MODULES.items()}
        )
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


def module(package, name: str):
    """One operation's module of a tag's package (`create_case` of `api.cases`)."""
    return importlib.import_module(f"{package.__name__}.{name}")


class Registry:
    """The generated client's calls, each through the app served in-process over WSGI."""

    def __init__(self, generated: SimpleNamespace, app: Flask):
        self.g = generated
        self.app = app

    def client(self, key: str | None = None):
        arguments = {
            "base_url": "http://localhost",
            # A status the document does not list is a failure, not an unparsed answer.
            "raise_on_unexpected_status": True,
            "httpx_args": {"transport": httpx.WSGITransport(app=self.app)},
        }
        if key is None:
            return self.g.client.Client(**arguments)
        return self.g.client.AuthenticatedClient(token=key, **arguments)

    def call(self, tag: str, operation: str, **arguments):
        """The operation's detailed answer: its status, headers and parsed body."""
        return module(getattr(self.g, tag), operation).sync_detailed(**arguments)

    def ok(self, tag: str, operation: str, model: str, status: int = 200, **arguments):
        """The operation's parsed body, which must be the model (a list of it, for a list) with that status."""
        response = self.call(tag, operation, **arguments)
        assert response.status_code == status, response.content
        expected = getattr(self.g.models, model)
        items = response.parsed if isinstance(response.parsed, list) else [response.parsed]
        assert all(isinstance(item, expected) for item in items), response.parsed
        return response.parsed

    def problem(self, response, status: int):
        """The parsed problem details of an error answer."""
        assert response.status_code == status, response.content
        assert isinstance(response.parsed, self.g.models.Problem), response.parsed
        assert response.parsed.status == status
        return response.parsed

    def pages(self, tag: str, operation: str, **arguments) -> tuple[list, object]:
        """Every item of a list, page by page, following `next_page` of its X-Pagination header; and the
        first page's pagination."""
        items, page, first = [], 1, None
        while True:
            response = self.call(tag, operation, page=page, **arguments)
            assert response.status_code == 200, response.content
            pagination = self.g.models.PaginationMetadata.from_dict(json.loads(response.headers["X-Pagination"]))
            first = first or pagination
            items.extend(response.parsed)
            if isinstance(pagination.next_page, self.g.types.Unset):
                return items, first
            page = pagination.next_page


def test_a_pilot_through_the_generated_client(generated, app: Flask):
    registry = Registry(generated, app)
    m = generated.models
    admin = registry.client(make_key(Role.ADMIN))
    anonymous = registry.client()

    # The agency and its keys, as the admin makes them.
    agency = registry.ok(
        "agencies",
        "create_agency",
        "Agency",
        201,
        client=admin,
        body=m.NewAgency(slug="kkm", name="Ministry of Health", kind=m.AgencyKind("ministry")),
    )
    agency_key = m.NewApiKey(name="KKM integration", role=m.Role("agency"), agency_id=agency.id)
    naio_key = m.NewApiKey(name="NAIO reviewer", role=m.Role("naio"))
    kkm, naio = (
        registry.client(registry.ok("keys", "create_key", "CreatedApiKey", 201, client=admin, body=body).key)
        for body in (agency_key, naio_key)
    )

    # A pilot of the agency, with its risks (one without subdomain or principle), an outcome and a lesson.
    case = registry.ok(
        "cases",
        "create_case",
        "Case",
        201,
        client=kkm,
        body=m.NewCase(
            title="Clinic triage assistant",
            summary="Suggests a triage level for walk-in patients.",
            primary_sector=m.Sector("health"),
            sandbox_type=m.SandboxType("operational_pilot"),
        ),
    )
    assert case.status == m.CaseStatus("draft")
    bare_risk = m.NewRisk(
        title="Queue stalls", description="Seen in Kuantan.", domain=m.RiskDomain("7"), likelihood=2, impact=2
    )
    full_risk = m.NewRisk(
        title="Urgent patients triaged as routine",
        description="Seen in Kuantan.",
        domain=m.RiskDomain("7"),
        subdomain=m.RiskSubdomain("7.3"),
        principle=m.Principle("human_benefit"),
        likelihood=2,
        impact=5,
    )
    for body in (bare_risk, full_risk):
        registry.ok("risks", "create_case_risk", "Risk", 201, client=kkm, case_id=case.id, body=body)
    risks = registry.ok("risks", "list_case_risks", "RiskListItem", client=kkm, case_id=case.id)
    assert {(risk.subdomain, risk.principle) for risk in risks} == {
        (None, None),
        (m.RiskSubdomain("7.3"), m.Principle("human_benefit")),
    }
    outcome = m.NewOutcome(
        title="Patients triaged within 10 minutes",
        kind=m.OutcomeKind("quantitative"),
        method=m.Method("administrative_data"),
        unit="%",
        baseline=40,
        target=90,
        actual=93.5,
        direction=m.Direction("increase"),
    )
    registry.ok("outcomes", "create_case_outcome", "Outcome", 201, client=kkm, case_id=case.id, body=outcome)
    lesson = registry.ok(
        "lessons",
        "create_case_lesson",
        "Lesson",
        201,
        client=kkm,
        case_id=case.id,
        body=m.NewLesson(
            title="Keep a nurse in the loop",
            statement="A nurse confirming each suggestion caught the under-triaged patients.",
            kind=m.LessonKind("good_practice"),
            applies_to_sectors=[m.Sector("education")],
        ),
    )

    # Submitted by the agency, admitted and published by NAIO: then anyone reads it.
    for client, action in ((kkm, "submit"), (naio, "admit")):
        transition = m.Transition(action=m.LifecycleAction(action))
        registry.ok("cases", "create_case_transition", "Case", client=client, case_id=case.id, body=transition)
    publication = m.Publication(published=True)
    registry.ok("cases", "create_case_publication", "Case", client=naio, case_id=case.id, body=publication)
    public = registry.ok("cases", "get_case", "Case", client=anonymous, case_id=case.id)
    assert (public.status, public.published) == (m.CaseStatus("admitted"), True)
    for_education = registry.ok(
        "lessons", "list_lessons", "LessonListItem", client=anonymous, for_sector=m.Sector("education")
    )
    assert lesson.id in {item.id for item in for_education}
    assert lesson.origin_sector is m.Sector("health")
    assert all(not isinstance(item.ranking, generated.types.Unset) for item in for_education)

    # Two more drafts, walked two to a page through X-Pagination.
    for title in ("Discharge summaries", "Appointment reminders"):
        body = m.NewCase(
            title=title,
            summary="A second pilot.",
            primary_sector=m.Sector("health"),
            sandbox_type=m.SandboxType("operational_pilot"),
        )
        registry.ok("cases", "create_case", "Case", 201, client=kkm, body=body)
    cases, pagination = registry.pages("cases", "list_cases", client=kkm, lead_agency=[agency.slug], page_size=2)
    assert len({item.id for item in cases}) == len(cases) == pagination.total == 3
    assert (pagination.total_pages, pagination.next_page) == (2, 2)

    # Facets as typed bodies, nulls included.
    case_facets = registry.ok("cases", "list_cases_facets", "CaseFacets", client=kkm, lead_agency=[agency.slug])
    assert {(count.value, count.count) for count in case_facets.status} == {("draft", 2), ("admitted", 1)}
    risk_facets = registry.ok("risks", "list_risks_facets", "RiskFacets", client=anonymous, q="Kuantan")
    assert {(count.value, count.count) for count in risk_facets.subdomain} == {(None, 1), ("7.3", 1)}

    # A stale If-Match is 412, an invalid body 422, each as the client's problem details.
    response = registry.call("cases", "get_case", client=kkm, case_id=case.id)
    etag = response.headers["ETag"]
    change = m.CasePatch(summary="Suggests a triage level for walk-in patients, checked by a nurse.")
    response = registry.call("cases", "update_case", client=kkm, case_id=case.id, body=change, if_match=etag)
    assert response.status_code == 200, response.content
    response = registry.call("cases", "update_case", client=kkm, case_id=case.id, body=change, if_match=etag)
    registry.problem(response, 412)
    invalid = m.NewRisk(title="Too likely", domain=m.RiskDomain("7"), likelihood=9, impact=2)
    response = registry.call("risks", "create_case_risk", client=kkm, case_id=case.id, body=invalid)
    problem = registry.problem(response, 422)
    assert "likelihood" in problem.errors.to_dict()["json"]
