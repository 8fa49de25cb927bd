"""Rules and queries about lessons and their adoptions by other cases."""

import uuid
from collections import defaultdict

from sqlalchemy import ColumnElement, Select, Text, and_, case, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.children import ChildResource
from sandbox_api.cases.models import Case
from sandbox_api.errors import Conflict, NotFound, Unprocessable
from sandbox_api.lessons.models import (
    AdoptionResult,
    Curation,
    Lesson,
    LessonAdoption,
    LessonPrinciple,
    LessonRiskDomain,
    LessonSector,
    lesson_outcome_evidence,
)
from sandbox_api.lessons.schemas import AdoptionSchema, LessonSchema
from sandbox_api.outcomes.models import EVIDENCE_GRADES, Outcome
from sandbox_api.policy import audit
from sandbox_api.policy.auth import Caller
from sandbox_api.risks.models import Risk
from sandbox_api.storage import search
from sandbox_api.storage.db import replace_codes
from sandbox_api.storage.rendering import render_one
from sandbox_api.storage.sql import json_array, json_object, key, text_list_agg
from sandbox_api.storage.statements import built_once_per_query, order_by

SEARCH_INDEX = search.SearchIndex(Lesson, ("title", "statement", "recommendation", "conditions"))

LESSONS = ChildResource(Lesson, LessonSchema, "lesson")


def get(*, session: Session, lesson_id: uuid.UUID, caller: Caller) -> Lesson:
    """The lesson, if the caller may see its case."""
    statement = select(Lesson).where(Lesson.id == lesson_id, cases_service.case_is_visible(Lesson.case_id, caller))
    lesson = session.scalar(statement)
    if lesson is None:
        raise NotFound("No lesson has this id.")
    return lesson


def _grade_methods() -> dict[str, str]:
    methods = defaultdict(list)
    for method, grade in EVIDENCE_GRADES.items():
        methods[grade].append(method.value.replace("_", " "))
    return {grade: " or ".join(names) for grade, names in sorted(methods.items())}


GRADE_METHODS = _grade_methods()

_EVIDENCE = lesson_outcome_evidence.join(Outcome, Outcome.id == lesson_outcome_evidence.c.outcome_id)


def _cited_outcomes(*conditions) -> ColumnElement:
    """An aggregate over the outcomes that the lesson (of the enclosing query) cites, one index range of
    `lesson_outcome_evidence` (its key starts with the lesson)."""
    return (
        select(func.count())
        .select_from(_EVIDENCE)
        .where(lesson_outcome_evidence.c.lesson_id == Lesson.id, *conditions)
        .scalar_subquery()
    )


def _visible_adoptions(caller: Caller, *conditions) -> Select:
    """The adoptions of the lesson (of the enclosing query) by cases the caller may see; the lesson's own case
    is visible already, as the list shows only those."""
    statement = (
        select(func.count()).select_from(LessonAdoption).where(LessonAdoption.lesson_id == Lesson.id, *conditions)
    )
    if (visible := cases_service.record_visibility(LessonAdoption.adopting_case_id, caller)) is not None:
        statement = statement.where(visible)
    return statement


def _adopting_sectors(caller: Caller, result: AdoptionResult) -> ColumnElement:
    """`education, finance`: the primary sectors of the visible adopting cases with that result."""
    sectors = (
        select(Case.primary_sector.label("sector"))
        .distinct()
        .join(LessonAdoption, LessonAdoption.adopting_case_id == Case.id)
        .where(LessonAdoption.lesson_id == Lesson.id, LessonAdoption.result == result)
        .order_by(Case.primary_sector)
        .correlate(Lesson)
    )
    condition = cases_service.visibility(caller)
    if condition is not None:
        sectors = sectors.where(condition)
    listed = sectors.subquery()
    return select(text_list_agg(listed.c.sector)).scalar_subquery()


def _counted(count: ColumnElement, singular: str, plural: str) -> ColumnElement:
    """`1 cited outcome`, `2 cited outcomes`."""
    return cast(count, Text) + literal(" ") + case((count == 1, literal(singular)), else_=literal(plural))


