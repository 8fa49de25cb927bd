"""The flask-smorest Api and Blueprint, extended to document policies and problem responses once."""

import copy
import functools
import http
import re
from collections.abc import Callable

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask import request
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from flask_smorest.spec.plugins import FlaskPlugin
from flask_smorest.utils import deepupdate, load_info_from_docstring, prepare_response
from webargs.flaskparser import FlaskParser, abort

from sandbox_api import caches, private_apis
from sandbox_api.errors import PreconditionFailed, PreconditionRequired
from sandbox_api.http import facets, idempotency, pagination, ratelimit
from sandbox_api.http.problem_details import PROBLEM_CONTENT_TYPE, NotModified, ProblemSchema, register_error_handlers
from sandbox_api.http.responses import etag_of
from sandbox_api.policy.audit import REQUEST_ID_HEADER
from sandbox_api.policy.auth import Policy
from sandbox_api.wire.fields import CONDITIONAL, Choice, Enumerated, Sort, schema_without

BEARER_SCHEME = "bearerAuth"
# Errors any operation may answer, whatever it does.
COMMON_ERRORS = (400, 422, 429, 500, 503)
BODY_ERRORS = (413, 415)

# Every response header the API sends, each one OpenAPI header component named as the header; operations and
# responses refer to them by name.
HEADERS = {
    **pagination.OPENAPI_HEADERS,
    **facets.OPENAPI_HEADERS,
    **ratelimit.OPENAPI_HEADERS,
    **idempotency.OPENAPI_HEADERS,
    "Location": {"description": "The URL of the created resource.", "schema": {"type": "string"}},
    REQUEST_ID_HEADER: {
        "description": "The request's id: the client's own `X-Request-ID` when it is 1-200 letters, digits and "
        "`._:-`, else one the server made. Stored with the event of any write the request made.",
        "schema": {"type": "string", "maxLength": 200},
    },
}
RATE_LIMIT_HEADERS = {name: name for name in ratelimit.HEADERS}
# Headers of every answer but the health probes' (which are not counted), and of some statuses beyond those.
COUNTED_HEADERS = {REQUEST_ID_HEADER: REQUEST_ID_HEADER, **RATE_LIMIT_HEADERS}
STATUS_HEADERS = {304: {"ETag": "ETAG"}, 429: {"Retry-After": "Retry-After"}, 503: {"Retry-After": "Retry-After"}}


def schema_name(schema) -> str:
    """Component name: the class name without `Schema`; for the partial one used by PATCH, the name of what it
    changes (without the `New` of a request body) and `Patch`."""
    schema_class = schema if isinstance(schema, type) else type(schema)
    name = schema_class.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        name = name.removeprefix("New") + "Patch"
    return name


# Enumeration components named other than their enum class, where the class name is a schema's already.
ENUMERATION_NAMES = {"Curation": "CurationState"}


class Converter(OpenAPIConverter):
    """Publishes every enumeration (a `choice` or a taxonomy `term`) once, as a named schema component that
    fields and parameters refer to, so that a generated client has one type per enumeration; and lists a
    schema's read-only fields in `required`, as every answer carries them (OpenAPI 3.1 ignores `required`
    read-only properties in requests)."""

    def init_attribute_functions(self):
        super().init_attribute_functions()
        # Before field2nullable, which turns a nullable `$ref` into `anyOf: [$ref, {type: null}]`.
        self.attribute_functions.insert(self.attribute_functions.index(self.field2nullable), self.enumeration2ref)

    def field2default(self, field: ma.fields.Field, **kwargs) -> dict:
        return {} if isinstance(field, Sort) else super().field2default(field, **kwargs)

    def enumeration2ref(self, field: ma.fields.Field, ret: dict, **kwargs) -> dict:
        if isinstance(field, Enumerated):
            name, values = field.enumeration, field.codes
        elif isinstance(field, Choice):
            name = ENUMERATION_NAMES.get(field.enum.__name__, field.enum.__name__)
            values = [member.value for member in field.enum]
        else:
            return {}
        component = {"type": "string", "enum": values}
        schemas = self.spec.components.schemas
        if name not in schemas:
            self.spec.components.schema(name, component)
        elif schemas[name] != component:
            raise ValueError(f"Two different schemas are named {name}: add the enumeration to ENUMERATION_NAMES.")
        ret.pop("type", None)
        ret.pop("enum", None)
        return self.spec.components.get_ref("schema", name)

    def fields2jsonschema(self, fields, *, partial=None):
        jsonschema = super().fields2jsonschema(fields, partial=partial)
        if not partial:
            read_only = [
                field.data_key or name
                for name, field in fields.items()
                if field.dump_only and not field.metadata.get(CONDITIONAL)
            ]
            if read_only:
                jsonschema["required"] = sorted({*jsonschema.get("required", []), *read_only})
        return jsonschema


