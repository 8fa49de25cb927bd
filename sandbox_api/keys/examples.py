"""Request bodies for the OpenAPI document, accepted as they stand (tests/test_examples.py)."""

# An `agency` key also names its `agency_id`, which no example can know.
NEW_KEY = {"name": "NAIO review desk", "role": "naio"}
ROTATION = {"overlap_hours": 24}
REVOCATION = {"note": "The integration was retired."}
