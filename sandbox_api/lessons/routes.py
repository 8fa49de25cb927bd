"""HTTP routes for lessons: each case's, all of them across cases, their curation and their adoptions."""

from flask.views import MethodView

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.routes import CASE_WRITERS, ChildDocs, child_routes, facet_routes
from sandbox_api.http import writes
from sandbox_api.http.api import Blueprint
from sandbox_api.http.facets import FACETS_HEADER, with_facets
from sandbox_api.http.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.http.responses import json_response
from sandbox_api.lessons import examples, service
from sandbox_api.lessons.models import LESSON_FACETS, Lesson
from sandbox_api.lessons.schemas import (
    AdoptionListQuerySchema,
    AdoptionSchema,
    CaseLessonListQuerySchema,
    CurationSchema,
    LessonListItemSchema,
    LessonListQuerySchema,
    LessonSchema,
)
from sandbox_api.policy.auth import PUBLIC, Role, allow, current_caller
from sandbox_api.storage.db import db

blp = Blueprint(
    "lessons",
    __name__,
    url_prefix="/api/v1",
    description="What pilots learned, NAIO's curation of it, and which other cases took the lessons up.",
)

ADOPTION_PATCH = AdoptionSchema(partial=True, exclude=("adopting_case_id",))


def _lesson_for_curation(write: writes.Write) -> Lesson:
    """The lesson, if the caller may see it, with its case locked if the caller may change it."""
    caller = current_caller()
    lesson = service.get(session=db.session, lesson_id=write.ids["lesson_id"], caller=caller)
    cases_service.get_for_change(session=db.session, case_id=lesson.case_id, caller=caller)
    return lesson


# A lesson reached by its own id (its curation), not through its case.
LESSON = writes.Resource(
    blp,
    load=_lesson_for_curation,
    representation=lambda write: service.LESSONS.representation(
        session=db.session, case_id=write.target.case_id, child_id=write.ids["lesson_id"], caller=current_caller()
    ),
    record=lambda write: service.record(db.session, lesson=write.target, **write.event_args),
)

# An adoption: its target is the adoption and its adopting case (locked); a new one is created on its lesson.
ADOPTION = writes.Resource(
    blp,
    load=lambda write: service.get_adoption_for_change(
        session=db.session,
        lesson_id=write.ids["lesson_id"],
        adoption_id=write.ids["adoption_id"],
        caller=current_caller(),
    ),
    representation=lambda write: service.adoption_representation(
        session=db.session,
        lesson_id=write.ids["lesson_id"],
        adoption_id=write.ids["adoption_id"],
        caller=current_caller(),
    ),
    record=lambda write: service.record_adoption(
        db.session, adoption=write.target[0], adopting_case=write.target[1], **write.event_args
    ),
    load_collection=lambda write: service.get(
        session=db.session, lesson_id=write.ids["lesson_id"], caller=current_caller()
    ),
    endpoint="lessons.AdoptionByIdViews",
    id_name="adoption_id",
)

FOR_SECTOR_EXAMPLES = {
    "for_sector": {
        "summary": "GET /api/v1/lessons?for_sector=health&curation=endorsed",
        "value": [
            {
                "id": "0b7e5f3c-2a41-4d8e-9c6a-1f2e3d4c5b6a",
                "case_id": "5d1c9a2e-7b3f-4e6a-8c1d-2e3f4a5b6c7d",
                "title": "Keep a teacher in the loop",
                "statement": "Answers reviewed by a teacher before use caught most errors.",
                "recommendation": "Have a professional review generated answers before they reach the public.",
                "kind": "good_practice",
                "origin_sector": "education",
                "applies_to_sectors": ["health", "public_administration"],
                "conditions": None,
                "principles": ["reliability_safety_control"],
                "risk_domains": ["3"],
                "evidence": {
                    "outcome_ids": ["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"],
                    "risk_ids": [],
                    "urls": [],
                },
                "transferability": "high",
                "curation": "endorsed",
                "adoption_count": 2,
                "created_at": "2026-03-02T08:15:00.000000Z",
                "updated_at": "2026-05-11T10:00:00.000000Z",
                "ranking": {
                    "position_key": ["endorsed", "B", 1, 1],
                    "curation": "endorsed",
                    "best_evidence_grade": "B",
                    "cited_outcomes": 2,
                    "attained_outcomes": 1,
                    "adoptions_worked": 2,
                    "adoptions_did_not_work": 1,
                    "reasons": [
                        "Endorsed by NAIO as good practice to scale",
                        "Evidence grade B (observational study or administrative data), the best of 2 cited "
                        "outcomes; 1 attained its target",
                        "Worked in 2 adopting cases (finance, public_administration); did not work in 1 case "
                        "(agriculture)",
                    ],
                },
            }
        ],
    }
}


