"""Deny by default: every route declares who may call it, and an undeclared one is closed."""

import pytest
from flask.views import MethodView

from sandbox_api.http.api import Blueprint
from sandbox_api.policy.auth import PUBLIC, endpoint_policy

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def declared_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"OPTIONS"}):
            yield rule, method


def test_every_route_declares_a_policy(app):
    undeclared = [
        f"{method} {rule.rule}"
        for rule, method in declared_routes(app)
        if endpoint_policy(app, rule.endpoint, method) is None
    ]

    assert undeclared == []


def test_no_write_is_open_to_anonymous_callers(app):
    open_writes = [
        f"{method} {rule.rule}"
        for rule, method in declared_routes(app)
        if method in WRITE_METHODS and endpoint_policy(app, rule.endpoint, method) == PUBLIC
    ]

    assert open_writes == []


def test_only_reads_of_the_registry_and_its_docs_are_public(app):
    public = {
        rule.rule for rule, method in declared_routes(app) if endpoint_policy(app, rule.endpoint, method) == PUBLIC
    }

    assert all(path.startswith(("/api/v1/", "/health/", "/docs", "/openapi.json", "/static/")) for path in public)


def test_a_route_without_a_policy_answers_403_to_everyone(engine, connection, naio):
    from sandbox_api import create_app
    from sandbox_api.config import TestConfig

    app = create_app(TestConfig, engine=engine, connection=connection)
    blueprint = Blueprint("forgotten", __name__, url_prefix="/api/v1/forgotten")

    @blueprint.route("")
    class ForgottenViews(MethodView):
        def get(self):
            """A view whose author forgot the policy"""
            return {"secret": True}

    app.register_blueprint(blueprint)
    client = app.test_client()

    assert client.get("/api/v1/forgotten").status_code == 403
    assert client.get("/api/v1/forgotten", headers={"Authorization": f"Bearer {naio.key}"}).status_code == 403


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Basic dXNlcjpwYXNz", "Bearer sbx_unknown_secret", "Bearer not-a-key", "Token sbx_a_b"],
)
def test_a_bad_key_is_refused_even_on_public_reads(client, header):
    response = client.get("/api/v1/cases", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == "application/problem+json"


def test_a_key_in_the_url_is_ignored(client, naio):
    response = client.post(f"/api/v1/cases?api_key={naio.key}", json={})

    assert response.status_code == 401
