"""Request bodies for the OpenAPI document, accepted as they stand (tests/test_examples.py)."""

# Evidence names outcomes and risks of the lesson's own case by id: no id can exist in every registry, so
# the example cites a public document only.
NEW_LESSON = {
    "title": "Keep a teacher in the loop",
    "statement": "Drafts that a teacher reviewed before class had no factual errors reported.",
    "recommendation": "Require review of every generated draft before it is used.",
    "kind": "good_practice",
    "applies_to_sectors": ["education", "health"],
    "conditions": "Where a professional signs off the final text.",
    "principles": ["accountability"],
    "risk_domains": ["3"],
    "evidence": {"urls": ["https://www.example.gov.my/pilot/report"]},
    "transferability": "high",
}
LESSON_CHANGES = {"transferability": "medium", "conditions": "Where reviewers have time set aside."}
# By NAIO.
CURATION = {"curation": "endorsed", "note": "Seen in two pilots."}
# `adopting_case_id` names a case of the caller's agency other than the lesson's: replace it with one of yours.
NEW_ADOPTION = {
    "adopting_case_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "note": "Applied to marking rubrics.",
    "result": "applied",
}
ADOPTION_CHANGES = {"result": "worked", "note": "Marking time halved."}
