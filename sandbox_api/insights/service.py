"""The insights' queries: one or two grouped statements per insight, over the cases the caller may see."""

from collections.abc import Callable
from itertools import groupby

from cachetools import cached
from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    FromClause,
    Select,
    Subquery,
    desc,
    distinct,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Session

from sandbox_api import caches
from sandbox_api.agencies.models import Agency
from sandbox_api.cases import service as cases_service
from sandbox_api.cases.models import Case, CaseCapability, CaseSector
from sandbox_api.lessons.models import AdoptionResult, Lesson, LessonAdoption
from sandbox_api.outcomes.models import EVIDENCE_GRADES, Outcome
from sandbox_api.policy.auth import Caller
from sandbox_api.risks.models import Risk, RiskStatus
from sandbox_api.storage.db import registry_state
from sandbox_api.storage.statements import question_key
from sandbox_api.taxonomies.models import RiskSubdomain

RECURRING_TOTALS = (
    "subdomain",
    "label",
    "domain",
    "sector_count",
    "case_count",
    "risk_count",
    "materialised_count",
)
OUTCOME_COUNTS = ("outcome_count", "attained_count", "not_attained_count", "unknown_count")
ATTAINMENT_COUNTS = {True: "attained_count", False: "not_attained_count", None: "unknown_count"}
FILTERS = ("sector", "capability", "sandbox_type", "status", "started_from", "started_to")


_REGISTRY_STATE = select(registry_state())

Insight = Callable[..., dict]


def answered_once_per_state(compute: Insight) -> Insight:
    """Memoize an insight `compute(*, session, query, caller)` by its question (the query, the caller's role
    and agency, the database) and the registry's state (`db.registry_state`), in `caches.INSIGHT_ANSWERS`.

    An insight aggregates every case the caller may see: at national scale, hundreds of milliseconds of
    the database's time. Dashboards ask the same questions again and again, and every write transaction
    changes the state: so each answer is computed once per state, read in the same snapshot as the
    answer on SQLite and before it on PostgreSQL (an answer computed from newer data is kept under a state
    that later requests no longer read). A repeated question then costs one read of the state, and an
    anonymous caller cannot make the database aggregate at every request. Each process keeps its own.
    """

    def question_and_state(*, session: Session, query: dict, caller: Caller) -> tuple:
        return (compute, *question_key(session=session, query=query, caller=caller), session.scalar(_REGISTRY_STATE))

    return cached(caches.INSIGHT_ANSWERS, key=question_and_state, lock=caches.INSIGHT_ANSWERS_LOCK)(compute)


def _filter_conditions(query: dict) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.get("sector"):
        conditions.append(exists().where(CaseSector.case_id == Case.id, CaseSector.sector_code.in_(query["sector"])))
    if query.get("capability"):
        conditions.append(
            exists().where(CaseCapability.case_id == Case.id, CaseCapability.capability_code.in_(query["capability"]))
        )
    for name in ("sandbox_type", "status"):
        if query.get(name):
            conditions.append(getattr(Case, name).in_(query[name]))
    # A pilot that has not started yet is placed at its planned start.
    if query.get("started_from") is not None:
        conditions.append(Case.started_on >= query["started_from"])
    if query.get("started_to") is not None:
        conditions.append(Case.started_on <= query["started_to"])
    return conditions


def cases_in_scope(*columns, query: dict, caller: Caller) -> Subquery:
    """The cases an insight aggregates: those the caller may see, narrowed by the query's filters; with
    their id, primary sector and `columns`. Every child row an insight counts is joined through it."""
    conditions = _filter_conditions(query)
    if (seen := cases_service.visibility(caller)) is not None:
        conditions.append(seen)
    return select(Case.id, Case.primary_sector, *columns).where(*conditions).subquery()


def _sector_dimension(scope: Subquery, by: str):
    """The sector column that a case counts in, and the FROM that provides it."""
    if by == "primary_sector":
        return scope.c.primary_sector, scope
    return CaseSector.sector_code, scope.join(CaseSector, CaseSector.case_id == scope.c.id)


def _echo(query: dict) -> dict:
    return {name: query[name] for name in FILTERS if name in query}


