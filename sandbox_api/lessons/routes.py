"""HTTP routes for lessons: each case's, all of them across cases, and their adoptions."""

from flask import url_for
from flask.views import MethodView

from sandbox_api.api import Blueprint
from sandbox_api.auth import PUBLIC, current_caller
from sandbox_api.cases import children
from sandbox_api.cases import service as cases_service
from sandbox_api.cases.routes import CASE_WRITERS, LOCATION_HEADER
from sandbox_api.db import db
from sandbox_api.lessons import service
from sandbox_api.lessons.models import Lesson
from sandbox_api.lessons.schemas import (
    AdoptionListQuerySchema,
    AdoptionSchema,
    CaseLessonListQuerySchema,
    LessonListQuerySchema,
    LessonSchema,
)
from sandbox_api.pagination import PAGINATION_HEADERS, paginate
from sandbox_api.rendering import json_response

blp = Blueprint(
    "lessons",
    __name__,
    url_prefix="/api/v1",
    description="What pilots learned, and which other cases took the lessons up.",
)

ADOPTION_PATCH = AdoptionSchema(partial=True, exclude=("adopting_case_id",))


def _lesson_representation(case_id, lesson_id) -> str:
    return children.representation(
        session=db.session, model=Lesson, schema_class=LessonSchema, case_id=case_id, child_id=lesson_id
    )


@blp.route("/lessons")
class LessonViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(LessonListQuerySchema(), location="query")
    @blp.response(200, LessonSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query):
        """List lessons across all cases

        The cross-sector view: e.g. `applies_to=health` lists lessons that should hold in health, whatever
        sector learned them; add `origin_sector=education` for those learned in education. Filters combine
        with AND; repeated values of one filter combine with OR.
        """
        statement = service.list_statement(query=query)
        return paginate(db.session, statement, LessonSchema, page=query["page"], page_size=query["page_size"])


@blp.route("/cases/<uuid:case_id>/lessons")
class CaseLessonViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(CaseLessonListQuerySchema(), location="query")
    @blp.response(200, LessonSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query, case_id):
        """List a case's lessons"""
        statement = children.list_statement(session=db.session, model=Lesson, case_id=case_id, query=query)
        return paginate(db.session, statement, LessonSchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(CASE_WRITERS)
    @blp.etag
    @blp.arguments(LessonSchema)
    @blp.response(201, LessonSchema, headers=LOCATION_HEADER)
    def post(self, lesson_in, case_id):
        """Record a lesson

        Evidence may cite only the same case's outcomes and risks. New lessons are `proposed`; NAIO curates
        them. An `agency` key may add lessons only to its own agency's cases.
        """
        case = cases_service.get_for_change(session=db.session, case_id=case_id, caller=current_caller())
        lesson = service.create(session=db.session, case=case, lesson_in=lesson_in)
        body = _lesson_representation(case_id, lesson.id)
        db.session.commit()
        location = url_for("lessons.CaseLessonByIdViews", case_id=case_id, lesson_id=lesson.id)
        return json_response(body, 201, {"Location": location})


@blp.route("/cases/<uuid:case_id>/lessons/<uuid:lesson_id>")
@blp.etag
class CaseLessonByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, LessonSchema)
    def get(self, case_id, lesson_id):
        """Read a lesson"""
        return json_response(_lesson_representation(case_id, lesson_id))

    @blp.policy(CASE_WRITERS)
    @blp.arguments(LessonSchema(partial=True))
    @blp.response(200, LessonSchema)
    def patch(self, changes, case_id, lesson_id):
        """Change a lesson

        Send only the fields to change, with the `If-Match` ETag from a GET. Lists are replaced whole.
        """
        lesson = children.get_for_change(
            session=db.session,
            model=Lesson,
            case_id=case_id,
            child_id=lesson_id,
            caller=current_caller(),
        )
        blp.check_etag(_lesson_representation(case_id, lesson_id))
        service.update(session=db.session, lesson=lesson, changes=changes)
        body = _lesson_representation(case_id, lesson_id)
        db.session.commit()
        return json_response(body)

    @blp.policy(CASE_WRITERS)
    @blp.response(204)
    def delete(self, case_id, lesson_id):
        """Delete a lesson

        Deletes its adoptions with it.
        """
        lesson = children.get_for_change(
            session=db.session,
            model=Lesson,
            case_id=case_id,
            child_id=lesson_id,
            caller=current_caller(),
        )
        blp.check_etag(_lesson_representation(case_id, lesson_id))
        children.delete(session=db.session, child=lesson)
        db.session.commit()


