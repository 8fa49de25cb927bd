"""Domain errors, each with the HTTP status the API answers it with."""

from typing import Any


class Problem(Exception):
    """A domain error that the API reports as problem details with the given status."""

    status = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class NotFound(Problem):
    status = 404


class Forbidden(Problem):
    status = 403


class Conflict(Problem):
    status = 409


class Unprocessable(Problem):
    status = 422


class UnsupportedMediaType(Problem):
    status = 415


class PreconditionFailed(Problem):
    status = 412


class PreconditionRequired(Problem):
    status = 428


class Unauthorized(Problem):
    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="sandbox-registry"'})
