"""Liveness and readiness probes."""

from flask import current_app
from flask.views import MethodView
from sqlalchemy import text

from sandbox_api.health.schemas import HealthSchema
from sandbox_api.http.api import Blueprint
from sandbox_api.policy.auth import PUBLIC
from sandbox_api.storage.db import db, waits_within

# Orchestrators probe often, from one address; a throttled probe would take a healthy replica out.
blp = Blueprint(
    "health",
    __name__,
    url_prefix="/health",
    description="Probes for orchestrators and load balancers.",
    rate_limited=False,
)


@blp.route("/live")
class LiveViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, HealthSchema)
    def get(self):
        """Is the process up?

        Never touches the database, so a sick database never makes it fail, and never queues behind
        requests that hold the server's threads: each server process answers `GET /health/live` on a
        thread of its own when the request comes whole and without a body.
        """
        return {"status": "ok"}


@blp.route("/ready")
class ReadyViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, HealthSchema)
    def get(self):
        """Can the service answer requests?

        Checks the database; answers 503 with `Retry-After` when it is unreachable or does not answer within
        `HEALTH_READY_TIMEOUT` (2 s unless configured).
        """
        with waits_within(current_app.config["HEALTH_READY_TIMEOUT"]):
            db.session.execute(text("SELECT 1"))
        return {"status": "ok"}