class Plugin(MarshmallowPlugin):
    Converter = Converter


class PathPlugin(FlaskPlugin):
    """Describes the path parameters that name a resource by its id (`case_id`: the case's id)."""

    def rule_to_params(self, rule):
        parameters = super().rule_to_params(rule)
        for parameter in parameters:
            if parameter["name"].endswith("_id"):
                noun = parameter["name"].removesuffix("_id").replace("_", " ")
                parameter["description"] = f"The {noun}'s id."
        return parameters


class Api(private_apis.ResponsesHook, BaseApi):
    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app=None, *, spec_kwargs=None):
        spec_kwargs = {
            "flask_plugin": PathPlugin(),
            "marshmallow_plugin": Plugin(schema_name_resolver=schema_name),
            **(spec_kwargs or {}),
        }
        super().__init__(app, spec_kwargs=spec_kwargs)

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        # Errors are problem details: Flask keeps one handler per exception class, so these replace the
        # handler of HTTPException that flask-smorest has just registered.
        register_error_handlers(app)

    def register_default_responses(self):
        # Before the responses that refer to them; flask-smorest calls this once the spec exists.
        for name, header in HEADERS.items():
            self.spec.components.header(name, header)
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            if status >= 400 or status == http.HTTPStatus.NOT_MODIFIED:
                response["headers"] = {**COUNTED_HEADERS, **STATUS_HEADERS.get(status, {})}
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {
            "description": "Any other error, as problem details.",
            "schema": self.ERROR_SCHEMA,
            "headers": COUNTED_HEADERS,
        }
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class StrictParser(FlaskParser):
    """Refuses unknown query parameters as well as unknown body fields (AIP-160); parses a query string once
    per operation (its schema), in `caches.PARSED_QUERIES`.

    A list's query schema has some 25 fields, and loading it cost a filtered list about a tenth of its time.
    Its arguments are a pure function of the query string (no loader reads the database or the clock), so
    a query string asked again gets the arguments parsed the first time: a new dict, whose values (lists of
    codes, numbers, dates) the views only read. A query string that fails is parsed, and refused, every time.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE}

    def load_json(self, req, schema):
        try:
            return super().load_json(req, schema)
        except RecursionError:
            # Python's JSON decoder recurses once per level: some thousand nested arrays (2 KB) exhaust it.
            abort(400, messages={"json": ["The JSON body is nested too deeply."]})

    def parse(self, argmap, req=None, *, location=None, **kwargs):
        if location != "query" or not isinstance(argmap, ma.Schema):
            return super().parse(argmap, req, location=location, **kwargs)
        key = (argmap, (req or request).query_string)
        with caches.PARSED_QUERIES_LOCK:
            parsed = caches.PARSED_QUERIES.get(key)
        if parsed is None:
            parsed = super().parse(argmap, req, location=location, **kwargs)
            with caches.PARSED_QUERIES_LOCK:
                caches.PARSED_QUERIES[key] = parsed
        return dict(parsed)


# Operation ids are derived from the method and the path (operation_id), except where that reads poorly.
OPERATION_IDS = {
    ("get", "/api/v1/cases/{case_id}/similar"): "listSimilarCases",
    ("get", "/api/v1/insights/case-status"): "getCaseStatusInsight",
    ("get", "/api/v1/insights/risk-heatmap"): "getRiskHeatmapInsight",
    ("get", "/api/v1/insights/recurring-risks"): "getRecurringRisksInsight",
    ("get", "/api/v1/insights/lesson-transfers"): "getLessonTransfersInsight",
    ("get", "/api/v1/insights/outcome-attainment"): "getOutcomeAttainmentInsight",
    ("get", "/api/v1/insights/overdue-reviews"): "getOverdueReviewsInsight",
    ("get", "/api/v1/exports/cases"): "exportCases",
    ("get", "/api/v1/exports/risks"): "exportRisks",
    ("get", "/api/v1/exports/outcomes"): "exportOutcomes",
    ("get", "/api/v1/exports/lessons"): "exportLessons",
    ("get", "/health/live"): "getLiveness",
    ("get", "/health/ready"): "getReadiness",
}
VERBS = {"post": "create", "patch": "update", "put": "replace", "delete": "delete"}


def operation_id(method: str, path: str) -> str:
    """`<verb><Nouns>`: `get` an item (a path ending in a parameter) or `list` a collection; `create`,
    `update`, `delete` for POST, PATCH, DELETE; the nouns are the path's segments after `/api/v1`, each one
    followed by a parameter in the singular (`/cases/{case_id}/risks` is `listCaseRisks`)."""
    if (method, path) in OPERATION_IDS:
        return OPERATION_IDS[(method, path)]
    segments = path.removeprefix("/api/v1").strip("/").split("/")
    nouns = []
    for index, segment in enumerate(segments):
        if segment.startswith("{"):
            continue
        followed_by_parameter = index + 1 < len(segments) and segments[index + 1].startswith("{")
        if followed_by_parameter or method == "post":
            segment = segment.removesuffix("ies") + "y" if segment.endswith("ies") else segment.removesuffix("s")
        nouns.append("".join(part.capitalize() for part in segment.split("-")))
    verb = VERBS.get(method) or ("get" if segments[-1].startswith("{") else "list")
    return verb + "".join(nouns)


def request_body(schema: type[ma.Schema] | ma.Schema) -> type[ma.Schema] | ma.Schema:
    """A body schema without its read-only fields, so that it is a component of its own (`NewCase` beside
    `Case`, `CasePatch` for a partial one): a generated client builds a request from it without the fields the
    server assigns, which the response's component lists as required. Loading refuses them as unknown, as the
    full schema does."""
    if isinstance(schema, type):
        return _body_schema(schema)
    body = _body_schema(type(schema))
    if body is type(schema):
        return schema
    excluded = tuple(name for name in schema.exclude if name in body().declared_fields)
    return body(partial=schema.partial, exclude=excluded, only=None if schema.only is None else tuple(schema.only))


@functools.cache
def _body_schema(schema_class: type[ma.Schema]) -> type[ma.Schema]:
    """`schema_class` without its read-only fields, its nested objects bodies too (`NewPartner` in `NewCase`);
    one class per schema, so that each is one component."""
    fields = schema_class().declared_fields
    read_only = tuple(name for name, field in fields.items() if field.dump_only)
    nested_bodies = {}
    for name, field in fields.items():
        nested = field.inner if isinstance(field, ma.fields.List) else field
        if field.dump_only or not isinstance(nested, ma.fields.Nested) or not isinstance(nested.nested, type):
            continue
        body = _body_schema(nested.nested)
        if body is not nested.nested:
            copied = copy.deepcopy(field)
            copied_nested = copied.inner if isinstance(copied, ma.fields.List) else copied
            assert isinstance(copied_nested, ma.fields.Nested)
            copied_nested.nested = body
            nested_bodies[name] = copied
    if not read_only and not nested_bodies:
        return schema_class
    return schema_without(
        schema_class, f"New{schema_class.__name__}", read_only, __doc__=schema_class.__doc__, **nested_bodies
    )


def _error_refs(*statuses: int) -> dict[int | str, str]:
    return {status: http.HTTPStatus(status).name for status in statuses}


class Blueprint(private_apis.EtagHooks, BaseBlueprint):
    """A blueprint whose every operation declares who may call it and which errors it answers."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args, rate_limited: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        # Whether the rate limits count its requests (create_app exempts those that are not).
        self.rate_limited = rate_limited

    def arguments(self, schema, *args, location: str = "json", **kwargs) -> Callable:
        if location == "json":
            schema = request_body(schema)
        return super().arguments(schema, *args, location=location, **kwargs)

    def policy(self, policy: Policy) -> Callable:
        """Declare who may call the view; enforced by auth.authorize_request and shown in the spec."""

        def decorator(func):
            info = load_info_from_docstring(func.__doc__ or "")
            description = "\n\n".join(filter(None, (info.get("description"), f"**Who may call:** {policy}.")))
            doc: dict = {"description": description}
            if policy.roles is not None:
                doc["security"] = [{BEARER_SCHEME: []}]
                doc["responses"] = _error_refs(401, 403)
            else:
                doc["security"] = [{}, {BEARER_SCHEME: []}]
                doc["responses"] = _error_refs(401)
            wrapped = self.doc(**doc)(func)
            wrapped.policy = policy
            return wrapped

        return decorator

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **options):
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)
        for method, doc in private_apis.docs_of_last_rule(self).items():
            if method == "parameters":
                continue
            statuses = [status for status in COMMON_ERRORS if status != 429 or self.rate_limited]
            if "<" in (self.url_prefix or "") + rule:
                statuses.append(404)
            if method in ("post", "put", "patch"):
                statuses.extend(BODY_ERRORS)
            if method in ("post", "put", "patch", "delete"):
                statuses.append(409)
            successes = {
                status: {"headers": self._success_headers(method, status)}
                for status in doc.get("success_status_codes", [])
            }
            responses = {**_error_refs(*statuses), "default": "DEFAULT_ERROR", **successes}
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", (self.url_prefix or "") + rule)
            errors: dict[str, object] = {"operationId": operation_id(method, path), "responses": responses}
            if method == "post":
                errors["parameters"] = [idempotency.HEADER_PARAMETER]
            doc["manual_doc"] = deepupdate(errors, doc.get("manual_doc", {}))

    def _success_headers(self, method: str, status: int) -> dict[str, str]:
        """The headers of every successful answer to `method`, beyond those the view declares (and the ETag
        of a view with `Blueprint.etag`)."""
        headers = {REQUEST_ID_HEADER: REQUEST_ID_HEADER}
        if self.rate_limited:
            headers.update(RATE_LIMIT_HEADERS)
        if status == 201:
            headers["Location"] = "Location"
        if method in ("post", "put", "patch") and status in (200, 201):
            # A write answers the resource's representation, and its ETag (idempotency.commit_and_respond).
            headers["ETag"] = "ETAG"
        if method == "post":
            headers[idempotency.REPLAYED_HEADER] = idempotency.REPLAYED_HEADER
        return headers

    # ETags (RFC 9110 section 13) are digests of the exact bytes of a representation (rendering.etag_of).
    # flask-smorest checks If-Match before the view runs; the registry checks it after authentication,
    # visibility and existence, so an unknown id is 404, not 428.
    def precondition_before_view(self):
        pass

    def check_etag(self, representation: str):
        """Refuse the write unless If-Match names the current representation (428 missing, 412 stale)."""
        if not request.if_match:
            raise PreconditionRequired("This write needs an If-Match header with the ETag from a GET.")
        private_apis.note_etag_checked()
        if etag_of(representation) not in request.if_match:
            raise PreconditionFailed("The resource has changed since that ETag: GET it again and retry.")

    def etag_after_view(self, response):
        if request.method in self.METHODS_ALLOWING_SET_ETAG and response.status_code in (200, 201):
            # A write's answer is tagged already, where it is committed (`idempotency.commit_and_respond`).
            etag = response.get_etag()[0] or etag_of(response.get_data())
            if request.method in self.METHODS_CHECKING_NOT_MODIFIED and etag in request.if_none_match:
                raise NotModified(etag)
            response.set_etag(etag)