@answered_once_per_state
def case_status(*, session: Session, query: dict, caller: Caller) -> dict:
    scope = cases_in_scope(Case.status, query=query, caller=caller)
    sector, source = _sector_dimension(scope, query["by"])
    cells = session.execute(
        select(sector.label("sector"), scope.c.status, func.count().label("case_count"))
        .select_from(source)
        .group_by(sector, scope.c.status)
        .order_by(sector, scope.c.status)
    )
    return {
        "filters": _echo(query),
        "by": query["by"],
        "case_count": session.scalar(select(func.count()).select_from(scope)),
        "cells": [row._asdict() for row in cells],
    }


@answered_once_per_state
def risk_heatmap(*, session: Session, query: dict, caller: Caller) -> dict:
    scope = cases_in_scope(query=query, caller=caller)
    sector, source = _sector_dimension(scope, query["by"])
    cells = session.execute(
        select(
            Risk.domain,
            sector.label("sector"),
            func.count().label("risk_count"),
            func.round(func.avg(Risk.score), 2).label("mean_score"),
            func.count().filter(Risk.status == RiskStatus.MATERIALISED).label("materialised_count"),
        )
        .select_from(source.join(Risk, Risk.case_id == scope.c.id))
        .group_by(Risk.domain, sector)
        .order_by(Risk.domain, sector)
    )
    return {"filters": _echo(query), "by": query["by"], "cells": [row._asdict() for row in cells]}


@answered_once_per_state
def recurring_risks(*, session: Session, query: dict, caller: Caller) -> dict:
    scope = cases_in_scope(query=query, caller=caller)
    # Risks are counted per case first, so that joining each case's sectors multiplies cases, never risks,
    # and no count needs DISTINCT (which PostgreSQL computes by sorting every group).
    per_case = (
        select(
            Risk.subdomain,
            scope.c.id.label("case_id"),
            scope.c.primary_sector,
            func.count().label("risks"),
            func.count().filter(Risk.status == RiskStatus.MATERIALISED).label("materialised"),
        )
        .select_from(scope.join(Risk, Risk.case_id == scope.c.id))
        .where(Risk.subdomain.is_not(None))
        .group_by(Risk.subdomain, scope.c.id, scope.c.primary_sector)
        .cte("per_case")
    )
    sector: ColumnExpressionArgument[str]
    source: FromClause
    if query["by"] == "primary_sector":
        sector, source = per_case.c.primary_sector, per_case
    else:
        sector = CaseSector.sector_code
        source = per_case.join(CaseSector, CaseSector.case_id == per_case.c.case_id)
    per_sector = (
        select(
            per_case.c.subdomain,
            sector.label("sector"),
            func.count().label("case_count"),
            func.sum(per_case.c.risks).label("risk_count"),
        )
        .select_from(source)
        .group_by(per_case.c.subdomain, sector)
        .cte("per_sector")
    )
    per_subdomain = (
        select(
            per_case.c.subdomain,
            func.count().label("case_count"),
            func.sum(per_case.c.risks).label("risk_count"),
            func.sum(per_case.c.materialised).label("materialised_count"),
        )
        .group_by(per_case.c.subdomain)
        .cte("per_subdomain")
    )
    sectors_met = (
        select(per_sector.c.subdomain, func.count().label("sector_count"))
        .group_by(per_sector.c.subdomain)
        .cte("sectors_met")
    )
    # One row per subdomain and sector, with the subdomain's totals on each, in rank order.
    statement = (
        select(
            per_subdomain.c.subdomain,
            RiskSubdomain.label,
            RiskSubdomain.domain_code.label("domain"),
            sectors_met.c.sector_count,
            per_subdomain.c.case_count,
            per_subdomain.c.risk_count,
            per_subdomain.c.materialised_count,
            per_sector.c.sector,
            per_sector.c.case_count.label("sector_case_count"),
            per_sector.c.risk_count.label("sector_risk_count"),
        )
        .join_from(per_subdomain, sectors_met, sectors_met.c.subdomain == per_subdomain.c.subdomain)
        .join(per_sector, per_sector.c.subdomain == per_subdomain.c.subdomain)
        .join(RiskSubdomain, RiskSubdomain.code == per_subdomain.c.subdomain)
        .order_by(
            desc(sectors_met.c.sector_count),
            desc(per_subdomain.c.case_count),
            per_subdomain.c.subdomain,
            per_sector.c.sector,
        )
    )
    rows = []
    for _subdomain, grouped in groupby(session.execute(statement), key=lambda row: row.subdomain):
        group = list(grouped)
        totals = {name: getattr(group[0], name) for name in RECURRING_TOTALS}
        sectors = [
            {"sector": row.sector, "case_count": row.sector_case_count, "risk_count": row.sector_risk_count}
            for row in group
        ]
        rows.append({**totals, "sectors": sectors})
    return {"filters": _echo(query), "by": query["by"], "rows": rows}


