"""Query parameters of the exports: each list's own filters and `sort`, without its paging, plus `format`."""

import enum

import marshmallow as ma

from sandbox_api.cases.schemas import CaseListQuerySchema
from sandbox_api.lessons.schemas import LessonListQuerySchema
from sandbox_api.outcomes.schemas import OutcomeAcrossCasesQuerySchema
from sandbox_api.risks.schemas import RiskAcrossCasesQuerySchema
from sandbox_api.wire.fields import choice, schema_without


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


# What a list answers besides its items: an export has every item, and nothing else.
NOT_EXPORTED = ("page", "page_size", "facets")


def export_query_schema(list_query_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The list's query schema without its paging and facets, plus `format`.

    A subclass, so that whatever filters (and checks) the list gains, its export gains too.
    """
    format_field = choice(
        ExportFormat,
        "`csv` (RFC 4180, a header row) or `ndjson` (one JSON object per line). Optional: without it the "
        "`Accept` header chooses (`text/csv` or `application/x-ndjson`), and CSV is the default.",
    )
    return schema_without(list_query_schema, name, NOT_EXPORTED, format=format_field)


CaseExportQuerySchema = export_query_schema(CaseListQuerySchema, "CaseExportQuerySchema")
RiskExportQuerySchema = export_query_schema(RiskAcrossCasesQuerySchema, "RiskExportQuerySchema")
OutcomeExportQuerySchema = export_query_schema(OutcomeAcrossCasesQuerySchema, "OutcomeExportQuerySchema")
LessonExportQuerySchema = export_query_schema(LessonListQuerySchema, "LessonExportQuerySchema")


# One resource of each kind, as the examples of the spec show it (abridged: absent fields are empty cells).
_CASE_ID = "0b9d4c1e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
_WRITTEN = {"created_at": "2025-03-12T08:00:00.000000Z", "updated_at": "2025-03-12T08:00:00.000000Z"}
EXAMPLE_RESOURCES: dict[str, dict] = {
    "cases": {
        "id": _CASE_ID,
        "reference": "SBX-2025-0001",
        "title": "AI at Work 2.0",
        "summary": "Generative AI tools for public officers, led by the Ministry of Digital with Google Cloud.",
        "lead_agency_id": "5d2c7a10-3b4e-4f6a-9c8d-1e2f3a4b5c6d",
        "lead_agency": {"slug": "digital", "name": "Ministry of Digital"},
        "partners": [{"name": "Google Cloud", "agency_id": None, "agency": None, "role": "technology_provider"}],
        "primary_sector": "public_administration",
        "sectors": ["public_administration"],
        "capabilities": ["generative_ai", "language"],
        "sandbox_type": "operational_pilot",
        "status": "active",
        "participants_count": 270,
        "locations": ["MY"],
        "personal_data": False,
        "principles": ["accountability", "human_benefit"],
        "exit": None,
        "review_overdue": False,
        "published": True,
        **_WRITTEN,
    },
    "risks": {
        "id": "7e3f1a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
        "case_id": _CASE_ID,
        "title": "Confidential government information in prompts",
        "domain": "2",
        "subdomain": "2.1",
        "principle": "privacy_security",
        "likelihood": 3,
        "impact": 4,
        "score": 12,
        "status": "mitigating",
        **_WRITTEN,
        "case_reference": "SBX-2025-0001",
        "case_primary_sector": "public_administration",
    },
    "outcomes": {
        "id": "3a4b5c6d-7e8f-4a0b-9c2d-3e4f5a6b7c8d",
        "case_id": _CASE_ID,
        "title": "Officers trained",
        "kind": "quantitative",
        "unit": "officers",
        "actual": 270.0,
        "direction": "increase",
        "method": "administrative_data",
        "evidence_grade": "B",
        **_WRITTEN,
        "case_reference": "SBX-2025-0001",
        "case_primary_sector": "public_administration",
    },
    "lessons": {
        "id": "9c8d7e6f-5a4b-4c3d-8e2f-1a0b9c8d7e6f",
        "case_id": _CASE_ID,
        "title": "Give the tools together with hands-on training",
        "statement": "Officers shown tasks from their own work used the tools more, and more safely.",
        "kind": "process_insight",
        "origin_sector": "public_administration",
        "applies_to_sectors": ["education", "health"],
        "principles": ["accountability"],
        "risk_domains": ["2", "5"],
        "evidence": {"outcome_ids": ["3a4b5c6d-7e8f-4a0b-9c2d-3e4f5a6b7c8d"], "risk_ids": [], "urls": []},
        "transferability": "high",
        "curation": "endorsed",
        "adoption_count": 1,
        **_WRITTEN,
        "case_reference": "SBX-2025-0001",
    },
}