def _ranking(sector: str, caller: Caller) -> tuple[tuple, ColumnElement]:
    """The ORDER BY of lessons ranked for a sector, and the JSON that explains each lesson's place.

    The order is lexicographic: curation (endorsed first), the best evidence grade among the cited outcomes
    (grades are letters, so the best is the smallest; none last), how many cited outcomes were attained, and
    the visible adoptions that worked minus those that did not; then newer first, then the id. Each key is
    a correlated aggregate over one lesson's index range, so ranking costs a few look-ups per matching lesson;
    every lesson that applies to the sector is ranked, so the cost grows with their number. The explanation
    costs little more: SQLite computes the select list only for rows entering its top-N sort, PostgreSQL
    after the sort.
    """
    curation_rank = case((Lesson.curation == Curation.ENDORSED, 0), else_=1)
    best_grade = (
        select(func.min(Outcome.evidence_grade))
        .select_from(_EVIDENCE)
        .where(lesson_outcome_evidence.c.lesson_id == Lesson.id)
        .scalar_subquery()
    )
    attained = _cited_outcomes(Outcome.attained.is_(True))
    net_adoptions = (
        _visible_adoptions(caller, LessonAdoption.result.in_((AdoptionResult.WORKED, AdoptionResult.DID_NOT_WORK)))
        .with_only_columns(
            func.coalesce(func.sum(case((LessonAdoption.result == AdoptionResult.WORKED, 1), else_=-1)), 0)
        )
        .scalar_subquery()
    )
    ordering = (
        curation_rank,
        best_grade.asc().nulls_last(),
        attained.desc(),
        net_adoptions.desc(),
        Lesson.created_at.desc(),
        Lesson.id.desc(),
    )

    cited = _cited_outcomes()
    worked = _visible_adoptions(caller, LessonAdoption.result == AdoptionResult.WORKED).scalar_subquery()
    failed = _visible_adoptions(caller, LessonAdoption.result == AdoptionResult.DID_NOT_WORK).scalar_subquery()
    grade_methods = case(GRADE_METHODS, value=best_grade)
    curation_reason = case(
        (Lesson.curation == Curation.ENDORSED, literal("Endorsed by NAIO as good practice to scale")),
        else_=literal("Proposed by its agency, not yet endorsed by NAIO"),
    )
    evidence_reason = case(
        (best_grade.is_(None), literal("Cites no outcome as evidence")),
        else_=literal("Evidence grade ")
        + best_grade
        + literal(" (")
        + grade_methods
        + literal("), the best of ")
        + _counted(cited, "cited outcome", "cited outcomes")
        + literal("; ")
        + cast(attained, Text)
        + literal(" attained its target"),
    )
    failed_clause = case(
        (
            failed > 0,
            literal("; did not work in ")
            + _counted(failed, "case", "cases")
            + literal(" (")
            + _adopting_sectors(caller, AdoptionResult.DID_NOT_WORK)
            + literal(")"),
        ),
        else_=literal(""),
    )
    adoption_reason = (
        case(
            (
                worked > 0,
                literal("Worked in ")
                + _counted(worked, "adopting case", "adopting cases")
                + literal(" (")
                + _adopting_sectors(caller, AdoptionResult.WORKED)
                + literal(")"),
            ),
            else_=literal("No adopting case reports that it worked"),
        )
        + failed_clause
    )
    explanation = json_object(
        key("position_key"),
        json_array(Lesson.curation, best_grade, attained, net_adoptions),
        key("curation"),
        Lesson.curation,
        key("best_evidence_grade"),
        best_grade,
        key("cited_outcomes"),
        cited,
        key("attained_outcomes"),
        attained,
        key("adoptions_worked"),
        worked,
        key("adoptions_did_not_work"),
        failed,
        key("reasons"),
        json_array(curation_reason, evidence_reason, adoption_reason),
    )
    return ordering, cast(explanation, Text).label("ranking")


