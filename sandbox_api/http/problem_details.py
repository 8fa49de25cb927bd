"""RFC 9457 problem details for every error: the handlers and the schema."""

import http
import logging
import socket
from typing import Any

import marshmallow as ma
import psycopg
from flask import Flask, Response, json
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from sandbox_api.errors import Problem
from sandbox_api.http.security_headers import API_HEADERS
from sandbox_api.storage.db import DATABASE_RETRY_AFTER_SECONDS

PROBLEM_CONTENT_TYPE = "application/problem+json"


# Headers that an error must keep: 405 names the allowed methods, 401 the scheme, 429/503 the wait.
KEPT_ERROR_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


log = logging.getLogger(__name__)


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem details object."""

    type = ma.fields.String(
        metadata={"description": "A URI identifying the problem type; `about:blank` for plain HTTP statuses."}
    )
    title = ma.fields.String(metadata={"description": "Short summary of the problem type."})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code."})
    detail = ma.fields.String(metadata={"description": "What went wrong with this request, for a person to read."})
    errors = ma.fields.Dict(
        metadata={"description": "Validation errors keyed by location (`json`, `query`, `headers`) and then by field."}
    )
    allowed_actions = ma.fields.List(
        ma.fields.String(metadata={"maxLength": 20}),
        metadata={
            "description": "On a 409 to a lifecycle action: the actions the caller may take from the current status.",
            "maxItems": 20,
        },
    )


def problem_response(status: int, detail: str | None = None, *, headers=None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": http.HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(headers or {})
    return response


def write_refusal(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """What the server answers, as problem details with the security headers, to a request that it refuses
    before the application sees it (gunicorn: a request line over 4,094 bytes is 414, headers over their
    limits 431, a malformed request 400). The connection closes after it."""
    body = json.dumps({"type": "about:blank", "title": reason, "status": status, "detail": message[:500]})
    headers = {
        "Content-Type": PROBLEM_CONTENT_TYPE,
        "Content-Length": str(len(body.encode())),
        "Connection": "close",
        **API_HEADERS,
    }
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sock.sendall(f"{head}\r\n{body}".encode())


class NotModified(HTTPException):
    """304: the client's copy, named by If-None-Match, is current."""

    code = 304

    def __init__(self, etag: str) -> None:
        super().__init__()
        self.etag = etag


def handle_http_exception(error: HTTPException) -> Response:
    if isinstance(error, NotModified):
        response = Response(status=304)
        response.set_etag(error.etag)
        return response
    headers = {k: v for k, v in error.get_headers() if k in KEPT_ERROR_HEADERS}
    extra: dict[str, Any] = {}
    detail = error.description if error.code != 500 else "The server met an unexpected condition."
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs validation errors: {location: {field: [messages]}}
        extra["errors"] = data["messages"]
        detail = "The request did not validate: see `errors`, keyed by location and field."
    headers.update(data.get("headers") or {})
    return problem_response(error.code or 500, detail, headers=headers, **extra)


def handle_problem(error: Problem) -> Response:
    return problem_response(error.status, error.detail, headers=error.headers, **error.extra)


def handle_integrity_error(error: IntegrityError) -> Response:
    # The service checks what it can first; this is the last line against races (two creates
    # of one slug). The driver's message never reaches the client.
    log.warning("integrity error: %s", error.orig)
    return problem_response(409, "The request conflicts with the current state of the registry.")


def handle_data_error(error: DataError) -> Response:
    # Validation refuses what the databases cannot store; this is the last line if a value slips by.
    log.warning("data error: %s", error.orig)
    return problem_response(422, "A value cannot be stored as sent.")


def handle_database_unavailable(error: OperationalError | psycopg.OperationalError | PoolTimeout) -> Response:
    # Unreachable, or not answering in time; psycopg's own error where SQLAlchemy lets it through unwrapped
    # (setting a connection's isolation level); PoolTimeout: every pooled connection stayed busy.
    log.error("database unavailable: %s", getattr(error, "orig", error))
    return problem_response(
        503,
        "The database is unavailable; try again shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Problem, handle_problem)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(psycopg.OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeout, handle_database_unavailable)
