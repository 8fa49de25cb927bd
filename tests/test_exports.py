"""Exports: every row of a list's filtered set, not one page, as CSV or NDJSON, streamed, obeying visibility."""

import csv
import io
import json
import re

import pytest

from tests.conftest import create_case, create_lesson, create_outcome, create_risk, publish
from tests.test_queries import counting_statements

LESSON = {
    "title": "Keep a teacher in the loop",
    "statement": "Answers reviewed by a teacher before use caught most errors.",
    "kind": "good_practice",
    "applies_to_sectors": ["health", "public_administration"],
    "principles": ["reliability_safety_control"],
    "risk_domains": ["3", "5"],
}
CONTACT = {"name": "AI Unit", "email": "ai@moe.gov.my", "phone": "+60 3 8000 8000"}


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def _ndjson(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/x-ndjson"
    text = response.get_data(as_text=True)
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def _documented_columns(client, resource: str) -> list[str]:
    """The column names of the table in the export's OpenAPI description, in order."""
    description = client.get("/openapi.json").json["paths"][f"/api/v1/exports/{resource}"]["get"]["description"]
    return re.findall(r"^\| `(\w+)` \|", description, flags=re.MULTILINE)


@pytest.fixture
def registry(naio, owner_a, owner_b, agency_b):
    """A published education pilot of agency A, with agency B among its partners, with a risk, an outcome and a
    lesson; a published health pilot of agency B with a risk; a draft of agency B with a risk, an outcome and a
    lesson."""
    education = create_case(
        owner_a,
        sectors=["education", "health"],
        capabilities=["generative_ai"],
        partners=[
            {"name": "Vendor, Inc.", "role": "technology_provider"},
            {"agency_id": agency_b["id"], "role": "evaluator"},
        ],
        contact=CONTACT,
    )
    health = create_case(owner_b, title="Triage assistant", primary_sector="health")
    draft = create_case(owner_b, title="Draft pilot", primary_sector="health")
    risks = {
        "education": create_risk(owner_a, education),
        "health": create_risk(owner_b, health, title="Bias", domain="1", subdomain=None),
        "draft": create_risk(owner_b, draft, title="Draft risk"),
    }
    outcome = {"kind": "quantitative", "method": "survey", "baseline": -5, "target": 10, "direction": "increase"}
    outcomes = {
        "education": create_outcome(owner_a, education, title="Teachers trained", actual=12, **outcome),
        "draft": create_outcome(owner_b, draft, title="Draft outcome", **outcome),
    }
    lessons = {
        "education": create_lesson(owner_a, education, **LESSON),
        "draft": create_lesson(owner_b, draft, **{**LESSON, "title": "Draft lesson"}),
    }
    education = publish(naio, owner_a, education)
    health = publish(naio, owner_b, health)
    return {
        "cases": {"education": education, "health": health, "draft": draft},
        "risks": risks,
        "outcomes": outcomes,
        "lessons": lessons,
    }


def test_an_export_holds_every_row_of_the_filtered_set_not_one_page(client, naio, owner_a):
    case = create_case(owner_a)
    created = {create_risk(owner_a, case, title=f"Risk {number}")["id"] for number in range(130)}
    create_risk(owner_a, case, title="Another domain", domain="2", subdomain=None)
    publish(naio, owner_a, case)

    page = client.get("/api/v1/risks", query_string={"domain": "3", "page_size": 100})
    rows = _csv(client.get("/api/v1/exports/risks", query_string={"domain": "3", "format": "csv"}))
    lines = _ndjson(client.get("/api/v1/exports/risks", query_string={"domain": "3", "format": "ndjson"}))

    assert len(page.json) == 100 and json.loads(page.headers["X-Pagination"])["total"] == 130
    assert len(rows) == 130 and {row["id"] for row in rows} == created
    assert {row["case_reference"] for row in rows} == {case["reference"]}
    assert len(lines) == 130 and {line["id"] for line in lines} == created


def test_ndjson_lines_are_the_lists_items_in_the_lists_order(client, naio, registry):
    for path, query in (
        ("cases", {"sort": "title"}),
        ("risks", {"sort": "title"}),
        ("outcomes", {}),
        ("lessons", {}),
    ):
        for actor in (client, naio):
            items = actor.get(f"/api/v1/{path}", query_string={**query, "page_size": 100}).json
            lines = _ndjson(actor.get(f"/api/v1/exports/{path}", query_string={**query, "format": "ndjson"}))
            if path == "lessons":
                # An exported lesson also names its case.
                references = {case["id"]: case["reference"] for case in registry["cases"].values()}
                items = [{**item, "case_reference": references[item["case_id"]]} for item in items]
            assert lines == items, (path, actor)


def test_what_the_caller_may_not_see_is_not_exported(client, naio, owner_a, owner_b, registry):
    def exported(actor, path: str) -> set[str]:
        return {line["id"] for line in _ndjson(actor.get(f"/api/v1/exports/{path}?format=ndjson"))}

    cases, risks = registry["cases"], registry["risks"]
    assert exported(client, "cases") == {cases["education"]["id"], cases["health"]["id"]}
    assert exported(naio, "cases") == {case["id"] for case in cases.values()}
    assert exported(owner_b, "cases") == {cases["education"]["id"], cases["health"]["id"], cases["draft"]["id"]}
    assert exported(owner_a, "cases") == {cases["education"]["id"], cases["health"]["id"]}
    assert exported(client, "risks") == {risks["education"]["id"], risks["health"]["id"]}
    assert exported(naio, "risks") == {risk["id"] for risk in risks.values()}
    assert exported(client, "outcomes") == {registry["outcomes"]["education"]["id"]}
    assert exported(naio, "outcomes") == {outcome["id"] for outcome in registry["outcomes"].values()}
    assert exported(client, "lessons") == {registry["lessons"]["education"]["id"]}
    assert exported(owner_b, "lessons") == {lesson["id"] for lesson in registry["lessons"].values()}


def test_exports_take_the_lists_filters(client, naio, registry):
    def exported(path: str, **query) -> set[str]:
        return {row["id"] for row in _csv(naio.get(f"/api/v1/exports/{path}", query_string=query))}

    cases = registry["cases"]
    assert exported("cases", sector="health") == {case["id"] for case in cases.values()}
    assert exported("cases", primary_sector="health", status="draft") == {cases["draft"]["id"]}
    assert exported("cases", lead_agency="agency-a") == {cases["education"]["id"]}
    assert exported("risks", domain="1") == {registry["risks"]["health"]["id"]}
    assert exported("risks", sector="education") == {registry["risks"]["education"]["id"]}
    assert exported("outcomes", attained="true") == {registry["outcomes"]["education"]["id"]}
    assert exported("outcomes", evidence_grade="A") == set()
    assert exported("lessons", origin_sector="education") == {registry["lessons"]["education"]["id"]}
    assert exported("lessons", applies_to="finance") == set()


def test_csv_has_the_documented_columns_and_flat_cells(client, naio, agency_b, registry):
    case = registry["cases"]["education"]
    risk, outcome, lesson = (registry[name]["education"] for name in ("risks", "outcomes", "lessons"))
    # Each export is read before the next request: in the tests, requests are savepoints of one transaction.
    keyed = naio.get("/api/v1/exports/cases", query_string={"format": "csv", "sector": "education"})
    text = keyed.get_data(as_text=True)
    (row,) = _csv(keyed)
    (public_row,) = _csv(client.get("/api/v1/exports/cases", query_string={"format": "csv", "sector": "education"}))

    assert text.split("\r\n", 1)[0].split(",") == _documented_columns(client, "cases")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert row["id"] == case["id"] and row["reference"] == case["reference"]
    assert row["sectors"] == "education;health" and row["capabilities"] == "generative_ai"
    assert json.loads(row["partners"]) == [
        {"name": "Vendor, Inc.", "agency_id": None, "agency": None, "role": "technology_provider"},
        {
            "name": None,
            "agency_id": agency_b["id"],
            "agency": {"slug": "agency-b", "name": "Ministry B"},
            "role": "evaluator",
        },
    ]
    assert row["personal_data"] == "false" and row["published"] == "true"
    assert row["participants_count"] == "" and row["exit_decision"] == "" and row["exit_decided_on"] == ""
    assert (row["contact_name"], row["contact_email"]) == ("AI Unit", "ai@moe.gov.my")
    assert "contact_email" not in public_row and public_row["id"] == case["id"]

    (risk_row,) = _csv(client.get("/api/v1/exports/risks?sector=education"))
    assert list(risk_row) == _documented_columns(client, "risks")
    assert (risk_row["id"], risk_row["case_id"], risk_row["case_reference"]) == (
        risk["id"],
        case["id"],
        case["reference"],
    )
    assert (risk_row["score"], risk_row["residual_score"], risk_row["case_primary_sector"]) == ("12", "", "education")

    (outcome_row,) = _csv(client.get("/api/v1/exports/outcomes?sector=education"))
    assert list(outcome_row) == _documented_columns(client, "outcomes")
    assert (outcome_row["id"], outcome_row["case_reference"]) == (outcome["id"], case["reference"])
    assert (outcome_row["baseline"], outcome_row["actual"], outcome_row["attained"]) == ("-5", "12", "true")

    (lesson_row,) = _csv(client.get("/api/v1/exports/lessons"))
    assert list(lesson_row) == _documented_columns(client, "lessons")
    assert (lesson_row["id"], lesson_row["case_reference"]) == (lesson["id"], case["reference"])
    assert lesson_row["applies_to_sectors"] == "health;public_administration"
    assert lesson_row["evidence_outcome_ids"] == "" and lesson_row["evidence_urls"] == "[]"


def test_a_case_row_names_its_lead_agency_after_its_id_and_a_new_name_at_once(
    client, admin, naio, agency_a, agency_b, registry
):
    """Issue 19: `lead_agency_slug` and `lead_agency_name` follow `lead_agency_id`, as the agency is named now."""
    cases = registry["cases"]
    columns = _documented_columns(client, "cases")
    at = columns.index("lead_agency_id")

    renamed = admin.edit(f"/api/v1/agencies/{agency_a['id']}", {"name": "=Ministry A, renamed"})

    assert renamed.status_code == 200, renamed.json
    assert columns[at : at + 3] == ["lead_agency_id", "lead_agency_slug", "lead_agency_name"]
    rows = {row["id"]: row for row in _csv(naio.get("/api/v1/exports/cases?format=csv"))}
    lines = {line["id"]: line for line in _ndjson(client.get("/api/v1/exports/cases?format=ndjson"))}
    named = [
        rows[cases[name]["id"]][f"lead_agency_{member}"]
        for name in ("education", "draft")
        for member in ("id", "slug", "name")
    ]
    assert named == [agency_a["id"], "agency-a", "'=Ministry A, renamed", agency_b["id"], "agency-b", "Ministry B"]
    assert lines[cases["education"]["id"]]["lead_agency"] == {"slug": "agency-a", "name": "=Ministry A, renamed"}


def test_a_partner_agency_is_named_in_the_partners_cell_by_its_new_name_at_once(
    client, admin, naio, agency_b, registry
):
    """Issue 19: partners stay one JSON cell, each named agency with its `slug` and current `name`."""
    education = registry["cases"]["education"]["id"]

    renamed = admin.edit(f"/api/v1/agencies/{agency_b['id']}", {"name": "Ministry B, renamed"})

    assert renamed.status_code == 200, renamed.json
    named = {"slug": "agency-b", "name": "Ministry B, renamed"}
    rows = {row["id"]: row for row in _csv(client.get("/api/v1/exports/cases?format=csv"))}
    lines = {line["id"]: line for line in _ndjson(naio.get("/api/v1/exports/cases?format=ndjson"))}
    assert [partner["agency"] for partner in json.loads(rows[education]["partners"])] == [None, named]
    assert [partner["agency"] for partner in lines[education]["partners"]] == [None, named]


@pytest.mark.parametrize("resource", ["cases", "risks", "outcomes", "lessons"])
def test_each_column_of_an_export_has_a_name_of_its_own(client, resource):
    columns = _documented_columns(client, resource)

    assert len(set(columns)) == len(columns), columns


def test_text_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(client, naio, owner_a):
    case = create_case(owner_a, title='=HYPERLINK("https://evil.example","x")', summary="+SUM(A1:A9)")
    create_risk(owner_a, case, owner="@admin", mitigation="-1 day", description="\tindented")
    create_outcome(owner_a, case, title="\rcarriage", kind="quantitative", method="survey", baseline=-3)
    publish(naio, owner_a, case)

    (case_row,) = _csv(client.get("/api/v1/exports/cases"))
    (risk_row,) = _csv(client.get("/api/v1/exports/risks"))
    (outcome_row,) = _csv(client.get("/api/v1/exports/outcomes"))
    (line,) = _ndjson(client.get("/api/v1/exports/risks?format=ndjson"))

    assert case_row["title"] == '\'=HYPERLINK("https://evil.example","x")'
    assert case_row["summary"] == "'+SUM(A1:A9)"
    assert (risk_row["owner"], risk_row["mitigation"], risk_row["description"]) == ("'@admin", "'-1 day", "'\tindented")
    assert outcome_row["title"] == "'\rcarriage"
    assert outcome_row["baseline"] == "-3"  # a number, never changed
    assert line["owner"] == "@admin"  # NDJSON is data, not a spreadsheet


def _dispatched(app, url: str, headers: dict | None = None):
    """The response object the app makes, before a server (or the test client) reads its body."""
    with app.test_request_context(url, headers=headers):
        return app.full_dispatch_request()


def test_an_export_is_streamed_as_an_attachment(app, naio, registry):
    # Each body is read before the next request: in the tests, requests are savepoints of one transaction.
    response = _dispatched(app, "/api/v1/exports/cases?format=csv")
    headers, streamed = response.headers, response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    keyed = _dispatched(app, "/api/v1/exports/lessons?format=ndjson", {"Authorization": f"Bearer {naio.key}"})
    keyed_headers, keyed_streamed = keyed.headers, keyed.is_streamed
    lines = keyed.get_data(as_text=True).splitlines()

    assert streamed and keyed_streamed and not _dispatched(app, "/api/v1/cases").is_streamed
    assert "Content-Length" not in headers
    assert headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert re.fullmatch(r'attachment; filename="cases-\d{8}T\d{6}Z\.csv"', headers["Content-Disposition"])
    assert re.fullmatch(r'attachment; filename="lessons-\d{8}T\d{6}Z\.ndjson"', keyed_headers["Content-Disposition"])
    assert keyed_headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert len(rows) == 2 and len(lines) == 2


def test_the_format_comes_from_the_parameter_then_the_accept_header_and_is_csv_by_default(client, registry):
    assert client.get("/api/v1/exports/risks").mimetype == "text/csv"
    assert client.get("/api/v1/exports/risks", headers={"Accept": "application/x-ndjson"}).mimetype == (
        "application/x-ndjson"
    )
    assert client.get("/api/v1/exports/risks", headers={"Accept": "*/*"}).mimetype == "text/csv"
    explicit = client.get("/api/v1/exports/risks?format=csv", headers={"Accept": "application/x-ndjson"})
    assert explicit.mimetype == "text/csv"


@pytest.mark.parametrize(
    "query",
    [
        "format=xml",
        "page=2",
        "page_size=10",
        "colour=blue",
        "sector=nowhere",
        "sort=-nothing",
        "min_score=26",
    ],
)
def test_invalid_parameters_are_refused_before_anything_is_streamed(app, query):
    response = _dispatched(app, f"/api/v1/exports/risks?{query}")

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert not response.is_streamed
    assert set(response.json["errors"]["query"]) == {query.split("=")[0]}


def test_an_export_costs_the_same_statements_whatever_its_size(client, naio, owner_a, connection):
    case = create_case(owner_a)
    for number in range(120):
        create_risk(owner_a, case, title=f"Risk {number}")
    create_risk(owner_a, case, title="Alone", domain="2", subdomain=None)
    publish(naio, owner_a, case)

    counts = {}
    for domain in ("2", "3"):
        with counting_statements(connection) as statements:
            rows = _csv(client.get(f"/api/v1/exports/risks?domain={domain}"))
        counts[domain] = (len(rows), len(statements))

    assert counts["2"][0] == 1 and counts["3"][0] == 120
    assert counts["2"][1] == counts["3"][1]


def test_a_client_leaving_mid_export_frees_the_export(client, naio, owner_a):
    case = create_case(owner_a)
    for number in range(3):
        create_risk(owner_a, case, title=f"Risk {number}")
    publish(naio, owner_a, case)

    response = client.get("/api/v1/exports/risks", buffered=False)
    header = next(iter(response.response))
    response.close()  # what the server does when the client goes away
    head = client.head("/api/v1/exports/risks")  # a body never read at all
    head.close()
    after = _csv(client.get("/api/v1/exports/risks"))

    assert header.decode().startswith("id,case_id,")
    assert head.status_code == 200 and head.get_data() == b""
    assert len(after) == 3
    assert naio.get(f"/api/v1/cases/{case['id']}").status_code == 200
