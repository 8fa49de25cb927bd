"""Examples for the OpenAPI document, taken from the demo data."""

# The case most like AI at Work 2.0 (SBX-2026-0002) in the demo data, as `GET /api/v1/cases/{case_id}/similar` lists it.
SIMILAR_CASES_EXAMPLE = [
    {
        "id": "1c71ae8b-0492-43cb-9e85-455abb0cf9fb",
        "reference": "SBX-2026-0003",
        "title": "Discharge summary drafting (illustrative)",
        "summary": "Illustrative pilot: a language model drafts hospital discharge summaries from the clinical "
        "record for a doctor to check and sign.",
        "description": "Illustrative: this pilot was invented for the demo registry to show the shape of the data. "
        "It is not a real pilot of the agency named as its lead, and none of its figures are real.",
        "lead_agency_id": "cd91be28-5c2a-4f58-9fc6-170f00a046f3",
        "lead_agency": {"slug": "moh", "name": "Ministry of Health"},
        "partners": [],
        "primary_sector": "health",
        "sectors": ["health"],
        "capabilities": ["generative_ai", "language"],
        "sandbox_type": "operational_pilot",
        "status": "active",
        "status_changed_at": "2026-12-01T23:02:01.328456Z",
        "planned_start": "2025-03-01",
        "planned_end": "2025-12-31",
        "actual_start": "2025-04-01",
        "actual_end": None,
        "participants_count": 40,
        "participants_description": "Illustrative: doctors in two hospital wards",
        "locations": ["MY-10", "MY-14"],
        "risk_tier": "high",
        "personal_data": True,
        "data_categories": ["sensitive_personal"],
        "principles": ["accountability", "privacy_security", "reliability_safety_control"],
        "regulatory_instruments": [
            {
                "name": "Personal Data Protection Act 2010",
                "treatment": "complied",
                "note": "Illustrative: records never leave the hospital network.",
            }
        ],
        "exit": None,
        "links": [],
        "next_review_due": None,
        "review_overdue": False,
        "published": True,
        "published_at": "2026-12-01T23:02:01.329962Z",
        "created_at": "2026-12-01T23:02:01.303261Z",
        "updated_at": "2026-12-01T23:02:01.329969Z",
        "similarity": {
            "score": 12,
            "shared_capabilities": ["generative_ai", "language"],
            "shared_sectors": [],
            "shared_principles": ["accountability", "privacy_security"],
            "shared_risk_subdomains": ["2.1", "5.1"],
            "shared_words": [],
        },
    }
]

# Request bodies. Each is accepted as it stands (tests/test_examples.py), so that Swagger UI's first "Execute"
# succeeds with a key of the operation's role: a pilot is registered by an `agency` key, for its own agency.
NEW_CASE = {
    "title": "Teacher lesson-plan assistant",
    "summary": "A generative AI assistant drafts lesson plans that teachers review and adapt for their classes.",
    "description": "Teachers in pilot schools ask the assistant for a first draft, then edit it before class.",
    "partners": [{"name": "Example Technology Sdn Bhd", "role": "technology_provider"}],
    "primary_sector": "education",
    "sectors": ["education"],
    "capabilities": ["generative_ai", "language"],
    "sandbox_type": "operational_pilot",
    "planned_start": "2026-01-05",
    "planned_end": "2026-06-30",
    "participants_count": 120,
    "participants_description": "Teachers in ten secondary schools",
    "locations": ["MY-14"],
    "risk_tier": "limited",
    "personal_data": False,
    "data_categories": ["public"],
    "principles": ["accountability", "transparency"],
    "regulatory_instruments": [
        {"name": "Personal Data Protection Act 2010", "treatment": "complied", "note": "No pupil data is entered."}
    ],
    "links": [{"title": "Pilot announcement", "url": "https://www.example.gov.my/pilot", "kind": "source"}],
    "next_review_due": "2026-03-31",
    "contact": {"name": "Pilot office", "email": "pilot@example.gov.my"},
}
CASE_CHANGES = {"participants_count": 150, "next_review_due": "2026-04-30"}
# From `draft`, by the owning agency.
TRANSITION = {"action": "submit", "note": "Ready for NAIO's review."}
# Of an admitted, active, suspended or exited case, by NAIO.
PUBLICATION = {"published": True, "note": "Admitted; safe to share."}
