"""HTTP routes for exports: each list's whole filtered set, streamed as CSV or NDJSON."""

import inspect
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView

from sandbox_api.cases.schemas import CaseSchema
from sandbox_api.exports import service
from sandbox_api.exports.schemas import (
    EXAMPLE_RESOURCES,
    CaseExportQuerySchema,
    ExportFormat,
    LessonExportQuerySchema,
    OutcomeExportQuerySchema,
    RiskExportQuerySchema,
)
from sandbox_api.http.api import Blueprint
from sandbox_api.lessons.schemas import LessonInCaseSchema
from sandbox_api.outcomes.schemas import OutcomeInCaseSchema
from sandbox_api.policy.auth import PUBLIC, current_caller
from sandbox_api.risks.schemas import RiskInCaseSchema
from sandbox_api.storage.db import db, waits_within

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/api/v1/exports",
    description="Whole filtered lists of cases, risks, outcomes and lessons as CSV or NDJSON files.",
)

CSV_MEDIA_TYPE = "text/csv"
NDJSON_MEDIA_TYPE = "application/x-ndjson"
CONTENT_TYPES = {
    ExportFormat.CSV: f"{CSV_MEDIA_TYPE}; charset=utf-8; header=present",
    ExportFormat.NDJSON: NDJSON_MEDIA_TYPE,
}
EXPORT_HEADERS = {
    "Content-Disposition": {
        "description": "`attachment` with a file name of the resource and the UTC time of the export, e.g. "
        '`attachment; filename="cases-20250312T080000Z.csv"`.',
        "schema": {"type": "string"},
    },
}

# Said once for every export, after the operation's own description.
COMMON_DESCRIPTION = f"""\
Every row the list would give over all its pages, in the list's order, in one streamed answer (no
`Content-Length`): the list's filters and `sort`, but no `page` or `page_size`. The rows come from one
consistent snapshot of the registry, however long the download takes (PostgreSQL: a read-only REPEATABLE
READ transaction; SQLite: one read transaction), and only the rows being sent are held in memory. Invalid
parameters are refused with 422 before anything is sent; a failure while sending breaks the transfer off
(the chunked body never ends), so an HTTP/1.1 client sees an error, not a short file that looks whole.

**NDJSON** (`format=ndjson`, `{NDJSON_MEDIA_TYPE}`): one JSON object per line, each the resource exactly
as the list gives it.

**CSV** (`format=csv`, `{CSV_MEDIA_TYPE}`): RFC 4180, UTF-8 without a byte order mark, a header row, CRLF
line ends, fields quoted when they hold a comma, quote or line break. An empty cell is null or an empty
list; booleans are `true` and `false`; numbers are in their shortest form (`12`, `2.5`). Each member of a
nested object is a column of its own (`exit_decision`, empty until the pilot exits); lists of codes or ids
are joined with `{service.LIST_SEPARATOR}`; lists of objects or of URLs are JSON text. A text cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so that a spreadsheet shows
it instead of running it as a formula (OWASP, CSV injection); numbers are never changed. Members that a
list adds to its items (e.g. why a search matched) follow the columns below, under their own names. The
columns, in order:
"""


def export_documented(schema_class: type[ma.Schema], resource: str):
    """Document the export's answer: both media types with an example each, its headers, and its columns."""
    example = EXAMPLE_RESOURCES[resource]
    csv_example = service.csv_example(schema_class, example)
    ndjson_example = json.dumps(example, separators=(",", ":")) + "\n"

    def decorator(func):
        func.__doc__ = (
            f"{inspect.cleandoc(func.__doc__)}\n\n{COMMON_DESCRIPTION}\n{service.columns_table(schema_class)}\n"
        )
        func = blp.doc(
            responses={
                200: {
                    "content": {
                        NDJSON_MEDIA_TYPE: {
                            "schema": {"type": "string", "description": "One JSON object per line."},
                            "example": ndjson_example,
                        }
                    }
                }
            }
        )(func)
        return blp.response(
            200,
            {"type": "string", "description": "RFC 4180 CSV with a header row."},
            content_type=CSV_MEDIA_TYPE,
            description="The whole filtered set, streamed.",
            example=csv_example,
            headers=EXPORT_HEADERS,
        )(func)

    return decorator


