"""HTTP routes for cases."""

from flask import url_for
from flask.views import MethodView

from sandbox_api.api import Blueprint
from sandbox_api.auth import PUBLIC, allow, current_caller
from sandbox_api.cases import service
from sandbox_api.cases.schemas import CaseListQuerySchema, CaseSchema
from sandbox_api.db import db
from sandbox_api.keys.models import Role
from sandbox_api.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.rendering import json_response

blp = Blueprint(
    "cases", __name__, url_prefix="/api/v1/cases", description="Sandbox pilots: their scope, status and governance."
)

CASE_WRITERS = allow(Role.NAIO, Role.AGENCY)
LOCATION_HEADER = {"Location": {"description": "URL of the created resource.", "schema": {"type": "string"}}}


@blp.route("")
class CaseViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(CaseListQuerySchema(), location="query")
    @blp.response(200, CaseSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query):
        """List cases

        Filters combine with AND; repeated values of one filter combine with OR. Date ranges use
        `_from` and `_to` (inclusive). `lead_agency` takes an agency's id or slug.
        """
        statement = service.list_statement(session=db.session, query=query)
        return paginate(db.session, statement, CaseSchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(CASE_WRITERS)
    @blp.etag
    @blp.arguments(CaseSchema)
    @blp.response(201, CaseSchema, headers=LOCATION_HEADER)
    def post(self, case_in):
        """Register a pilot

        The server assigns the `id`, the `reference` (`SBX-<year>-<sequence>`) and the status `draft`.
        An `agency` key registers pilots for its own agency only.
        """
        case = service.create(session=db.session, case_in=case_in, caller=current_caller())
        body = service.representation(session=db.session, case_id=case.id)
        db.session.commit()
        return json_response(body, 201, {"Location": url_for("cases.CaseByIdViews", case_id=case.id)})


@blp.route("/<uuid:case_id>")
@blp.etag
class CaseByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, CaseSchema)
    def get(self, case_id):
        """Read a case"""
        return json_response(service.representation(session=db.session, case_id=case_id))

    @blp.policy(CASE_WRITERS)
    @blp.arguments(CaseSchema(partial=True))
    @blp.response(200, CaseSchema)
    def patch(self, changes, case_id):
        """Change a case

        Send only the fields to change, with the `If-Match` ETag from a GET. Lists (`sectors`, `partners`,
        `links`...) are replaced whole. An `agency` key may change only its own agency's cases.
        """
        case = service.get_for_change(session=db.session, case_id=case_id, caller=current_caller())
        blp.check_etag(service.representation(session=db.session, case_id=case_id))
        service.update(session=db.session, case=case, changes=changes, caller=current_caller())
        body = service.representation(session=db.session, case_id=case_id)
        db.session.commit()
        return json_response(body)

    @blp.policy(CASE_WRITERS)
    @blp.response(204)
    def delete(self, case_id):
        """Delete a case

        Deletes its risks, outcomes, lessons and adoptions with it. An `agency` key may delete only its own
        agency's cases.
        """
        case = service.get_for_change(session=db.session, case_id=case_id, caller=current_caller())
        blp.check_etag(service.representation(session=db.session, case_id=case_id))
        service.delete(session=db.session, case=case)
        db.session.commit()
