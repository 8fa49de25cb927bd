"""HTTP routes for cases: the pilots themselves, their lifecycle, publication and history; and the routes
that each of a case's children (risks, outcomes, lessons) has."""

from collections.abc import Callable
from typing import Any, NamedTuple

import marshmallow as ma
from flask.views import MethodView

from sandbox_api.cases import examples, service, similarity
from sandbox_api.cases.children import ChildResource
from sandbox_api.cases.models import CASE_FACETS, Case
from sandbox_api.cases.schemas import (
    CaseListItemSchema,
    CaseListQuerySchema,
    CaseSchema,
    PublicationSchema,
    SimilarCaseQuerySchema,
    SimilarCaseSchema,
    TransitionSchema,
)
from sandbox_api.events import service as events_service
from sandbox_api.events.schemas import EventSchema, HistoryQuerySchema
from sandbox_api.http import writes
from sandbox_api.http.api import Blueprint
from sandbox_api.http.facets import (
    COUNTS_DESCRIPTION,
    FACETS_HEADER,
    facet_counts,
    facets_schemas,
    list_query,
    with_facets,
)
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.http.responses import json_response
from sandbox_api.policy.auth import PUBLIC, Role, allow, current_caller
from sandbox_api.storage.db import db
from sandbox_api.storage.facets import Facet

blp = Blueprint(
    "cases", __name__, url_prefix="/api/v1/cases", description="Sandbox pilots: their scope, status and governance."
)

CASE_WRITERS = allow(Role.NAIO, Role.AGENCY)

CASE = writes.Resource(
    blp,
    load=lambda write: service.get_for_change(
        session=db.session, case_id=write.ids["case_id"], caller=current_caller()
    ),
    representation=lambda write: service.representation(
        session=db.session, case_id=write.ids["case_id"], caller=current_caller()
    ),
    record=lambda write: service.record(db.session, case=write.target, **write.event_args),
    endpoint="cases.CaseByIdViews",
    id_name="case_id",
)


@blp.route("")
class CaseViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(CaseListQuerySchema(), location="query")
    @blp.response(200, CaseListItemSchema(many=True), headers={**PAGINATION_HEADERS, **FACETS_HEADER})
    def get(self, query):
        """List or search cases

        Filters combine with AND; repeated values of one filter combine with OR. Date ranges use
        `_from` and `_to` (inclusive). `lead_agency` takes an agency's id or slug. `q` searches the title,
        summary, description, reference and participants, combined with the filters; each item then
        carries `match`, and the most relevant come first unless `sort` is given. Lists only the cases
        the caller may see (see *Visibility* in the API description), and counts only those. `facets` adds
        counts per value of the fields named, over the whole filtered list, in the `X-Facets` header
        (`lead_agency` values are agency ids).
        """
        caller = current_caller()
        statement = service.list_statement(session=db.session, query=query, caller=caller)
        page = paginate(
            db.session, statement, service.schema_for(caller), page=query["page"], page_size=query["page_size"]
        )
        return with_facets(page, session=db.session, statement=statement, facets=CASE_FACETS, names=query["facets"])

    @blp.policy(CASE_WRITERS)
    @blp.etag
    @blp.arguments(CaseSchema, example=examples.NEW_CASE)
    @blp.response(201, CaseSchema)
    def post(self, case_in):
        """Register a pilot

        The server assigns the `id`, the `reference` (`SBX-<year>-<sequence>`) and the status `draft`.
        An `agency` key registers pilots for its own agency only. The case stays private to its agency,
        NAIO and admin until NAIO publishes it.
        """
        with writes.create(CASE) as write:
            case = service.create(session=db.session, case_in=case_in, caller=current_caller())
            write.created(case, case.id)
        return write.response


@blp.route("/<uuid:case_id>")
@blp.etag
class CaseByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, CaseSchema)
    def get(self, case_id):
        """Read a case

        A case the caller may not see (see *Visibility* in the API description) is 404, exactly like a
        missing one. The `contact` is left out for callers without a key.
        """
        return json_response(service.representation(session=db.session, case_id=case_id, caller=current_caller()))

    @blp.policy(CASE_WRITERS)
    @blp.arguments(CaseSchema(partial=True), example=examples.CASE_CHANGES)
    @blp.response(200, CaseSchema)
    def patch(self, changes, case_id):
        """Change a case

        Send only the fields to change, with the `If-Match` ETag from a GET. Lists (`sectors`, `partners`,
        `links`...) are replaced whole. An `agency` key may change only its own agency's cases. The status
        and publication change only through their own operations.
        """
        with writes.update(CASE, case_id=case_id) as write:
            service.update(session=db.session, case=write.target, changes=changes, caller=current_caller())
        return write.response

    @blp.policy(CASE_WRITERS)
    @blp.response(204)
    def delete(self, case_id):
        """Delete a case

        Deletes its risks, outcomes, lessons and adoptions with it; its history stays. An `agency` key may
        delete only its own agency's cases.
        """
        with writes.delete(CASE, case_id=case_id) as write:
            service.delete(session=db.session, case=write.target)
        return write.response


