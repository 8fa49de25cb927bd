"""HTTP routes for outcomes: what each case measured, and all outcomes across cases."""

from flask import url_for
from flask.views import MethodView

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.routes import CASE_WRITERS, LOCATION_HEADER
from sandbox_api.http.api import Blueprint
from sandbox_api.http.facets import FACETS_HEADER, with_facets
from sandbox_api.http.idempotency import commit_and_respond
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.http.responses import json_response
from sandbox_api.outcomes import service
from sandbox_api.outcomes.examples import OUTCOMES_EXAMPLE
from sandbox_api.outcomes.models import OUTCOME_FACETS
from sandbox_api.outcomes.schemas import (
    OutcomeAcrossCasesQuerySchema,
    OutcomeInCaseSchema,
    OutcomeListQuerySchema,
    OutcomeSchema,
)
from sandbox_api.policy.auth import PUBLIC, current_caller
from sandbox_api.storage.db import db

blp = Blueprint(
    "outcomes",
    __name__,
    url_prefix="/api/v1",
    description="What each case measured, with its evidence grade.",
)


@blp.route("/outcomes")
class OutcomesAcrossCasesViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(OutcomeAcrossCasesQuerySchema(), location="query")
    @blp.response(
        200, OutcomeInCaseSchema(many=True), headers={**PAGINATION_HEADERS, **FACETS_HEADER}, example=OUTCOMES_EXAMPLE
    )
    def get(self, query):
        """List outcomes across all cases

        What pilots measured, and how strong that evidence is: e.g. `sector=health&evidence_grade=A&attained=true`
        lists the targets health pilots reached, shown by controlled experiments. Each outcome names its case's
        `reference` and `primary_sector`. Filters combine with AND; repeated values of one filter combine with OR.
        Only outcomes of cases the caller may see. `facets` adds counts per
        value of the fields named, over the whole filtered list, in the `X-Facets` header.
        """
        statement = service.list_statement(session=db.session, query=query, caller=current_caller())
        page = paginate(db.session, statement, OutcomeInCaseSchema, page=query["page"], page_size=query["page_size"])
        return with_facets(page, session=db.session, statement=statement, facets=OUTCOME_FACETS, names=query["facets"])


@blp.route("/cases/<uuid:case_id>/outcomes")
class OutcomeViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(OutcomeListQuerySchema(), location="query")
    @blp.response(200, OutcomeSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query, case_id):
        """List a case's outcomes

        In the order they were recorded unless `sort` says otherwise. Only for a case the caller may see (404 otherwise).
        """
        statement = service.OUTCOMES.list_statement(
            session=db.session, case_id=case_id, query=query, caller=current_caller()
        )
        return paginate(db.session, statement, OutcomeSchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(CASE_WRITERS)
    @blp.etag
    @blp.arguments(OutcomeSchema)
    @blp.response(201, OutcomeSchema, headers=LOCATION_HEADER)
    def post(self, outcome_in, case_id):
        """Record an outcome

        An `agency` key may add outcomes only to its own agency's cases.
        """
        caller = current_caller()
        case = cases_service.get_for_change(session=db.session, case_id=case_id, caller=caller)
        outcome = service.create(session=db.session, case=case, outcome_in=outcome_in)
        body = service.OUTCOMES.written(
            session=db.session, case=case, child_id=outcome.id, caller=caller, action="create", before=None
        )
        location = url_for("outcomes.OutcomeByIdViews", case_id=case_id, outcome_id=outcome.id)
        return commit_and_respond(body, 201, location=location)


@blp.route("/cases/<uuid:case_id>/outcomes/<uuid:outcome_id>")
@blp.etag
class OutcomeByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, OutcomeSchema)
    def get(self, case_id, outcome_id):
        """Read an outcome"""
        caller = current_caller()
        return json_response(
            service.OUTCOMES.representation(session=db.session, case_id=case_id, child_id=outcome_id, caller=caller)
        )

    @blp.policy(CASE_WRITERS)
    @blp.arguments(OutcomeSchema(partial=True))
    @blp.response(200, OutcomeSchema)
    def patch(self, changes, case_id, outcome_id):
        """Change an outcome

        Send only the fields to change, with the `If-Match` ETag from a GET.
        """
        caller = current_caller()
        case, outcome, before = service.OUTCOMES.for_change(
            session=db.session, case_id=case_id, child_id=outcome_id, caller=caller
        )
        blp.check_etag(before)
        service.update(session=db.session, outcome=outcome, changes=changes)
        body = service.OUTCOMES.written(
            session=db.session, case=case, child_id=outcome_id, caller=caller, action="update", before=before
        )
        return commit_and_respond(body)

    @blp.policy(CASE_WRITERS)
    @blp.response(204)
    def delete(self, case_id, outcome_id):
        """Delete an outcome

        Lessons that cite it as evidence no longer do.
        """
        caller = current_caller()
        case, outcome, before = service.OUTCOMES.for_change(
            session=db.session, case_id=case_id, child_id=outcome_id, caller=caller
        )
        blp.check_etag(before)
        service.OUTCOMES.delete(session=db.session, case=case, child=outcome, before=before)
        db.session.commit()