@blp.route("/lessons")
class LessonViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(LessonListQuerySchema(), location="query")
    @blp.response(
        200,
        LessonListItemSchema(many=True),
        headers={**PAGINATION_HEADERS, **FACETS_HEADER},
        examples=FOR_SECTOR_EXAMPLES,
    )
    def get(self, query):
        """List or search lessons across all cases

        The cross-sector view: e.g. `applies_to=health` lists lessons that should hold in health, whatever
        sector learned them; add `origin_sector=education` for those learned in education. Filters combine
        with AND; repeated values of one filter combine with OR. `q` searches the title, statement,
        recommendation and conditions, combined with the filters; each item then carries `match`, and the
        most relevant come first unless `sort` is given. Only lessons of cases the caller may see.
        `facets` adds counts per value of the fields named, over the whole filtered list, in the `X-Facets`
        header (`origin_sector`, `applies_to`, `principle` and `risk_domain` count a lesson once per value).

        **Lessons for my sector.** `for_sector=health` lists the lessons learned in *other* sectors (their
        `origin_sector` is not health) whose `applies_to_sectors` include health, ranked for health. Retired
        lessons are left out: NAIO retired them as no longer good practice to scale (`curation=retired` with
        `for_sector` is therefore empty). The order is lexicographic over:

        1. curation: `endorsed` before `proposed`;
        2. the best evidence grade among the outcomes the lesson cites (`evidence.outcome_ids`): A before B,
           C, D; a lesson citing no outcome comes after grade D;
        3. how many of those outcomes `attained` their target: more first;
        4. adoptions that worked minus adoptions that did not: more first, counting only adoptions by cases
           the caller may see (so an agency counts its own draft pilots' adoptions; anonymous callers count
           published ones only);

        then the newer lesson first, then the id. Each item then carries `ranking`: those values
        (`position_key`, in the order compared), the counts behind them and `reasons` in words. `for_sector`
        combines with every other filter; an explicit `sort` orders the ranked lessons instead of the ranking.
        """
        statement = service.list_statement(session=db.session, query=query, caller=current_caller())
        page = paginate(db.session, statement, LessonSchema, page=query["page"], page_size=query["page_size"])
        return with_facets(page, session=db.session, statement=statement, facets=LESSON_FACETS, names=query["facets"])


facet_routes(
    blp,
    path="/lessons",
    name="Lesson",
    subject="lessons",
    list_query_schema=LessonListQuerySchema,
    facets=LESSON_FACETS,
    list_statement=service.list_statement,
)
child_routes(
    blp,
    service.LESSONS,
    views="CaseLesson",
    path="lessons",
    schema=LessonSchema,
    list_schema=LessonSchema(many=True),
    list_query=CaseLessonListQuerySchema(),
    create=lambda case, values: service.create(session=db.session, case=case, lesson_in=values),
    update=lambda lesson, changes: service.update(session=db.session, lesson=lesson, changes=changes),
    example=examples.NEW_LESSON,
    changes_example=examples.LESSON_CHANGES,
    docs=ChildDocs(
        get_list="""List a case's lessons

        Only for a case the caller may see (404 otherwise).
        """,
        post="""Record a lesson

        Evidence may cite only the same case's outcomes and risks. New lessons are `proposed`; NAIO curates
        them. An `agency` key may add lessons only to its own agency's cases.
        """,
        get="Read a lesson",
        patch="""Change a lesson

        Send only the fields to change, with the `If-Match` ETag from a GET. Lists are replaced whole.
        """,
        delete="""Delete a lesson

        Deletes its adoptions with it.
        """,
    ),
)


