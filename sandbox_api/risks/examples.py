"""Examples for the OpenAPI document, taken from the demo data."""

# A risk of the demo data, as `GET /api/v1/risks?capability=generative_ai&materialised=true` lists it.
RISKS_EXAMPLE = [
    {
        "id": "44ab55ba-9e6d-4191-aacd-8da7df5fe62c",
        "case_id": "1c71ae8b-0492-43cb-9e85-455abb0cf9fb",
        "title": "Illustrative: drafts signed without being read",
        "description": None,
        "domain": "5",
        "subdomain": "5.1",
        "principle": "accountability",
        "likelihood": 3,
        "impact": 4,
        "score": 12,
        "mitigation": None,
        "residual_likelihood": None,
        "residual_impact": None,
        "residual_score": None,
        "status": "materialised",
        "materialised_note": "Illustrative: an audit found some summaries signed within seconds of being opened; "
        "sign-off now needs the checklist.",
        "owner": None,
        "created_at": "2026-12-01T23:02:01.310794Z",
        "updated_at": "2026-12-01T23:02:01.310803Z",
        "case_reference": "SBX-2026-0003",
        "case_primary_sector": "health",
    }
]

# Request bodies, accepted as they stand (tests/test_examples.py).
NEW_RISK = {
    "title": "Drafts with factual errors reach the class",
    "description": "The assistant may state wrong facts with confidence.",
    "domain": "3",
    "subdomain": "3.1",
    "principle": "reliability_safety_control",
    "likelihood": 3,
    "impact": 3,
    "mitigation": "Teachers review every draft before use.",
    "residual_likelihood": 2,
    "residual_impact": 2,
    "status": "mitigating",
    "owner": "Pilot lead",
}
RISK_CHANGES = {"status": "mitigating", "mitigation": "Teachers review every draft before use."}
