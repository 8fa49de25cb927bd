"""HTTP routes for agencies."""

from flask import url_for
from flask.views import MethodView

from sandbox_api.agencies import service
from sandbox_api.agencies.schemas import AgencyListQuerySchema, AgencySchema
from sandbox_api.http.api import Blueprint
from sandbox_api.http.idempotency import commit_and_respond
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.http.responses import json_response
from sandbox_api.policy.auth import PUBLIC, Role, allow
from sandbox_api.storage.db import db

blp = Blueprint(
    "agencies", __name__, url_prefix="/api/v1/agencies", description="Agencies that lead or partner in pilots."
)

AGENCY_PATCH = AgencySchema(partial=True, exclude=("slug",))


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
    @blp.arguments(AgencySchema)
    @blp.response(
        201, AgencySchema, headers={"Location": {"description": "URL of the new agency.", "schema": {"type": "string"}}}
    )
    def post(self, agency_in):
        """Register an agency

        The slug must be unused; it cannot change later.
        """
        agency = service.create(session=db.session, agency_in=agency_in)
        body = service.representation(session=db.session, agency_id=agency.id)
        service.record(db.session, agency_id=agency.id, action="create", before=None, after=body)
        return commit_and_respond(body, 201, location=url_for("agencies.AgencyByIdViews", agency_id=agency.id))


@blp.route("/<uuid:agency_id>")
@blp.etag
class AgencyByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, AgencySchema)
    def get(self, agency_id):
        """Read an agency"""
        return json_response(service.representation(session=db.session, agency_id=agency_id))

    @blp.policy(allow(Role.ADMIN))
    @blp.arguments(AGENCY_PATCH)
    @blp.response(200, AgencySchema)
    def patch(self, changes, agency_id):
        """Change an agency

        Send only the fields to change, with the `If-Match` ETag from a GET. The slug cannot change.
        """
        agency = service.get(session=db.session, agency_id=agency_id, for_update=True)
        before = service.representation(session=db.session, agency_id=agency_id)
        blp.check_etag(before)
        service.update(session=db.session, agency=agency, changes=changes)
        body = service.representation(session=db.session, agency_id=agency_id)
        service.record(db.session, agency_id=agency_id, action="update", before=before, after=body)
        return commit_and_respond(body)

    @blp.policy(allow(Role.ADMIN))
    @blp.response(204)
    def delete(self, agency_id):
        """Delete an agency

        Refused with 409 while the agency leads or partners in a case, holds keys or has sub-agencies.
        """
        agency = service.get(session=db.session, agency_id=agency_id, for_update=True)
        before = service.representation(session=db.session, agency_id=agency_id)
        blp.check_etag(before)
        service.delete(session=db.session, agency=agency)
        service.record(db.session, agency_id=agency_id, action="delete", before=before, after=None)
        db.session.commit()
