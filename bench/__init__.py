"""Load benchmarks of the registry against a bare Flask endpoint (not tests): see bench/README.md."""

# The registry runs with its rate limiter, under a budget that one load-generating client cannot exhaust:
# the limiter's work per request is measured, its 429s are not.
UNEXHAUSTIBLE_RATE_LIMIT = "100000000 per minute"
