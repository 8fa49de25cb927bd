"""Request bodies for the OpenAPI document, accepted as they stand (tests/test_examples.py)."""

NEW_AGENCY = {
    "slug": "kpm",
    "name": "Kementerian Pendidikan Malaysia",
    "acronym": "KPM",
    "kind": "ministry",
    "country": "MY",
    "website": "https://www.moe.gov.my",
}
AGENCY_CHANGES = {"website": "https://www.moe.gov.my/en"}
