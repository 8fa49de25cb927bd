"""HTTP routes for a case's risk register."""

from flask import url_for
from flask.views import MethodView

from sandbox_api.api import Blueprint
from sandbox_api.auth import PUBLIC, current_caller
from sandbox_api.cases import children
from sandbox_api.cases import service as cases_service
from sandbox_api.cases.routes import CASE_WRITERS, LOCATION_HEADER
from sandbox_api.db import db
from sandbox_api.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.rendering import json_response
from sandbox_api.risks import service
from sandbox_api.risks.models import Risk
from sandbox_api.risks.schemas import RiskListQuerySchema, RiskSchema

blp = Blueprint(
    "risks", __name__, url_prefix="/api/v1/cases/<uuid:case_id>/risks", description="Each case's risk register."
)


@blp.route("")
class RiskViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(RiskListQuerySchema(), location="query")
    @blp.response(200, RiskSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query, case_id):
        """List a case's risks

        Highest `score` first unless `sort` says otherwise.
        """
        statement = children.list_statement(session=db.session, model=Risk, case_id=case_id, query=query)
        return paginate(db.session, statement, RiskSchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(CASE_WRITERS)
    @blp.etag
    @blp.arguments(RiskSchema)
    @blp.response(201, RiskSchema, headers=LOCATION_HEADER)
    def post(self, risk_in, case_id):
        """Record a risk

        An `agency` key may add risks only to its own agency's cases.
        """
        case = cases_service.get_for_change(session=db.session, case_id=case_id, caller=current_caller())
        risk = service.create(session=db.session, case=case, risk_in=risk_in)
        body = children.representation(
            session=db.session, model=Risk, schema_class=RiskSchema, case_id=case_id, child_id=risk.id
        )
        db.session.commit()
        return json_response(body, 201, {"Location": url_for("risks.RiskByIdViews", case_id=case_id, risk_id=risk.id)})


@blp.route("/<uuid:risk_id>")
@blp.etag
class RiskByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, RiskSchema)
    def get(self, case_id, risk_id):
        """Read a risk"""
        return json_response(
            children.representation(
                session=db.session, model=Risk, schema_class=RiskSchema, case_id=case_id, child_id=risk_id
            )
        )

    @blp.policy(CASE_WRITERS)
    @blp.arguments(RiskSchema(partial=True))
    @blp.response(200, RiskSchema)
    def patch(self, changes, case_id, risk_id):
        """Change a risk

        Send only the fields to change, with the `If-Match` ETag from a GET.
        """
        risk = children.get_for_change(
            session=db.session, model=Risk, case_id=case_id, child_id=risk_id, caller=current_caller()
        )
        blp.check_etag(
            children.representation(
                session=db.session, model=Risk, schema_class=RiskSchema, case_id=case_id, child_id=risk_id
            )
        )
        service.update(session=db.session, risk=risk, changes=changes)
        body = children.representation(
            session=db.session, model=Risk, schema_class=RiskSchema, case_id=case_id, child_id=risk_id
        )
        db.session.commit()
        return json_response(body)

    @blp.policy(CASE_WRITERS)
    @blp.response(204)
    def delete(self, case_id, risk_id):
        """Delete a risk

        Lessons that cite it as evidence no longer do.
        """
        risk = children.get_for_change(
            session=db.session, model=Risk, case_id=case_id, child_id=risk_id, caller=current_caller()
        )
        blp.check_etag(
            children.representation(
                session=db.session, model=Risk, schema_class=RiskSchema, case_id=case_id, child_id=risk_id
            )
        )
        children.delete(session=db.session, child=risk)
        db.session.commit()
