"""HTTP routes for insights: read-only aggregates across sectors, over the cases the caller may see."""

from flask.views import MethodView

from sandbox_api.http.api import Blueprint
from sandbox_api.insights import service
from sandbox_api.insights.schemas import (
    CaseStatusInsightSchema,
    LessonTransferQuerySchema,
    LessonTransfersSchema,
    OutcomeAttainmentSchema,
    OverdueReviewQuerySchema,
    OverdueReviewsSchema,
    RecurringRisksSchema,
    RiskHeatmapSchema,
    SectorInsightQuerySchema,
)
from sandbox_api.policy.auth import PUBLIC, current_caller
from sandbox_api.storage.db import db

blp = Blueprint(
    "insights",
    __name__,
    url_prefix="/api/v1/insights",
    description="Questions across sectors, answered by aggregation over the cases the caller may see. Every "
    "insight takes the same filters on the cases it aggregates (`sector`, `capability`, `sandbox_type`, "
    "`status`, `started_from`, `started_to`): repeated values of one filter combine with OR, different "
    "filters with AND. Only cases the caller may see are counted, and their risks, outcomes and lessons "
    "only through them. Matrices list only their non-empty cells, in a fixed order.",
)

FILTERS_EXAMPLE = {"capability": ["generative_ai"]}


@blp.route("/case-status")
class CaseStatusViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(SectorInsightQuerySchema(), location="query")
    @blp.response(
        200,
        CaseStatusInsightSchema,
        example={
            "filters": FILTERS_EXAMPLE,
            "by": "sector",
            "case_count": 3,
            "cells": [
                {"sector": "education", "status": "active", "case_count": 2},
                {"sector": "public_administration", "status": "active", "case_count": 1},
                {"sector": "public_administration", "status": "exited", "case_count": 1},
            ],
        },
    )
    def get(self, query):
        """Cases by sector and status

        How many pilots each sector has in each status. With `by=sector` (the default) a case counts in every
        sector it touches, so the cells may add up to more than `case_count`; `by=primary_sector` counts each
        case once, in its primary sector.
        """
        return service.case_status(session=db.session, query=query, caller=current_caller())


@blp.route("/risk-heatmap")
class RiskHeatmapViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(SectorInsightQuerySchema(), location="query")
    @blp.response(
        200,
        RiskHeatmapSchema,
        example={
            "filters": {},
            "by": "sector",
            "cells": [
                {"domain": "2", "sector": "health", "risk_count": 4, "mean_score": 12.5, "materialised_count": 1},
                {"domain": "3", "sector": "education", "risk_count": 6, "mean_score": 9.17, "materialised_count": 0},
            ],
        },
    )
    def get(self, query):
        """Risk heatmap: MIT risk domain by sector

        For each risk domain and sector: how many risks the sector's cases recorded, their mean score and how
        many materialised. With `by=sector` (the default) a risk counts in every sector its case touches.
        """
        return service.risk_heatmap(session=db.session, query=query, caller=current_caller())


@blp.route("/recurring-risks")
class RecurringRiskViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(SectorInsightQuerySchema(), location="query")
    @blp.response(
        200,
        RecurringRisksSchema,
        example={
            "filters": FILTERS_EXAMPLE,
            "by": "sector",
            "rows": [
                {
                    "subdomain": "3.1",
                    "label": "False or misleading information",
                    "domain": "3",
                    "sector_count": 2,
                    "case_count": 3,
                    "risk_count": 3,
                    "materialised_count": 1,
                    "sectors": [
                        {"sector": "education", "case_count": 2, "risk_count": 2},
                        {"sector": "public_administration", "case_count": 1, "risk_count": 1},
                    ],
                }
            ],
        },
    )
    def get(self, query):
        """Risk subdomains that recur across sectors

        Subdomains ranked by how many distinct sectors met them, then by how many cases, then by code, with
        the sectors. `capability=generative_ai` answers "which risk subdomains recur across the most sectors
        in generative-AI pilots?". With `by=sector` (the default) a case meets a subdomain in every sector it
        touches; `by=primary_sector` counts only its primary sector.
        """
        return service.recurring_risks(session=db.session, query=query, caller=current_caller())


@blp.route("/lesson-transfers")
class LessonTransferViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(LessonTransferQuerySchema(), location="query")
    @blp.response(
        200,
        LessonTransfersSchema,
        example={
            "filters": {},
            "apply_filters_to": "origin",
            "cells": [
                {
                    "origin_sector": "education",
                    "adopting_sector": "health",
                    "adoption_count": 3,
                    "lesson_count": 2,
                    "results": {"planned": 1, "applied": 0, "worked": 2, "did_not_work": 0},
                }
            ],
        },
    )
    def get(self, query):
        """Lesson transfer matrix: origin sector by adopting sector

        Which practice crossed which boundary and whether it worked there: adoptions of lessons, by the
        primary sector of the lesson's case and of the adopting case, with their results. An adoption counts
        only when the caller may see both cases; the filters select the lesson's case (`apply_filters_to=origin`,
        the default) or the adopting case (`adopting`).
        """
        return service.lesson_transfers(session=db.session, query=query, caller=current_caller())


@blp.route("/outcome-attainment")
class OutcomeAttainmentViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(SectorInsightQuerySchema(), location="query")
    @blp.response(
        200,
        OutcomeAttainmentSchema,
        example={
            "filters": {"sector": ["public_administration"]},
            "by": "sector",
            "cells": [
                {
                    "sector": "public_administration",
                    "evidence_grade": "B",
                    "outcome_count": 1,
                    "attained_count": 1,
                    "not_attained_count": 0,
                    "unknown_count": 0,
                },
                {
                    "sector": "public_administration",
                    "evidence_grade": "C",
                    "outcome_count": 1,
                    "attained_count": 1,
                    "not_attained_count": 0,
                    "unknown_count": 0,
                },
            ],
        },
    )
    def get(self, query):
        """Outcome attainment by sector and evidence grade

        How strong the evidence of each sector's outcomes is, and how many reached their target. The grade
        follows the method (A controlled experiment; B observational study or administrative data; C survey
        or expert review; D anecdotal); `attained` is unknown when it cannot be computed (a qualitative
        outcome, or no target or actual). With `by=sector` (the default) an outcome counts in every sector
        its case touches.
        """
        return service.outcome_attainment(session=db.session, query=query, caller=current_caller())


@blp.route("/overdue-reviews")
class OverdueReviewViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(OverdueReviewQuerySchema(), location="query")
    @blp.response(
        200,
        OverdueReviewsSchema,
        example={
            "filters": {"status": ["active"]},
            "limit": 100,
            "agency_count": 2,
            "rows": [
                {
                    "agency_id": "0b7e2b1e-4c1a-4c43-9a57-8f3a4c0f9d21",
                    "agency_slug": "moe",
                    "agency_name": "Ministry of Education",
                    "case_count": 4,
                    "overdue_count": 2,
                },
                {
                    "agency_id": "5d0c8a5e-2f7b-4f1e-8a8e-1b2c3d4e5f60",
                    "agency_slug": "digital",
                    "agency_name": "Ministry of Digital",
                    "case_count": 3,
                    "overdue_count": 0,
                },
            ],
        },
    )
    def get(self, query):
        """Overdue reviews by lead agency

        For each agency leading at least one of the cases aggregated: how many it leads and how many of those
        are overdue for review (`next_review_due` has passed, today in UTC, while the pilot is live). Most
        overdue first; capped at `limit` agencies rather than paginated, with `agency_count` the number in all.
        """
        return service.overdue_reviews(session=db.session, query=query, caller=current_caller())