@built_once_per_query
def list_statement(*, session: Session, query: dict, caller: Caller) -> Select:
    """Lessons across all cases that the caller may see, filtered as documented on `GET /api/v1/lessons`;
    with `for_sector`, ranked for that sector, each with its `ranking`."""
    conditions: list[ColumnElement[bool]] = []
    sector = query.get("for_sector")
    if sector:
        # Driven by the (sector, lesson) index: only the lessons that apply to the sector are ranked at all.
        conditions.append(
            Lesson.id.in_(select(LessonSector.lesson_id).where(LessonSector.sector_code == sector)),
        )
        conditions.append(Lesson.curation != Curation.RETIRED)
    if query.get("origin_sector"):
        conditions.append(exists().where(Case.id == Lesson.case_id, Case.primary_sector.in_(query["origin_sector"])))
    if query.get("applies_to"):
        conditions.append(
            exists().where(LessonSector.lesson_id == Lesson.id, LessonSector.sector_code.in_(query["applies_to"]))
        )
    if query.get("principle"):
        conditions.append(
            exists().where(
                LessonPrinciple.lesson_id == Lesson.id, LessonPrinciple.principle_code.in_(query["principle"])
            )
        )
    if query.get("risk_domain"):
        conditions.append(
            exists().where(
                LessonRiskDomain.lesson_id == Lesson.id, LessonRiskDomain.domain_code.in_(query["risk_domain"])
            )
        )
    for name in ("kind", "curation", "transferability"):
        if query.get(name):
            conditions.append(getattr(Lesson, name).in_(query[name]))
    # Last: SQLite tests the conditions in this order, and the filters above, on the lesson's own rows,
    # rule out most lessons more cheaply than a look-up of each lesson's case.
    visibility = cases_service.visibility(caller)
    if sector:
        # One look-up of the lesson's case for both its origin and its visibility: at national scale that
        # look-up, once per lesson applying to the sector, is most of the cost of ranking.
        case_conditions = (
            [Case.primary_sector != sector] if visibility is None else [Case.primary_sector != sector, visibility]
        )
        conditions.append(exists().where(Case.id == Lesson.case_id, *case_conditions))
        ordering, ranking = _ranking(sector, caller)
        # How many lessons apply to the sector, and so the best plan for ranking them, depends on the sector.
        ranked = select(Lesson, ranking).where(*conditions).execution_options(generic_plan=False)
        if "sort" in query:
            return search.ordered(ranked, session=session, index=SEARCH_INDEX, query=query)
        if "q" in query:
            # Searched and ranked: `q` narrows the lessons and explains its match, the ranking orders them.
            ranked = search.matched(ranked, session=session, index=SEARCH_INDEX, search=query["q"])
        return ranked.order_by(*ordering)
    return search.ordered(
        select(Lesson).where(*conditions),
        session=session,
        index=SEARCH_INDEX,
        query=query,
        visibility=cases_service.record_visibility(Lesson.case_id, caller),
    )


def _same_case_rows(session: Session, model, ids: list[uuid.UUID], case_id: uuid.UUID, field: str) -> list:
    rows = list(session.scalars(select(model).where(model.id.in_(ids), model.case_id == case_id))) if ids else []
    if len(rows) != len(set(ids)):
        raise Unprocessable(
            f"`evidence.{field}` must name {model.__tablename__} of the lesson's own case.",
            errors={"json": {"evidence": {field: ["Not of this case."]}}},
        )
    return rows


def _apply(session: Session, lesson: Lesson, values: dict) -> None:
    values = dict(values)
    links = (
        ("applies_to_sectors", lesson.sector_links, "sector_code", LessonSector),
        ("principles", lesson.principle_links, "principle_code", LessonPrinciple),
        ("risk_domains", lesson.risk_domain_links, "domain_code", LessonRiskDomain),
    )
    for field, collection, attribute, link_model in links:
        if field in values:
            replace_codes(
                collection,
                values.pop(field),
                code_attribute=attribute,
                make_link=lambda code, link_model=link_model, attribute=attribute: link_model(**{attribute: code}),
            )
    evidence = values.pop("evidence", None)
    if evidence is not None:
        lesson.evidence_outcomes = _same_case_rows(
            session, Outcome, evidence.get("outcome_ids", []), lesson.case_id, "outcome_ids"
        )
        lesson.evidence_risks = _same_case_rows(session, Risk, evidence.get("risk_ids", []), lesson.case_id, "risk_ids")
        lesson.evidence_urls = evidence.get("urls", [])
    for field, value in values.items():
        setattr(lesson, field, value)


def create(*, session: Session, case: Case, lesson_in: dict) -> Lesson:
    lesson = Lesson(case_id=case.id, evidence_urls=[])
    _apply(session, lesson, lesson_in)
    session.add(lesson)
    session.flush()
    return lesson


def update(*, session: Session, lesson: Lesson, changes: dict) -> Lesson:
    _apply(session, lesson, changes)
    session.flush()
    return lesson


def curate(*, session: Session, lesson: Lesson, curation: Curation) -> bool:
    """Set NAIO's judgement; True if that changed anything."""
    if lesson.curation == curation:
        return False
    lesson.curation = curation
    session.flush()
    return True


def record(session: Session, *, lesson: Lesson, action: str, before: str, after: str, note: str | None) -> None:
    """Audit a write to a lesson made outside its case's routes (curation)."""
    case = session.get_one(Case, lesson.case_id)
    cases_service.record(
        session,
        case=case,
        action=action,
        entity_type="lesson",
        entity_id=lesson.id,
        before=before,
        after=after,
        note=note,
    )


