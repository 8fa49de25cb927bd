"""HTTP plumbing: the Api and Blueprint, problem details, pagination, ETags, idempotency, rate limits, headers."""