def _format(query: dict) -> ExportFormat:
    if "format" in query:
        return query["format"]
    best = request.accept_mimetypes.best_match([CSV_MEDIA_TYPE, NDJSON_MEDIA_TYPE], default=CSV_MEDIA_TYPE)
    return ExportFormat.NDJSON if best == NDJSON_MEDIA_TYPE else ExportFormat.CSV


def _closing(body: Iterator[str], close: Callable[[], None], wait_limit: float) -> Iterator[str]:
    # The body is sent after the request ended, and with it the request's limit on database waits:
    # each piece gets the same limit of its own, so that an export may last but never hang.
    try:
        while True:
            with waits_within(wait_limit):
                piece = next(body, None)
            if piece is None:
                return
            yield piece
    finally:
        close()


def export(resource_name: str, query: dict) -> Response:
    """The streamed answer of an export: its rows are selected now, sent as the client reads them.

    The export has a session of its own, on one snapshot, held until the body is sent or the client goes
    away (the server closes the answer either way), and the request's session is not used: Flask tears it
    down before the body is sent.
    """
    export_format = _format(query)
    filters = {name: value for name, value in query.items() if name != "format"}
    session = db.snapshot_session()
    try:
        result, schema_class, names = service.rows(
            session=session, resource=service.RESOURCES[resource_name], query=filters, caller=current_caller()
        )
    except BaseException:
        session.close()
        raise

    def close() -> None:
        result.close()
        session.close()

    if export_format == ExportFormat.CSV:
        body = service.csv_lines(result, schema_class, names)
    else:
        body = service.ndjson_lines(result, names)
    filename = f"{resource_name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.{export_format}"
    response = Response(
        _closing(body, close, current_app.config["DATABASE_TIMEOUT"]),
        content_type=CONTENT_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    # A body never iterated (HEAD, or an answer dropped before sending) still gives its connection back.
    response.call_on_close(close)
    return response


@blp.route("/cases")
class CaseExportViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(CaseExportQuerySchema(), location="query")
    @export_documented(CaseSchema, "cases")
    def get(self, query):
        """Export cases

        The cases of `GET /api/v1/cases`, with its filters: only the cases the caller may see (see
        *Visibility* in the API description). The `contact_*` columns, and `contact` in NDJSON, are for
        keyed callers only: callers without a key get neither.
        """
        return export("cases", query)


@blp.route("/risks")
class RiskExportViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(RiskExportQuerySchema(), location="query")
    @export_documented(RiskInCaseSchema, "risks")
    def get(self, query):
        """Export risks across all cases

        The risks of `GET /api/v1/risks`, with its filters, each with its case's `reference` and
        `primary_sector`: only risks of cases the caller may see.
        """
        return export("risks", query)


@blp.route("/outcomes")
class OutcomeExportViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(OutcomeExportQuerySchema(), location="query")
    @export_documented(OutcomeInCaseSchema, "outcomes")
    def get(self, query):
        """Export outcomes across all cases

        The outcomes of `GET /api/v1/outcomes`, with its filters, each with its case's `reference` and
        `primary_sector`: only outcomes of cases the caller may see.
        """
        return export("outcomes", query)


@blp.route("/lessons")
class LessonExportViews(MethodView):
    @blp.policy(PUBLIC)
    @blp.arguments(LessonExportQuerySchema(), location="query")
    @export_documented(LessonInCaseSchema, "lessons")
    def get(self, query):
        """Export lessons across all cases

        The lessons of `GET /api/v1/lessons`, with its filters, each as the list gives it plus its case's
        `case_reference`: only lessons of cases the caller may see.
        """
        return export("lessons", query)
