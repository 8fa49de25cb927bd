"""`flask records check`: the stored values that today's input rules refuse, which a client sending its
record back unchanged would get 422 for (values stored before an upgrade tightened a rule)."""

import json
import uuid
from pathlib import Path

from flask import Flask
from sqlalchemy import Connection, update

from sandbox_api.agencies.models import Agency
from sandbox_api.cases import documents
from sandbox_api.cases.models import Case
from sandbox_api.cli import PATCHABLE
from sandbox_api.http.api import request_body, schema_name
from sandbox_api.lessons.models import Lesson
from sandbox_api.risks.models import Risk
from tests.conftest import Actor
from tests.test_lessons import LESSON

URL_REFUSED = "Not a valid URL: an absolute http or https URL (RFC 3986) with a host and no user name or password."
CONTROL_REFUSED = (
    "Must not contain control characters (other than tab, line feed and carriage return) or lone surrogates."
)


def test_every_record_a_patch_changes_is_checked():
    # A resource given a PATCH later must join `PATCHABLE`, or its stored values would go unchecked.
    document = json.loads((Path(__file__).parent.parent / "openapi" / "openapi.json").read_text())
    patched = {
        operations["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].rpartition("/")[2]
        for operations in document["paths"].values()
        if "patch" in operations
    }

    assert {schema_name(request_body(patch)) for _, patch in PATCHABLE} == patched


def check(app: Flask):
    return app.test_cli_runner().invoke(args=["records", "check"])


def test_a_registry_stored_under_todays_rules_passes(app, owner_a: Actor, case_a: dict):
    owner_a.post(f"/api/v1/cases/{case_a['id']}/lessons", json=LESSON)

    result = check(app)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 3 records")  # the agency, the case and its lesson


def test_each_stored_value_a_client_could_not_send_back_is_named_with_its_record_and_path(
    app, connection: Connection, owner_a: Actor, agency_a: dict, case_a: dict
):
    risk = owner_a.post(
        f"/api/v1/cases/{case_a['id']}/risks", json={"title": "Errors", "domain": "3", "likelihood": 3, "impact": 3}
    ).json
    lesson = owner_a.post(f"/api/v1/cases/{case_a['id']}/lessons", json=LESSON).json
    # As older rules let them in: user information in a URL, another scheme, a doubled dot, a control character.
    connection.execute(
        update(Agency).where(Agency.id == uuid.UUID(agency_a["id"])).values(website="https://www.gov.my@evil.example")
    )
    connection.execute(
        update(Case)
        .where(Case.id == uuid.UUID(case_a["id"]))
        .values(
            links=[
                {"title": "Report", "url": "https://www.moe.gov.my/report", "kind": "report"},
                {"title": "Files", "url": "ftp://files.moe.gov.my", "kind": "source"},
            ],
            contact={"name": "AI Unit", "email": "ai..unit@moe.gov.my", "phone": None},
        )
    )
    documents.refresh(connection, [uuid.UUID(case_a["id"])])
    connection.execute(update(Risk).where(Risk.id == uuid.UUID(risk["id"])).values(title="Errors\x07"))
    connection.execute(
        update(Lesson).where(Lesson.id == uuid.UUID(lesson["id"])).values(evidence_urls=["http://user:pw@x.my"])
    )

    result = check(app)

    assert result.exit_code == 1
    assert set(result.stdout.splitlines()) == {
        f"agencies {agency_a['id']}: website: {URL_REFUSED}",
        f"cases {case_a['id']}: links.1.url: {URL_REFUSED}",
        f"cases {case_a['id']}: contact.email: Not a valid e-mail address.",
        f"risks {risk['id']}: title: {CONTROL_REFUSED}",
        f"lessons {lesson['id']}: evidence.urls.0: {URL_REFUSED}",
    }
    assert "5 stored values, in 4 of 4 records, that a client could not send back." in result.stderr