@answered_once_per_state
def lesson_transfers(*, session: Session, query: dict, caller: Caller) -> dict:
    # Both cases of an adoption must be visible (lessons.service.adoption_is_visible); the filters select one.
    filtered = cases_in_scope(query=query, caller=caller)
    visible = cases_in_scope(query={}, caller=caller)
    origin, adopting = (filtered, visible) if query["apply_filters_to"] == "origin" else (visible, filtered)
    results = [func.count().filter(LessonAdoption.result == result).label(result.value) for result in AdoptionResult]
    cells = session.execute(
        select(
            origin.c.primary_sector.label("origin_sector"),
            adopting.c.primary_sector.label("adopting_sector"),
            func.count().label("adoption_count"),
            func.count(distinct(LessonAdoption.lesson_id)).label("lesson_count"),
            *results,
        )
        .select_from(LessonAdoption)
        .join(Lesson, Lesson.id == LessonAdoption.lesson_id)
        .join(origin, origin.c.id == Lesson.case_id)
        .join(adopting, adopting.c.id == LessonAdoption.adopting_case_id)
        .group_by(origin.c.primary_sector, adopting.c.primary_sector)
        .order_by(origin.c.primary_sector, adopting.c.primary_sector)
    )
    shaped = []
    for row in cells:
        values = row._asdict()
        shaped.append(
            {
                "origin_sector": values["origin_sector"],
                "adopting_sector": values["adopting_sector"],
                "adoption_count": values["adoption_count"],
                "lesson_count": values["lesson_count"],
                "results": {result.value: values[result.value] for result in AdoptionResult},
            }
        )
    return {"filters": _echo(query), "apply_filters_to": query["apply_filters_to"], "cells": shaped}


@answered_once_per_state
def outcome_attainment(*, session: Session, query: dict, caller: Caller) -> dict:
    scope = cases_in_scope(query=query, caller=caller)
    sector, source = _sector_dimension(scope, query["by"])
    attained = Outcome.attained.expression.label("attained")
    # Counted per method, the column itself, and folded into grades here: grouping by the grade, a CASE
    # over the method, cost PostgreSQL a fifth of the query (and needed an outer query to group by it).
    # Grouped by whether each outcome was attained too, so that expression is computed once per outcome, not
    # once per count: at 100,000 cases SQLite took 500 ms where it took 810 (PostgreSQL unchanged).
    counts = session.execute(
        select(sector.label("sector"), Outcome.method, attained, func.count().label("outcome_count"))
        .select_from(source.join(Outcome, Outcome.case_id == scope.c.id))
        .group_by(sector, Outcome.method, attained)
    )
    cells: dict[tuple[str, str], dict] = {}
    for row in counts:
        grade = EVIDENCE_GRADES[row.method]
        cell = cells.setdefault(
            (row.sector, grade),
            {"sector": row.sector, "evidence_grade": grade, **dict.fromkeys(OUTCOME_COUNTS, 0)},
        )
        cell["outcome_count"] += row.outcome_count
        cell[ATTAINMENT_COUNTS[row.attained]] += row.outcome_count
    return {"filters": _echo(query), "by": query["by"], "cells": [cells[key] for key in sorted(cells)]}


@answered_once_per_state
def overdue_reviews(*, session: Session, query: dict, caller: Caller) -> dict:
    scope = cases_in_scope(Case.lead_agency_id, Case.review_overdue.label("overdue"), query=query, caller=caller)
    case_count = func.count()
    overdue_count = func.count().filter(scope.c.overdue)
    statement: Select = (
        select(
            Agency.id.label("agency_id"),
            Agency.slug.label("agency_slug"),
            Agency.name.label("agency_name"),
            case_count.label("case_count"),
            overdue_count.label("overdue_count"),
            func.count().over().label("agency_count"),  # over the groups: every agency, before the limit
        )
        .select_from(scope.join(Agency, Agency.id == scope.c.lead_agency_id))
        .group_by(Agency.id, Agency.slug, Agency.name)
        .order_by(desc(overdue_count), desc(case_count), Agency.slug)
        .limit(query["limit"])
    )
    rows = [row._asdict() for row in session.execute(statement)]
    return {
        "filters": _echo(query),
        "limit": query["limit"],
        "agency_count": rows[0]["agency_count"] if rows else 0,
        "rows": rows,
    }
