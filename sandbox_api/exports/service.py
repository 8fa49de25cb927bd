"""What an export holds: each list's rows, whole, read from one snapshot and written as CSV or NDJSON."""

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import marshmallow as ma
from sqlalchemy import Result, Select
from sqlalchemy.orm import Session

from sandbox_api.cases import service as cases_service
from sandbox_api.lessons import service as lessons_service
from sandbox_api.lessons.schemas import LessonInCaseSchema
from sandbox_api.outcomes import service as outcomes_service
from sandbox_api.outcomes.schemas import OutcomeInCaseSchema
from sandbox_api.policy.auth import Caller
from sandbox_api.risks import service as risks_service
from sandbox_api.risks.schemas import RiskInCaseSchema
from sandbox_api.storage.rendering import annotate, annotation_names, rendered
from sandbox_api.wire.fields import PLAIN_TEXT, Email, Url

# Rows fetched from the database at a time, and written out at a time: the memory an export holds.
BATCH_ROWS = 500
LIST_SEPARATOR = ";"
# Spreadsheets run a cell that starts with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Resource:
    """An exportable list: its statement, built by the list's own service function, and its wire format."""

    name: str
    statement: Callable[..., Select]  # the list's `list_statement(*, session, query, caller)`
    schema_for: Callable[[Caller], type[ma.Schema]]


RESOURCES = {
    resource.name: resource
    for resource in (
        Resource(
            "cases",
            cases_service.list_statement,
            cases_service.schema_for,
        ),
        Resource(
            "risks",
            risks_service.list_statement,
            lambda caller: RiskInCaseSchema,
        ),
        Resource(
            "outcomes",
            outcomes_service.list_statement,
            lambda caller: OutcomeInCaseSchema,
        ),
        Resource(
            "lessons",
            lessons_service.list_statement,
            lambda caller: LessonInCaseSchema,
        ),
    )
}


@dataclass(frozen=True)
class Column:
    """A CSV column: where its value is in the resource's JSON, and how a value becomes a cell."""

    name: str
    path: tuple[str, ...]
    kind: str  # `value`, `list` (joined with LIST_SEPARATOR) or `json` (JSON text)
    description: str


def _is_code(field: ma.fields.Field) -> bool:
    """Whether values of the field are ids or codes, which never hold the list separator."""
    if isinstance(field, ma.fields.UUID | ma.fields.Enum):
        return True
    if not isinstance(field, ma.fields.String) or isinstance(field, Email | Url):
        return False
    # A term of a taxonomy, or a value of a fixed pattern (an ISO 3166 location); every text refuses NUL.
    return any(
        isinstance(validator, ma.validate.OneOf)
        or (isinstance(validator, ma.validate.Regexp) and validator is not PLAIN_TEXT)
        for validator in field.validators
    )


def _columns(schema: ma.Schema, prefix: tuple[str, ...]) -> list[Column]:
    columns = []
    for name, field in schema.dump_fields.items():
        path = (*prefix, name)
        description = field.metadata.get("description", "")
        if isinstance(field, ma.fields.Nested) and not field.many:
            # One object: a column per member, `exit_decision`, `contact_email`...
            columns.extend(_columns(field.schema, path))
        elif isinstance(field, ma.fields.List) and _is_code(field.inner):
            columns.append(Column("_".join(path), path, "list", description))
        elif isinstance(field, ma.fields.List | ma.fields.Nested | ma.fields.Dict):
            columns.append(Column("_".join(path), path, "json", description))
        else:
            columns.append(Column("_".join(path), path, "value", description))
    return columns


@cache
def csv_columns(schema_class: type[ma.Schema]) -> tuple[Column, ...]:
    """The CSV columns of a resource, in the order of its schema's fields."""
    return tuple(_columns(schema_class(), ()))


def _escaped(text: str) -> str:
    return text.replace("|", "\\|")


def columns_table(schema_class: type[ma.Schema]) -> str:
    """The CSV columns as a Markdown table, for the OpenAPI description."""
    written_as = {
        "value": "as is",
        "list": f"codes joined with `{LIST_SEPARATOR}`",
        "json": "JSON text",
    }
    rows = [
        f"| `{column.name}` | {written_as[column.kind]} | {_escaped(column.description)} |"
        for column in csv_columns(schema_class)
    ]
    return "\n".join(["| column | written | meaning |", "| --- | --- | --- |", *rows])


def rows(*, session: Session, resource: Resource, query: dict, caller: Caller) -> tuple[Result, type[ma.Schema], list]:
    """The rows of the resource's list, whole and in its order, rendered by the database, with the schema
    they follow and the names of the list's annotations.

    Run before the answer starts, so that a failure is still an error response. The rows come BATCH_ROWS at
    a time: from a server-side cursor on PostgreSQL (inside the snapshot's transaction), from SQLite's own
    cursor, which steps through the rows as they are fetched.
    """
    statement = resource.statement(session=session, query=query, caller=caller)
    schema_class = resource.schema_for(caller)
    result = session.connection().execute(
        rendered(schema_class, statement), execution_options={"yield_per": BATCH_ROWS}
    )
    return result, schema_class, annotation_names(statement)


def ndjson_lines(result: Result, names: list[str]) -> Iterator[str]:
    """Each row's resource as its list gives it, one JSON object per line."""
    for batch in result.partitions():
        yield "".join(f"{annotate(row[0], names, row[1:])}\n" for row in batch)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        # The same text from both databases: SQLite writes a whole REAL as `12.0`, PostgreSQL as `12`.
        return str(int(value))
    return str(value)


def _cell(column: Column, resource: dict) -> str:
    value: Any = resource
    for name in column.path:
        value = value.get(name)
        if value is None:
            return ""
    if column.kind == "list":
        return LIST_SEPARATOR.join(value)
    return _text(value)


class _CSVWriter:
    """RFC 4180 rows with CRLF line ends, collected until taken."""

    def __init__(self, columns: tuple[Column, ...]) -> None:
        self.columns = columns
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def header(self, names: list[str]) -> None:
        self.writer.writerow([*(column.name for column in self.columns), *names])

    def row(self, resource: dict, annotations=()) -> None:
        self.writer.writerow([*(_cell(column, resource) for column in self.columns), *map(_text, annotations)])

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def csv_lines(result: Result, schema_class: type[ma.Schema], names: list[str]) -> Iterator[str]:
    """A header row, then a row per resource. Annotations of the list (e.g. why a search matched) follow
    as columns of their names."""
    writer = _CSVWriter(csv_columns(schema_class))
    writer.header(names)
    yield writer.take()
    for batch in result.partitions():
        for row in batch:
            writer.row(json.loads(row[0]), (None if value is None else json.loads(value) for value in row[1:]))
        yield writer.take()


def csv_example(schema_class: type[ma.Schema], resource: dict) -> str:
    """The header and the row of one resource, as an export writes them."""
    writer = _CSVWriter(csv_columns(schema_class))
    writer.header([])
    writer.row(resource)
    return writer.take()
