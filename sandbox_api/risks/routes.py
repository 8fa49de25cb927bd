"""HTTP routes for risks: each case's register, and all risks across cases."""

from flask import url_for
from flask.views import MethodView

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.routes import CASE_WRITERS, LOCATION_HEADER
from sandbox_api.http.api import Blueprint
from sandbox_api.http.facets import FACETS_HEADER, with_facets
from sandbox_api.http.idempotency import commit_and_respond
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.http.responses import json_response
from sandbox_api.policy.auth import PUBLIC, current_caller
from sandbox_api.risks import service
from sandbox_api.risks.examples import RISKS_EXAMPLE
from sandbox_api.risks.models import RISK_FACETS
from sandbox_api.risks.schemas import (
    RiskAcrossCasesQuerySchema,
    RiskInCaseListItemSchema,
    RiskInCaseSchema,
    RiskListItemSchema,
    RiskListQuerySchema,
    RiskSchema,
)
from sandbox_api.storage.db import db

blp = Blueprint(
    "risks",
    __name__,
    url_prefix="/api/v1",
    description="Each case's risk register.",
)


@blp.route("/risks")
class RisksAcrossCasesViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(RiskAcrossCasesQuerySchema(), location="query")
    @blp.response(
        200, RiskInCaseListItemSchema(many=True), headers={**PAGINATION_HEADERS, **FACETS_HEADER}, example=RISKS_EXAMPLE
    )
    def get(self, query):
        """List or search risks across all cases

        The registry's risk picture: e.g. `domain=3&capability=generative_ai&materialised=true` lists the
        misinformation risks that materialised in generative-AI pilots. Each risk names its case's `reference`
        and `primary_sector`. Highest `score` first unless `sort` says otherwise. `q` searches the title,
        description, mitigation and materialised note; each item then carries `match`, and the most relevant
        come first unless `sort` is given. Filters combine with AND; repeated values of one filter combine
        with OR. Only risks of cases the caller may see. `facets` adds counts per value
        of the fields named, over the whole filtered list, in the `X-Facets` header.
        """
        statement = service.list_statement(session=db.session, query=query, caller=current_caller())
        page = paginate(db.session, statement, RiskInCaseSchema, page=query["page"], page_size=query["page_size"])
        return with_facets(page, session=db.session, statement=statement, facets=RISK_FACETS, names=query["facets"])


@blp.route("/cases/<uuid:case_id>/risks")
class RiskViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(RiskListQuerySchema(), location="query")
    @blp.response(200, RiskListItemSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query, case_id):
        """List or search a case's risks

        Highest `score` first unless `sort` says otherwise. `q` searches the title, description, mitigation
        and materialised note; each item then carries `match`, and the most relevant come first unless
        `sort` is given. Only for a case the caller may see (404 otherwise).
        """
        statement = service.RISKS.list_statement(
            session=db.session, case_id=case_id, query=query, caller=current_caller()
        )
        return paginate(db.session, statement, RiskSchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(CASE_WRITERS)
    @blp.etag
    @blp.arguments(RiskSchema)
    @blp.response(201, RiskSchema, headers=LOCATION_HEADER)
    def post(self, risk_in, case_id):
        """Record a risk

        An `agency` key may add risks only to its own agency's cases.
        """
        caller = current_caller()
        case = cases_service.get_for_change(session=db.session, case_id=case_id, caller=caller)
        risk = service.create(session=db.session, case=case, risk_in=risk_in)
        body = service.RISKS.written(
            session=db.session, case=case, child_id=risk.id, caller=caller, action="create", before=None
        )
        location = url_for("risks.RiskByIdViews", case_id=case_id, risk_id=risk.id)
        return commit_and_respond(body, 201, location=location)


@blp.route("/cases/<uuid:case_id>/risks/<uuid:risk_id>")
@blp.etag
class RiskByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, RiskSchema)
    def get(self, case_id, risk_id):
        """Read a risk"""
        caller = current_caller()
        return json_response(
            service.RISKS.representation(session=db.session, case_id=case_id, child_id=risk_id, caller=caller)
        )

    @blp.policy(CASE_WRITERS)
    @blp.arguments(RiskSchema(partial=True))
    @blp.response(200, RiskSchema)
    def patch(self, changes, case_id, risk_id):
        """Change a risk

        Send only the fields to change, with the `If-Match` ETag from a GET.
        """
        caller = current_caller()
        case, risk, before = service.RISKS.for_change(
            session=db.session, case_id=case_id, child_id=risk_id, caller=caller
        )
        blp.check_etag(before)
        service.update(session=db.session, risk=risk, changes=changes)
        body = service.RISKS.written(
            session=db.session, case=case, child_id=risk_id, caller=caller, action="update", before=before
        )
        return commit_and_respond(body)

    @blp.policy(CASE_WRITERS)
    @blp.response(204)
    def delete(self, case_id, risk_id):
        """Delete a risk

        Lessons that cite it as evidence no longer do.
        """
        caller = current_caller()
        case, risk, before = service.RISKS.for_change(
            session=db.session, case_id=case_id, child_id=risk_id, caller=caller
        )
        blp.check_etag(before)
        service.RISKS.delete(session=db.session, case=case, child=risk, before=before)
        db.session.commit()
