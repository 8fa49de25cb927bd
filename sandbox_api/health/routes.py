"""Liveness and readiness probes."""

from flask.views import MethodView
from sqlalchemy import text

from sandbox_api.health.schemas import HealthSchema
from sandbox_api.http.api import Blueprint
from sandbox_api.policy.auth import PUBLIC
from sandbox_api.storage.db import db

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

        Never touches the database.
        """
        return {"status": "ok"}


@blp.route("/ready")
class ReadyViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, HealthSchema)
    def get(self):
        """Can the service answer requests?

        Checks the database; answers 503 with `Retry-After` when it is unreachable.
        """
        db.session.execute(text("SELECT 1"))
        return {"status": "ok"}
