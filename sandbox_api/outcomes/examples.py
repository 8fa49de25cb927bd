"""Examples for the OpenAPI document, taken from the demo data."""

# What AI at Work 2.0 measured, in the demo data: `GET /api/v1/outcomes?sector=public_administration`.
AI_AT_WORK_SOURCE = (
    "https://digital.gov.my/en-GB/siaran/Kerajaan-Malaysia-Tingkatkan-Kemahiran-200-%22Duta-Perubahan%22-Dalam-AI-"
    "Generatif-Untuk-Mendorong-Transformasi-Perkhidmatan-Awam"
)
OUTCOMES_EXAMPLE = [
    {
        "id": "34035ec4-6585-4577-a02d-fc34b0ea9dbf",
        "case_id": "2626dfc1-44e6-43fd-b9fb-092bed591a8a",
        "title": "Officers trained",
        "kind": "quantitative",
        "unit": "officers",
        "baseline": None,
        "target": None,
        "actual": 270.0,
        "direction": "increase",
        "attained": None,
        "measured_on": None,
        "method": "administrative_data",
        "evidence_grade": "B",
        "sample_size": None,
        "source_url": AI_AT_WORK_SOURCE,
        "notes": "Public officers in the pilot phase on which AI at Work 2.0 builds, as reported by the Ministry "
        "of Digital.",
        "created_at": "2026-12-01T23:02:01.279212Z",
        "updated_at": "2026-12-01T23:02:01.279216Z",
        "case_reference": "SBX-2026-0002",
        "case_primary_sector": "public_administration",
    },
    {
        "id": "b3421a30-3bc2-4dfc-a8b3-c6f356aed8ed",
        "case_id": "2626dfc1-44e6-43fd-b9fb-092bed591a8a",
        "title": "Share reporting better work quality",
        "kind": "quantitative",
        "unit": "%",
        "baseline": None,
        "target": 90.0,
        "actual": 90.0,
        "direction": "increase",
        "attained": True,
        "measured_on": None,
        "method": "survey",
        "evidence_grade": "C",
        "sample_size": None,
        "source_url": AI_AT_WORK_SOURCE,
        "notes": "Reported as more than 90 % of the pilot's officers, who said their work quality and efficiency "
        "improved.",
        "created_at": "2026-12-01T23:02:01.281044Z",
        "updated_at": "2026-12-01T23:02:01.281049Z",
        "case_reference": "SBX-2026-0002",
        "case_primary_sector": "public_administration",
    },
]

# Request bodies, accepted as they stand (tests/test_examples.py).
NEW_OUTCOME = {
    "title": "Teachers using the assistant weekly",
    "kind": "quantitative",
    "unit": "%",
    "baseline": 0,
    "target": 60,
    "actual": 48,
    "direction": "increase",
    "measured_on": "2026-03-31",
    "method": "survey",
    "sample_size": 120,
    "source_url": "https://www.example.gov.my/pilot/report",
    "notes": "Self-reported in the end-of-term survey.",
}
OUTCOME_CHANGES = {"actual": 52, "measured_on": "2026-04-30"}
