"""HTTP routes for outcomes: what each case measured, and all outcomes across cases."""

from flask.views import MethodView

from sandbox_api.cases.routes import ChildDocs, child_routes, facet_routes
from sandbox_api.http.api import Blueprint
from sandbox_api.http.facets import FACETS_HEADER, with_facets
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.outcomes import service
from sandbox_api.outcomes.examples import NEW_OUTCOME, OUTCOME_CHANGES, OUTCOMES_EXAMPLE
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


facet_routes(
    blp,
    path="/outcomes",
    name="Outcome",
    subject="outcomes",
    list_query_schema=OutcomeAcrossCasesQuerySchema,
    facets=OUTCOME_FACETS,
    list_statement=service.list_statement,
)
child_routes(
    blp,
    service.OUTCOMES,
    views="Outcome",
    path="outcomes",
    schema=OutcomeSchema,
    list_schema=OutcomeSchema(many=True),
    list_query=OutcomeListQuerySchema(),
    create=lambda case, values: service.create(session=db.session, case=case, outcome_in=values),
    update=lambda outcome, changes: service.update(session=db.session, outcome=outcome, changes=changes),
    example=NEW_OUTCOME,
    changes_example=OUTCOME_CHANGES,
    docs=ChildDocs(
        get_list="""List a case's outcomes

        In the order they were recorded unless `sort` says otherwise. Only for a case the caller may see (404 otherwise).
        """,
        post="""Record an outcome

        An `agency` key may add outcomes only to its own agency's cases.
        """,
        get="Read an outcome",
        patch="""Change an outcome

        Send only the fields to change, with the `If-Match` ETag from a GET.
        """,
        delete="""Delete an outcome

        Lessons that cite it as evidence no longer do.
        """,
    ),
)