def adoption_is_visible(caller: Caller) -> ColumnElement[bool]:
    """An adoption is seen by whoever may see both the adopting case and the lesson's case."""
    lesson_case_visible = exists(
        select(Lesson.id).where(
            Lesson.id == LessonAdoption.lesson_id, cases_service.case_is_visible(Lesson.case_id, caller)
        )
    )
    return and_(cases_service.case_is_visible(LessonAdoption.adopting_case_id, caller), lesson_case_visible)


def _adoption(lesson_id: uuid.UUID, adoption_id: uuid.UUID, caller: Caller) -> Select:
    return select(LessonAdoption).where(
        LessonAdoption.id == adoption_id, LessonAdoption.lesson_id == lesson_id, adoption_is_visible(caller)
    )


def adoption_representation(*, session: Session, lesson_id: uuid.UUID, adoption_id: uuid.UUID, caller: Caller) -> str:
    body = render_one(session, AdoptionSchema, _adoption(lesson_id, adoption_id, caller))
    if body is None:
        raise NotFound("The lesson has no adoption with this id.")
    return body


def get_adoption_for_change(
    *, session: Session, lesson_id: uuid.UUID, adoption_id: uuid.UUID, caller: Caller
) -> tuple[LessonAdoption, Case]:
    """The adoption and its adopting case (locked), if the caller may change that case (its agency, or NAIO)."""
    adoption = session.scalar(_adoption(lesson_id, adoption_id, caller))
    if adoption is None:
        raise NotFound("The lesson has no adoption with this id.")
    case = cases_service.get_for_change(session=session, case_id=adoption.adopting_case_id, caller=caller)
    return adoption, case


def record_adoption(
    session: Session,
    *,
    adoption: LessonAdoption,
    adopting_case: Case,
    action: str,
    before: str | None,
    after: str | None,
) -> None:
    """Audit a write to an adoption, in the adopting case's history; public when both cases are published."""
    lesson_case_published = session.scalar(
        select(Case.published).join(Lesson, Lesson.case_id == Case.id).where(Lesson.id == adoption.lesson_id)
    )
    audit.record(
        session,
        action=action,
        entity_type="adoption",
        entity_id=adoption.id,
        case_id=adopting_case.id,
        case_agency_id=adopting_case.lead_agency_id,
        public=bool(adopting_case.published and lesson_case_published),
        before=before,
        after=after,
    )


def adoptions_statement(*, session: Session, lesson_id: uuid.UUID, query: dict, caller: Caller) -> Select:
    get(session=session, lesson_id=lesson_id, caller=caller)
    statement = select(LessonAdoption).where(LessonAdoption.lesson_id == lesson_id, adoption_is_visible(caller))
    if query.get("result"):
        statement = statement.where(LessonAdoption.result.in_(query["result"]))
    return statement.order_by(*order_by(LessonAdoption, query["sort"]))


def adopt(*, session: Session, lesson: Lesson, adoption_in: dict, caller: Caller) -> tuple[LessonAdoption, Case]:
    """Record that a case took up the lesson; the adopting case's agency (or NAIO) records it."""
    adopting_case_id = adoption_in["adopting_case_id"]
    if not session.scalar(select(cases_service.case_is_visible(adopting_case_id, caller))):
        raise Unprocessable(
            "`adopting_case_id` names no case.", errors={"json": {"adopting_case_id": ["No such case."]}}
        )
    adopting_case = cases_service.get_for_change(session=session, case_id=adopting_case_id, caller=caller)
    if adopting_case_id == lesson.case_id:
        raise Unprocessable(
            "A case cannot adopt its own lesson.", errors={"json": {"adopting_case_id": ["The lesson's own case."]}}
        )
    taken = exists().where(LessonAdoption.lesson_id == lesson.id, LessonAdoption.adopting_case_id == adopting_case_id)
    if session.scalar(select(taken)):
        raise Conflict("That case has already adopted this lesson; change the existing adoption instead.")
    adoption = LessonAdoption(lesson_id=lesson.id, **adoption_in)
    session.add(adoption)
    session.flush()
    return adoption, adopting_case


def update_adoption(*, session: Session, adoption: LessonAdoption, changes: dict) -> LessonAdoption:
    for field, value in changes.items():
        setattr(adoption, field, value)
    session.flush()
    return adoption


def delete_adoption(*, session: Session, adoption: LessonAdoption) -> None:
    session.delete(adoption)
    session.flush()
