"""Load benchmarks of the registry against a bare Flask endpoint (not tests): see bench/README.md."""

# The registry runs with its rate limiter, under a budget that one load-generating client cannot exhaust:
# the limiter's work per request is measured, its 429s are not.
UNEXHAUSTIBLE_RATE_LIMIT = "100000000 per minute"

# The routes measured by `make bench` and by `python -m bench.caches`.
LIST_PATH = "/api/v1/cases?sector=education&status=active&page_size=20"
LESSONS_PATH = "/api/v1/lessons?applies_to=health"
INSIGHT_PATHS = (
    "/api/v1/insights/case-status",
    "/api/v1/insights/risk-heatmap",
    "/api/v1/insights/recurring-risks?capability=generative_ai",
    "/api/v1/insights/lesson-transfers",
    "/api/v1/insights/outcome-attainment",
    "/api/v1/insights/overdue-reviews",
)
