"""The Sandbox Case Registry: AI sandbox pilots with their risks, outcomes and lessons."""

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from flask_swagger_ui import get_swaggerui_blueprint
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from sandbox_api.cases import documents
from sandbox_api.config import Config
from sandbox_api.errors import UnsupportedMediaType
from sandbox_api.http import idempotency, openapi_links, ratelimit, security_headers
from sandbox_api.http.api import BEARER_SCHEME, Api
from sandbox_api.keys import service as keys_service
from sandbox_api.policy import audit, auth
from sandbox_api.storage.db import db

API_DESCRIPTION = """\
The registry where Malaysia's public agencies record their AI sandbox pilots, with the risks they met,
the outcomes they measured and the lessons they learned, so that NAIO can scale good practice across sectors.

**Authentication.** Reads of the registry need no key (API keys themselves are for admins only). Writes need
an API key sent as `Authorization: Bearer sbx_...`. Keys have one of three roles: `admin` manages agencies and keys; `naio` reviews, publishes and may change any
case; `agency` is bound to one agency and may change only that agency's cases and their risks, outcomes and
lessons. Keys expire (a year by default), are rotated and revoked by admins at `/api/v1/keys`, and an
agency holds at most two working keys. A request with a key is answered `Cache-Control: no-store`.

**Rate limits.** Each caller (its key, or its address without one) has one budget over every route; past it
the answer is 429 with `Retry-After`, and every answer it counts carries `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds). Repeated failed authentications from an
address lock its keyed requests out (429) for the rest of the window. The health probes, and requests to
paths or methods that do not exist, are not counted.

**Visibility.** A case is private to its agency, NAIO and admin until NAIO publishes it. Without a key only
published cases are visible, with their risks, outcomes, lessons and history; an `agency` key also sees its
own agency's cases in every status; `naio` and `admin` keys see everything. What a caller may not see is
answered exactly like what does not exist (404), and is left out of every list, total and aggregate. Contact
details and review notes never reach callers without a key.

**Retries.** Every POST accepts an `Idempotency-Key` header: a retry with the same key and body returns the
first answer instead of writing twice.

**Conventions.** JSON in snake_case; timestamps are RFC 3339 in UTC; ids are UUIDs.
Every list is paginated (`page`, `page_size`, `X-Pagination`, `Link`); `/api/v1/exports/...` streams a
list's whole filtered set as CSV or NDJSON. Item responses carry a strong `ETag`;
PATCH and DELETE need it in `If-Match` (428 without, 412 when stale). Unknown query parameters and body
fields are refused with 422. Every error is RFC 9457 `application/problem+json`.
"""


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with an object's members in the order the schemas give them."""

    sort_keys = False


def create_app(config: type[Config] | Config = Config, *, engine=None, connection=None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config)
    app.json = JSONProvider(app)
    register_extensions(app, engine=engine, connection=connection)
    register_blueprints(app)
    register_commands(app)
    return app


# Headers a browser script may read from a cross-origin answer, and send in a cross-origin request.
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "Link",
    "X-Pagination",
    "X-Facets",
    "X-Request-ID",
    "Retry-After",
    "Idempotent-Replayed",
]
CORS_ALLOWED_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID"]


def register_extensions(app: Flask, *, engine=None, connection=None) -> None:
    # before_request hooks run in this order, after_request hooks in the reverse one.
    if app.config["TRUSTED_PROXIES"]:
        # Flask's documented way to add WSGI middleware, which mypy reads as replacing a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])  # type: ignore[method-assign]
    db.init_app(app, engine=engine, connection=connection)
    # Every case's stored document rebuilt if this code renders them otherwise (cases/documents.py).
    documents.init_app(app)
    security_headers.init_app(app)
    app.before_request(ratelimit.refuse_locked_out_addresses)
    auth.init_app(app, keys=keys_service)
    ratelimit.init_app(app)
    app.before_request(refuse_bodies_it_cannot_take)
    idempotency.init_app(app)
    audit.init_app(app)
    if app.config["CORS_ORIGINS"]:
        CORS(
            app,
            origins=app.config["CORS_ORIGINS"],
            expose_headers=[*CORS_EXPOSED_HEADERS, *ratelimit.HEADERS],
            allow_headers=CORS_ALLOWED_HEADERS,
            max_age=600,
        )


def refuse_bodies_it_cannot_take() -> None:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if (request.content_length or chunked) and not request.is_json:
        raise UnsupportedMediaType("Send the request body as `application/json`.")
    # A chunked body has no Content-Length to refuse it by, and Werkzeug cuts it at MAX_CONTENT_LENGTH
    # silently: a body that reaches the limit is taken as too large.
    limit = request.max_content_length
    if chunked and limit is not None and len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def register_blueprints(app: Flask) -> None:
    from sandbox_api.agencies.routes import blp as agencies
    from sandbox_api.cases.routes import blp as cases
    from sandbox_api.events.routes import blp as changes
    from sandbox_api.exports.routes import blp as exports
    from sandbox_api.health.routes import blp as health
    from sandbox_api.insights.routes import blp as insights
    from sandbox_api.keys.routes import blp as keys
    from sandbox_api.lessons.routes import blp as lessons
    from sandbox_api.outcomes.routes import blp as outcomes
    from sandbox_api.risks.routes import blp as risks
    from sandbox_api.taxonomies.routes import blp as taxonomies

    api = Api(
        app,
        spec_kwargs={
            "info": {"description": API_DESCRIPTION},
            "servers": [{"url": "/"}],
        },
    )
    api.spec.components.security_scheme(
        BEARER_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key, `sbx_<prefix>_<secret>`, from an administrator.",
        },
    )
    for blueprint in (agencies, cases, risks, outcomes, lessons, insights, exports, changes, taxonomies, keys, health):
        api.register_blueprint(blueprint)
        if not blueprint.rate_limited:
            app.extensions[ratelimit.EXTENSION].exempt(blueprint)
    openapi_links.add_links(api.spec)
    app.register_blueprint(
        get_swaggerui_blueprint(
            app.config["DOCS_URL"], "/openapi.json", config={"app_name": app.config["API_TITLE"], "validatorUrl": None}
        )
    )


def register_commands(app: Flask) -> None:
    from sandbox_api.cli import audit_cli, demo_cli, keys_cli, records_cli

    app.cli.add_command(keys_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(records_cli)
