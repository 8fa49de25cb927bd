"""JSON responses and their strong ETags."""

import hashlib

from flask import Response


def json_response(body: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status=status, headers=headers, mimetype="application/json")


def etag_of(body: str | bytes) -> str:
    """A strong ETag: a digest of the exact bytes of the representation."""
    data = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()[:40]