@blp.route("/lessons/<uuid:lesson_id>/curation")
class LessonCurationViews(MethodView):
    @blp.policy(allow(Role.NAIO))
    @blp.arguments(CurationSchema, example=examples.CURATION)
    @blp.response(200, LessonSchema)
    def post(self, curation, lesson_id):
        """Curate a lesson

        NAIO endorses a lesson as good practice to scale, retires it, or sends it back to `proposed`, with a
        note. Answers the lesson as it is now; setting the state it already has changes nothing and records
        no event.
        """
        with writes.act(LESSON, lesson_id=lesson_id) as write:
            if service.curate(session=db.session, lesson=write.target, curation=curation["curation"]):
                write.event("curate", note=curation.get("note"))
            else:
                write.unchanged()
        return write.response


@blp.route("/lessons/<uuid:lesson_id>/adoptions")
class AdoptionViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(AdoptionListQuerySchema(), location="query")
    @blp.response(200, AdoptionSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query, lesson_id):
        """List a lesson's adoptions

        Only adoptions between cases the caller may see.
        """
        statement = service.adoptions_statement(
            session=db.session, lesson_id=lesson_id, query=query, caller=current_caller()
        )
        return paginate(db.session, statement, AdoptionSchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(CASE_WRITERS)
    @blp.etag
    @blp.arguments(AdoptionSchema, example=examples.NEW_ADOPTION)
    @blp.response(201, AdoptionSchema)
    def post(self, adoption_in, lesson_id):
        """Adopt a lesson

        Records that another case took the lesson up. An `agency` key may record adoptions only for its own
        agency's cases; a case adopts a lesson once (409 otherwise) and never its own.
        """
        with writes.create(ADOPTION, lesson_id=lesson_id) as write:
            adoption, adopting_case = service.adopt(
                session=db.session, lesson=write.target, adoption_in=adoption_in, caller=current_caller()
            )
            write.created((adoption, adopting_case), adoption.id)
        return write.response


@blp.route("/lessons/<uuid:lesson_id>/adoptions/<uuid:adoption_id>")
@blp.etag
class AdoptionByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, AdoptionSchema)
    def get(self, lesson_id, adoption_id):
        """Read an adoption"""
        return json_response(
            service.adoption_representation(
                session=db.session, lesson_id=lesson_id, adoption_id=adoption_id, caller=current_caller()
            )
        )

    @blp.policy(CASE_WRITERS)
    @blp.arguments(ADOPTION_PATCH, example=examples.ADOPTION_CHANGES)
    @blp.response(200, AdoptionSchema)
    def patch(self, changes, lesson_id, adoption_id):
        """Change an adoption

        Typically to record its `result`. The adopting case cannot change. Needs `If-Match`.
        """
        with writes.update(ADOPTION, lesson_id=lesson_id, adoption_id=adoption_id) as write:
            adoption, _ = write.target
            service.update_adoption(session=db.session, adoption=adoption, changes=changes)
        return write.response

    @blp.policy(CASE_WRITERS)
    @blp.response(204)
    def delete(self, lesson_id, adoption_id):
        """Delete an adoption"""
        with writes.delete(ADOPTION, lesson_id=lesson_id, adoption_id=adoption_id) as write:
            adoption, _ = write.target
            service.delete_adoption(session=db.session, adoption=adoption)
        return write.response