@blp.route("/<uuid:case_id>/transitions")
class CaseTransitionViews(MethodView):
    @blp.policy(CASE_WRITERS)
    @blp.arguments(TransitionSchema, example=examples.TRANSITION)
    @blp.response(200, CaseSchema)
    def post(self, transition, case_id):
        """Move a case along its lifecycle

        | action | from | who |
        | --- | --- | --- |
        | `submit` | draft | the owning agency |
        | `return` (note required) | submitted | NAIO |
        | `admit`, `reject` (note required) | submitted | NAIO |
        | `start` | admitted | the owning agency or NAIO |
        | `suspend` | active | NAIO |
        | `resume` | suspended | NAIO |
        | `exit` (with `exit`) | active, suspended | the owning agency or NAIO |
        | `withdraw` | draft, submitted, admitted, active, suspended | the owning agency or NAIO |

        A caller that may never take the action on this case gets 403; an action that does not start from
        the current status gets 409 with `allowed_actions`, the actions the caller may take now. Answers
        the case as it is after the action; each action is one event in the case's history.
        """
        action, note = transition["action"], transition.get("note")
        with writes.act(CASE, case_id=case_id) as write:
            service.transition(
                session=db.session,
                case=write.target,
                action=action,
                caller=current_caller(),
                exit_in=transition.get("exit"),
                note=note,
            )
            write.event(action.value, note=note)
        return write.response


@blp.route("/<uuid:case_id>/publication")
class CasePublicationViews(MethodView):
    @blp.policy(allow(Role.NAIO))
    @blp.arguments(PublicationSchema, example=examples.PUBLICATION)
    @blp.response(200, CaseSchema)
    def post(self, publication, case_id):
        """Publish or unpublish a case

        Only NAIO publishes, and only a case that is admitted, active, suspended or exited (409 otherwise);
        it may unpublish any case at any time. Once published, the case, its risks, outcomes and lessons
        are readable by anyone. Asking for the state the case is already in changes nothing and records
        no event.
        """
        with writes.act(CASE, case_id=case_id) as write:
            case = write.target
            if not service.set_published(session=db.session, case=case, published=publication["published"]):
                write.unchanged()
            elif case.published:
                snapshot = events_service.publication_snapshot(session=db.session, case_id=case_id)
                write.event("publish", note=publication.get("note"), snapshot=snapshot)
            else:
                write.event("unpublish", note=publication.get("note"))
        return write.response


@blp.route("/<uuid:case_id>/history")
class CaseHistoryViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(HistoryQuerySchema(), location="query")
    @blp.response(200, EventSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query, case_id):
        """List a case's history

        Every write to the case and to its risks, outcomes, lessons and adoptions, oldest first: who
        (key, role, agency), what (`changes`), why (`note`) and when. NAIO, admin and the owning agency see
        every event; other callers who may see the case see only the events made while it was published
        (and its publication), and callers without a key see no actor, note, request id or contact details.
        """
        caller = current_caller()
        statement = events_service.history_statement(
            session=db.session, case_id=case_id, caller=caller, sort=query["sort"]
        )
        return paginate(
            db.session,
            statement,
            events_service.schema_for(caller),
            page=query["page"],
            page_size=query["page_size"],
        )


@blp.route("/<uuid:case_id>/similar")
class SimilarCaseViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(SimilarCaseQuerySchema(), location="query")
    @blp.response(200, SimilarCaseSchema(many=True), headers=PAGINATION_HEADERS, example=examples.SIMILAR_CASES_EXAMPLE)
    def get(self, query, case_id):
        """List the cases most like this one

        Where to look for experience before repeating a pilot: other cases ranked by what they share with this
        one (capabilities, sectors, AIGE principles, MIT risk subdomains met in both risk registers, and the
        distinctive words of this case's title and summary found in their text), best first, then by id.
        Each carries `similarity`: its score and the shared terms, i.e. why it is listed. A
        case that shares nothing is not listed; at most the 100 best are ranked (and counted). Only cases the
        caller may see, for a case it may see (404 otherwise).
        """
        caller = current_caller()
        statement = similarity.similar_statement(session=db.session, case_id=case_id, caller=caller)
        return paginate(
            db.session, statement, service.schema_for(caller), page=query["page"], page_size=query["page_size"]
        )


class ChildDocs(NamedTuple):
    """The docstrings of a child resource's operations (summary, blank line, description): the list, the
    creation, and reading, changing and deleting one."""

    get_list: str
    post: str
    get: str
    patch: str
    delete: str


def documented(docstring: str) -> Callable:
    """Give a view its docstring, the operation's summary and description; innermost, so that the
    blueprint's decorators read it."""

    def decorator(func: Callable) -> Callable:
        func.__doc__ = docstring
        return func

    return decorator


