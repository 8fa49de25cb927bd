"""The OpenAPI document and the docs: committed, valid, complete about who may call and what can fail."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent
COMMITTED_SPEC = ROOT / "openapi" / "openapi.json"
PROBLEM = "application/problem+json"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
BOUNDED_STRING_FORMATS = {"uuid", "date", "date-time"}


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), node["$ref"]
        target = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def types_of(schema: dict) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def walk_schema(spec: dict, schema: dict, where: str, seen: set[str]):
    """Yield (where, schema) for a schema and every schema inside it, following each $ref once."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen.add(schema["$ref"])
        yield from walk_schema(spec, resolve(spec, schema), schema["$ref"].rsplit("/", 1)[-1], seen)
        return
    yield where, schema
    for name, prop in schema.get("properties", {}).items():
        yield from walk_schema(spec, prop, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        yield from walk_schema(spec, schema["items"], f"{where}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk_schema(spec, schema["additionalProperties"], f"{where}{{}}", seen)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for index, sub in enumerate(schema.get(keyword, [])):
            yield from walk_schema(spec, sub, f"{where}<{keyword}{index}>", seen)


def request_schemas(spec: dict):
    """Every schema a client sends: request bodies and query parameters, with what they reference."""
    seen: set[str] = set()
    for path, method, operation in operations(spec):
        body = operation.get("requestBody")
        if body:
            for media in resolve(spec, body)["content"].values():
                yield from walk_schema(spec, media["schema"], f"{method.upper()} {path} body", seen)
        for parameter in operation.get("parameters", []) + spec["paths"][path].get("parameters", []):
            parameter = resolve(spec, parameter)
            if parameter["in"] == "query":
                yield from walk_schema(
                    spec, parameter["schema"], f"{method.upper()} {path} ?{parameter['name']}", set(seen)
                )


def test_openapi_json_is_served(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json["info"]["title"] == "Sandbox Case Registry"


def test_committed_spec_is_what_the_app_generates(spec):
    assert COMMITTED_SPEC.is_file(), "openapi/openapi.json is missing: run `make openapi` and commit it."
    committed = json.loads(COMMITTED_SPEC.read_text(encoding="utf-8"))

    assert committed == spec, "openapi/openapi.json is out of date: run `make openapi` and commit the result."


def test_spec_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1.")
    validate(spec)  # raises with the offending path if the document is not valid OpenAPI 3.1


def test_spec_declares_the_bearer_security_scheme(spec):
    schemes = spec["components"]["securitySchemes"]

    bearer = [scheme for scheme in schemes.values() if scheme["type"] == "http" and scheme["scheme"] == "bearer"]
    assert len(bearer) == 1
    assert bearer[0].get("description")


def test_every_operation_says_what_it_does_and_who_may_call_it(spec):
    schemes = set(spec["components"]["securitySchemes"])
    problems = []
    for path, method, operation in operations(spec):
        label = f"{method.upper()} {path}"
        if not operation.get("summary"):
            problems.append(f"{label}: no summary")
        if "Who may call" not in operation.get("description", ""):
            problems.append(f"{label}: the description does not say who may call it")
        security = operation.get("security")
        if not security:
            problems.append(f"{label}: no `security`")
        elif any(set(requirement) - schemes for requirement in security):
            problems.append(f"{label}: `security` names an undeclared scheme")

    assert not problems, "\n".join(problems)


def needs_key(operation: dict) -> bool:
    """An operation needs a key unless one of its security alternatives is empty (anonymous)."""
    return all(requirement for requirement in operation["security"])


def test_every_operation_documents_its_errors_as_problem_details(spec):
    problems = []
    for path, method, operation in operations(spec):
        label = f"{method.upper()} {path}"
        responses = operation["responses"]
        expected = {"400", "422", "500", "default"}
        if needs_key(operation):
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if method in ("patch", "delete"):
            expected |= {"412", "428"}
        if missing := expected - set(responses):
            problems.append(f"{label}: undocumented {sorted(missing)}")
        for status, response in responses.items():
            if status == "default" or status.startswith(("4", "5")):
                content = resolve(spec, response).get("content", {})
                if set(content) != {PROBLEM}:
                    problems.append(f"{label} {status}: documented as {sorted(content)}, not {PROBLEM}")

    assert not problems, "\n".join(problems)


def test_every_schema_property_is_described(spec):
    missing = [
        f"{name}.{prop_name}"
        for name, schema in spec["components"]["schemas"].items()
        for prop_name, prop in schema.get("properties", {}).items()
        if not resolve(spec, prop).get("description") and not prop.get("description")
    ]

    assert not missing, f"properties without a description: {missing}"


def test_every_string_that_clients_send_is_bounded(spec):
    unbounded = [
        where
        for where, schema in request_schemas(spec)
        if "string" in types_of(schema)
        and not schema.get("readOnly")
        and "maxLength" not in schema
        and "enum" not in schema
        and schema.get("format") not in BOUNDED_STRING_FORMATS
    ]

    assert not unbounded, f"strings without maxLength, enum or a bounded format: {unbounded}"


def test_every_array_is_bounded(spec):
    seen: set[str] = set()
    schemas = [
        found
        for name in spec["components"]["schemas"]
        for found in walk_schema(spec, {"$ref": f"#/components/schemas/{name}"}, name, seen)
    ]
    schemas += list(request_schemas(spec))

    unbounded = sorted({where for where, schema in schemas if "array" in types_of(schema) and "maxItems" not in schema})
    assert not unbounded, f"arrays without maxItems: {unbounded}"


class AssetCollector(HTMLParser):
    """The URLs of the scripts, stylesheets, icons and images a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "img", "iframe") and attributes.get("src"):
            self.urls.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"])
        self._in_script = tag == "script" and not attributes.get("src")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts.append(data)


def response_examples(spec: dict):
    for path, method, operation in operations(spec):
        for status, response in operation.get("responses", {}).items():
            for media_type, content in resolve(spec, response).get("content", {}).items():
                if "example" in content:
                    yield f"{method.upper()} {path} {status} {media_type}", content["schema"], content["example"]


def test_every_response_example_is_what_the_schema_describes(spec):
    examples = list(response_examples(spec))

    assert examples, "the spec shows no example answers"
    for where, schema, example in examples:
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = [
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(example)
        ]
        assert not errors, f"{where}: {errors}"


def fetch_docs(client):
    response = client.get("/docs", follow_redirects=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = AssetCollector()
    page.feed(response.get_data(as_text=True))
    return response, page


def test_docs_load_their_assets_from_the_app_itself(client):
    response, page = fetch_docs(client)
    base = response.request.url  # the URL the page was finally served from

    assert page.urls, "the docs page loads no assets at all"
    for url in page.urls:
        absolute = urljoin(base, url)
        assert urlsplit(absolute).netloc == urlsplit(base).netloc, f"{url} is loaded from another host"
        asset = client.get(urlsplit(absolute).path)
        assert asset.status_code == 200, f"{url} answers {asset.status_code}"
        assert asset.get_data(), f"{url} is empty"
    assert not re.search(r"cdn|unpkg|jsdelivr|cdnjs", response.get_data(as_text=True), re.IGNORECASE)


def test_docs_send_nothing_to_other_hosts(client):
    # Swagger UI's default `validatorUrl` makes the page load a badge image from validator.swagger.io,
    # passing it the spec's URL, on every host but localhost: closed networks cannot reach it and the
    # registry's address would leak. The page must switch it off (null or "none").
    _, page = fetch_docs(client)
    inline = "\n".join(page.inline_scripts)

    assert re.search(r'"validatorUrl":\s*(null|"none")', inline), "Swagger UI's online validator is not disabled"
    assert "/openapi.json" in inline
