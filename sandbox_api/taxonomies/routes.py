"""HTTP routes for the read-only taxonomies."""

from flask.views import MethodView

from sandbox_api.http.api import Blueprint
from sandbox_api.policy.auth import PUBLIC
from sandbox_api.storage.db import db
from sandbox_api.taxonomies import service
from sandbox_api.taxonomies.schemas import TaxonomySchema

blp = Blueprint(
    "taxonomies",
    __name__,
    url_prefix="/api/v1/taxonomies",
    description="The controlled vocabularies behind the codes in cases, risks and lessons.",
)

NAME_PARAMETER = {
    "in": "path",
    "name": "name",
    "required": True,
    "schema": {"type": "string", "enum": list(service.TAXONOMIES)},
    "description": "Which taxonomy.",
}


@blp.route("/<name>", parameters=[NAME_PARAMETER])
@blp.etag
class TaxonomyByNameViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, TaxonomySchema)
    def get(self, name):
        """Read a taxonomy

        A bounded vocabulary, returned whole (not paginated), with a strong ETag.
        """
        return service.get(session=db.session, name=name)
