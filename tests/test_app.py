"""The application factory, the probes and errors that the framework raises itself."""

from sqlalchemy import create_engine

from sandbox_api import create_app
from sandbox_api.config import Config, TestConfig


def test_the_factory_honours_the_configuration(engine):
    assert not create_app(Config, engine=engine).testing
    assert create_app(TestConfig, engine=engine).testing


def test_liveness_never_needs_the_database():
    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=True)
    client = create_app(TestConfig, engine=broken).test_client()

    assert client.get("/health/live").status_code == 200
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.headers["Retry-After"]
    assert ready.content_type == "application/problem+json"
    assert "psycopg" not in ready.get_data(as_text=True)


def test_readiness_checks_the_database(client):
    assert client.get("/health/ready").json == {"status": "ok"}


def test_unknown_paths_and_methods_answer_problem_details(client):
    missing = client.get("/api/v1/nothing")
    wrong_method = client.put("/api/v1/cases")

    assert (missing.status_code, missing.content_type) == (404, "application/problem+json")
    assert missing.json["status"] == 404
    assert (wrong_method.status_code, wrong_method.content_type) == (405, "application/problem+json")
    assert set(wrong_method.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_an_unexpected_failure_answers_500_without_leaking_details(app, monkeypatch):
    from sandbox_api.taxonomies import service

    def explode(**kwargs):
        raise RuntimeError("secret internals: SELECT * FROM api_keys")

    monkeypatch.setattr(service, "get", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/api/v1/taxonomies/sectors")

    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert "secret internals" not in response.get_data(as_text=True)


def test_malformed_json_and_wrong_content_type(naio):
    malformed = naio.post("/api/v1/cases", data="{not json", headers={"Content-Type": "application/json"})
    form = naio.post("/api/v1/cases", data="title=x", headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert malformed.status_code == 400
    assert malformed.content_type == "application/problem+json"
    assert form.status_code == 415


def test_an_oversized_body_is_refused(naio):
    response = naio.post(
        "/api/v1/cases", data="[" + "1," * 200_000 + "1]", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.content_type == "application/problem+json"


def test_taxonomies_are_served_read_only(client, naio):
    sectors = client.get("/api/v1/taxonomies/sectors")
    risks = client.get("/api/v1/taxonomies/risk_domains").json

    assert "education" in [term["code"] for term in sectors.json["terms"]]
    assert sectors.headers["ETag"]
    assert [sub["code"] for sub in risks["terms"][6]["subdomains"]][-1] == "7.6"
    assert client.get("/api/v1/taxonomies/colours").status_code == 404
    assert naio.post("/api/v1/taxonomies/sectors", json={}).status_code == 405
