"""OpenAPI links from each creating POST to the operations that take the id of what it created.

A POST that answers 201 with a body carrying `id` creates the resource that its collection's item path
serves: `POST /api/v1/cases` creates what `/api/v1/cases/{case_id}` serves. Its 201 response links to every
operation with a `{case_id}` path parameter whose other path parameters the POST's own path provides, so
clients (and Schemathesis's stateful phase) can follow the id from the answer to the next call; a conditional
write (`If-Match`) also gets the ETag of the 201. The links are derived from the paths, never listed by hand:
a new route that follows the conventions gets its links.
"""

import re
from typing import Any

from apispec import APISpec

from sandbox_api import private_apis

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
PATH_PARAMETER = re.compile(r"\{([^}]+)\}")
ID_SUFFIX = "_id"
SCHEMA_REF_PREFIX = "#/components/schemas/"
PARAMETER_REF_PREFIX = "#/components/parameters/"


def add_links(spec: APISpec) -> None:
    """Add `links` to the 201 response of every creating POST; call once, after every path is registered."""
    paths = private_apis.openapi_paths(spec)
    for path in paths:
        created = _created(spec, paths, path)
        if created is None:
            continue
        response, id_parameter = created
        provided = set(PATH_PARAMETER.findall(path))
        etag = "ETag" in response.get("headers", {})
        links: dict[str, dict[str, Any]] = {}
        for target_path, method, operation in _operations(paths):
            parameters = PATH_PARAMETER.findall(target_path)
            if id_parameter not in parameters or not set(parameters) - {id_parameter} <= provided:
                continue
            link_parameters = {
                parameter: "$response.body#/id" if parameter == id_parameter else f"$request.path.{parameter}"
                for parameter in parameters
            }
            description = f"`{method.upper()} {target_path}` with the `id` of the created resource as `{id_parameter}`"
            if etag and _takes_if_match(spec, paths[target_path], operation):
                # A conditional write right after the creation may name the representation it created.
                link_parameters["header.If-Match"] = "$response.header.ETag"
                description += ", and its `ETag` as `If-Match`"
            name = _unique(_link_name(method, target_path, operation), links)
            links[name] = {
                "operationRef": _operation_ref(target_path, method),
                "parameters": link_parameters,
                "description": f"{description}.",
            }
        if links:
            response["links"] = links


def _operations(paths: dict[str, dict[str, Any]]):
    for path, item in paths.items():
        for method in METHODS:
            if isinstance(item.get(method), dict):
                yield path, method, item[method]


def _created(spec: APISpec, paths: dict[str, dict[str, Any]], path: str) -> tuple[dict[str, Any], str] | None:
    """The 201 response of the path's POST and the id parameter of what it creates, if it creates one."""
    response = paths[path].get("post", {}).get("responses", {}).get("201")
    if not isinstance(response, dict) or "id" not in _properties(spec, response):
        return None
    for candidate in paths:
        suffix = candidate.removeprefix(f"{path}/")
        if candidate != suffix and (match := re.fullmatch(r"\{(\w+)\}", suffix)) and match[1].endswith(ID_SUFFIX):
            return response, match[1]
    return None


def _takes_if_match(spec: APISpec, item: dict[str, Any], operation: dict[str, Any]) -> bool:
    for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
        reference = parameter.get("$ref", "")
        if reference.startswith(PARAMETER_REF_PREFIX):
            parameter = spec.components.parameters.get(reference.removeprefix(PARAMETER_REF_PREFIX), {})
        if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
            return True
    return False


def _properties(spec: APISpec, response: dict[str, Any]) -> dict[str, Any]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    reference = schema.get("$ref", "")
    if reference.startswith(SCHEMA_REF_PREFIX):
        schema = spec.components.schemas.get(reference.removeprefix(SCHEMA_REF_PREFIX), {})
    return schema.get("properties", {})


def _operation_ref(path: str, method: str) -> str:
    """A JSON pointer to the operation as a URI fragment (RFC 6901: `~`, `/` escaped, then `{`, `}` encoded)."""
    escaped = path.replace("~", "~0").replace("/", "~1").replace("{", "%7B").replace("}", "%7D")
    return f"#/paths/{escaped}/{method}"


def _link_name(method: str, path: str, operation: dict[str, Any]) -> str:
    """The target's summary in CamelCase (`Read a case` → `ReadACase`), or its method and path."""
    words = re.findall(r"[A-Za-z0-9]+", (operation.get("summary") or "").replace("'", ""))
    if not words:
        words = [method, *re.findall(r"[A-Za-z0-9]+", path)]
    return "".join(word[:1].upper() + word[1:] for word in words)


def _unique(name: str, taken: dict[str, Any]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}{number}", number + 1
    return candidate
