"""HTTP routes for agencies."""

from flask.views import MethodView

from sandbox_api.agencies import examples, service
from sandbox_api.agencies.schemas import AgencyListQuerySchema, AgencySchema
from sandbox_api.http import writes
from sandbox_api.http.api import Blueprint
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.http.responses import json_response
from sandbox_api.policy.auth import PUBLIC, Role, allow
from sandbox_api.storage.db import db

blp = Blueprint(
    "agencies", __name__, url_prefix="/api/v1/agencies", description="Agencies that lead or partner in pilots."
)

AGENCY_PATCH = AgencySchema(partial=True, exclude=("slug",))

AGENCY = writes.Resource(
    blp,
    load=lambda write: service.get(session=db.session, agency_id=write.ids["agency_id"], for_update=True),
    representation=lambda write: service.representation(session=db.session, agency_id=write.ids["agency_id"]),
    record=lambda write: service.record(db.session, agency_id=write.ids["agency_id"], **write.event_args),
    endpoint="agencies.AgencyByIdViews",
    id_name="agency_id",
)


@blp.route("")
class AgencyViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(AgencyListQuerySchema(), location="query")
    @blp.response(200, AgencySchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query):
        """List agencies

        Filters combine with AND; repeated values of one filter combine with OR.
        """
        statement = service.list_statement(kind=query.get("kind"), country=query.get("country"), sort=query["sort"])
        return paginate(db.session, statement, AgencySchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(allow(Role.ADMIN))
    @blp.etag
    @blp.arguments(AgencySchema, example=examples.NEW_AGENCY)
    @blp.response(201, AgencySchema)
    def post(self, agency_in):
        """Register an agency

        The slug must be unused; it cannot change later.
        """
        with writes.create(AGENCY) as write:
            agency = service.create(session=db.session, agency_in=agency_in)
            write.created(agency, agency.id)
        return write.response


@blp.route("/<uuid:agency_id>")
@blp.etag
class AgencyByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, AgencySchema)
    def get(self, agency_id):
        """Read an agency"""
        return json_response(service.representation(session=db.session, agency_id=agency_id))

    @blp.policy(allow(Role.ADMIN))
    @blp.arguments(AGENCY_PATCH, example=examples.AGENCY_CHANGES)
    @blp.response(200, AgencySchema)
    def patch(self, changes, agency_id):
        """Change an agency

        Send only the fields to change, with the `If-Match` ETag from a GET. The slug cannot change.
        """
        with writes.update(AGENCY, agency_id=agency_id) as write:
            service.update(session=db.session, agency=write.target, changes=changes)
        return write.response

    @blp.policy(allow(Role.ADMIN))
    @blp.response(204)
    def delete(self, agency_id):
        """Delete an agency

        Refused with 409 while the agency leads or partners in a case, holds keys or has sub-agencies.
        """
        with writes.delete(AGENCY, agency_id=agency_id) as write:
            service.delete(session=db.session, agency=write.target)
        return write.response