def child_routes(
    blp: Blueprint,
    resource: ChildResource,
    *,
    views: str,
    path: str,
    schema: type[ma.Schema],
    list_schema: ma.Schema,
    list_query: ma.Schema,
    create: Callable[[Case, dict], Any],
    update: Callable[[Any, dict], Any],
    docs: ChildDocs,
    example: dict,
    changes_example: dict,
) -> None:
    """Register a case's children on their blueprint: the list and the creation at `/cases/<case_id>/<path>`
    (endpoint `<views>Views`), reading, changing and deleting one at `/cases/<case_id>/<path>/<id>`
    (`<views>ByIdViews`). Only those whose case the caller may see, changed by whoever may change the case.

    `create(case, values)` makes one in the (locked) case; `update(child, changes)` changes one. `example` and
    `changes_example` are the request bodies the spec shows for creating and for changing one.
    """
    id_name = f"{resource.entity_type}_id"
    item_views = f"{views}ByIdViews"

    def load(write: writes.Write) -> tuple[Case, Any]:
        return resource.for_change(
            session=db.session, case_id=write.ids["case_id"], child_id=write.ids[id_name], caller=current_caller()
        )

    def representation(write: writes.Write) -> str:
        return resource.representation(
            session=db.session, case_id=write.ids["case_id"], child_id=write.ids[id_name], caller=current_caller()
        )

    def record(write: writes.Write) -> None:
        case, _ = write.target
        resource.record(db.session, case=case, child_id=write.ids[id_name], **write.event_args)

    # On the write path, a child's target is its case (locked) and itself; a new one is created in its case.
    target = writes.Resource(
        blp,
        load,
        representation,
        record,
        load_collection=CASE.load,
        endpoint=f"{blp.name}.{item_views}",
        id_name=id_name,
    )

    class CollectionViews(MethodView):
        @blp.policy(PUBLIC)
        @blp.arguments(list_query, location="query")
        @blp.response(200, list_schema, headers=PAGINATION_HEADERS)
        @documented(docs.get_list)
        def get(self, query, case_id):
            statement = resource.list_statement(
                session=db.session, case_id=case_id, query=query, caller=current_caller()
            )
            return paginate(db.session, statement, schema, page=query["page"], page_size=query["page_size"])

        @blp.policy(CASE_WRITERS)
        @blp.etag
        @blp.arguments(schema, example=example)
        @blp.response(201, schema)
        @documented(docs.post)
        def post(self, values, case_id):
            with writes.create(target, case_id=case_id) as write:
                case = write.target
                child = create(case, values)
                write.created((case, child), child.id)
            return write.response

    class ItemViews(MethodView):
        @blp.policy(PUBLIC)
        @blp.response(200, schema)
        @documented(docs.get)
        def get(self, case_id, **ids):
            return json_response(
                resource.representation(
                    session=db.session, case_id=case_id, child_id=ids[id_name], caller=current_caller()
                )
            )

        @blp.policy(CASE_WRITERS)
        @blp.arguments(schema(partial=True), example=changes_example)
        @blp.response(200, schema)
        @documented(docs.patch)
        def patch(self, changes, case_id, **ids):
            with writes.update(target, case_id=case_id, **ids) as write:
                _, child = write.target
                update(child, changes)
            return write.response

        @blp.policy(CASE_WRITERS)
        @blp.response(204)
        @documented(docs.delete)
        def delete(self, case_id, **ids):
            with writes.delete(target, case_id=case_id, **ids) as write:
                _, child = write.target
                resource.delete(session=db.session, child=child)
            return write.response

    collection = f"/cases/<uuid:case_id>/{path}"
    blp.route(collection, endpoint=f"{views}Views")(CollectionViews)
    blp.route(f"{collection}/<uuid:{id_name}>", endpoint=item_views)(blp.etag(ItemViews))


def facet_routes(
    blp: Blueprint,
    *,
    path: str,
    name: str,
    subject: str,
    list_query_schema: type[ma.Schema],
    facets: dict[str, Facet],
    list_statement: Callable[..., Any],
) -> None:
    """Register `<path>/facets` (endpoint `<name>FacetViews`): the counts that `facets=` adds to the list at `path`
    in its `X-Facets` header, as a body with a schema, so that a generated client can read them typed."""
    query_schema, body_schema = facets_schemas(list_query_schema, facets, name)

    class FacetViews(MethodView):
        @blp.policy(PUBLIC)
        @blp.arguments(query_schema(), location="query")
        @blp.response(200, body_schema)
        @documented(
            f"""Count {subject} per value

            What `facets` adds to `GET {blp.url_prefix}{path}` in the `X-Facets` header, as this body: the same
            filters and `q`, over the {subject} the caller may see, without paging or `sort`. Without `facets`,
            every field is counted. {COUNTS_DESCRIPTION}
            """
        )
        def get(self, query):
            statement = list_statement(
                session=db.session, query=list_query(list_query_schema, query), caller=current_caller()
            )
            return facet_counts(session=db.session, statement=statement, facets=facets, names=query["facets"])

    blp.route(f"{path}/facets", endpoint=f"{name}FacetViews")(FacetViews)


facet_routes(
    blp,
    path="",
    name="Case",
    subject="cases",
    list_query_schema=CaseListQuerySchema,
    facets=CASE_FACETS,
    list_statement=service.list_statement,
)
