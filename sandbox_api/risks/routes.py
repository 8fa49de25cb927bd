"""HTTP routes for risks: each case's register, and all risks across cases."""

from flask.views import MethodView

from sandbox_api.cases.routes import ChildDocs, child_routes, facet_routes
from sandbox_api.http.api import Blueprint
from sandbox_api.http.facets import FACETS_HEADER, with_facets
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.policy.auth import PUBLIC, current_caller
from sandbox_api.risks import service
from sandbox_api.risks.examples import NEW_RISK, RISK_CHANGES, RISKS_EXAMPLE
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


facet_routes(
    blp,
    path="/risks",
    name="Risk",
    subject="risks",
    list_query_schema=RiskAcrossCasesQuerySchema,
    facets=RISK_FACETS,
    list_statement=service.list_statement,
)
child_routes(
    blp,
    service.RISKS,
    views="Risk",
    path="risks",
    schema=RiskSchema,
    list_schema=RiskListItemSchema(many=True),
    list_query=RiskListQuerySchema(),
    create=lambda case, values: service.create(session=db.session, case=case, risk_in=values),
    update=lambda risk, changes: service.update(session=db.session, risk=risk, changes=changes),
    example=NEW_RISK,
    changes_example=RISK_CHANGES,
    docs=ChildDocs(
        get_list="""List or search a case's risks

        Highest `score` first unless `sort` says otherwise. `q` searches the title, description, mitigation
        and materialised note; each item then carries `match`, and the most relevant come first unless
        `sort` is given. Only for a case the caller may see (404 otherwise).
        """,
        post="""Record a risk

        An `agency` key may add risks only to its own agency's cases.
        """,
        get="Read a risk",
        patch="""Change a risk

        Send only the fields to change, with the `If-Match` ETag from a GET.
        """,
        delete="""Delete a risk

        Lessons that cite it as evidence no longer do.
        """,
    ),
)