@blp.route("/lessons/<uuid:lesson_id>/adoptions")
class AdoptionViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(AdoptionListQuerySchema(), location="query")
    @blp.response(200, AdoptionSchema(many=True), headers=PAGINATION_HEADERS)
    def get(self, query, lesson_id):
        """List a lesson's adoptions"""
        statement = service.adoptions_statement(session=db.session, lesson_id=lesson_id, query=query)
        return paginate(db.session, statement, AdoptionSchema, page=query["page"], page_size=query["page_size"])

    @blp.policy(CASE_WRITERS)
    @blp.etag
    @blp.arguments(AdoptionSchema)
    @blp.response(201, AdoptionSchema, headers=LOCATION_HEADER)
    def post(self, adoption_in, lesson_id):
        """Adopt a lesson

        Records that another case took the lesson up. An `agency` key may record adoptions only for its own
        agency's cases; a case adopts a lesson once (409 otherwise) and never its own.
        """
        lesson = service.get(session=db.session, lesson_id=lesson_id)
        adoption = service.adopt(session=db.session, lesson=lesson, adoption_in=adoption_in, caller=current_caller())
        body = service.adoption_representation(session=db.session, lesson_id=lesson_id, adoption_id=adoption.id)
        db.session.commit()
        location = url_for("lessons.AdoptionByIdViews", lesson_id=lesson_id, adoption_id=adoption.id)
        return json_response(body, 201, {"Location": location})


@blp.route("/lessons/<uuid:lesson_id>/adoptions/<uuid:adoption_id>")
@blp.etag
class AdoptionByIdViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.response(200, AdoptionSchema)
    def get(self, lesson_id, adoption_id):
        """Read an adoption"""
        return json_response(
            service.adoption_representation(session=db.session, lesson_id=lesson_id, adoption_id=adoption_id)
        )

    @blp.policy(CASE_WRITERS)
    @blp.arguments(ADOPTION_PATCH)
    @blp.response(200, AdoptionSchema)
    def patch(self, changes, lesson_id, adoption_id):
        """Change an adoption

        Typically to record its `result`. The adopting case cannot change. Needs `If-Match`.
        """
        adoption = service.get_adoption_for_change(
            session=db.session, lesson_id=lesson_id, adoption_id=adoption_id, caller=current_caller()
        )
        blp.check_etag(
            service.adoption_representation(session=db.session, lesson_id=lesson_id, adoption_id=adoption_id)
        )
        service.update_adoption(session=db.session, adoption=adoption, changes=changes)
        body = service.adoption_representation(session=db.session, lesson_id=lesson_id, adoption_id=adoption_id)
        db.session.commit()
        return json_response(body)

    @blp.policy(CASE_WRITERS)
    @blp.response(204)
    def delete(self, lesson_id, adoption_id):
        """Delete an adoption"""
        adoption = service.get_adoption_for_change(
            session=db.session, lesson_id=lesson_id, adoption_id=adoption_id, caller=current_caller()
        )
        blp.check_etag(
            service.adoption_representation(session=db.session, lesson_id=lesson_id, adoption_id=adoption_id)
        )
        children.delete(session=db.session, child=adoption)
        db.session.commit()
