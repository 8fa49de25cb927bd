"""The libraries' private APIs that the registry uses (sandbox_api/private_apis.py) still have the shape it relies
on, and no other module uses one.

Each test drives the library itself, without the registry, and fails naming the private attribute whose shape
changed: then read that library's change log, adapt `private_apis` (or drop the use, if a public API now does
the job) and update `private_apis.CHECKED_AGAINST`.
"""

import ast
import importlib
import inspect
import pkgutil
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import flask_smorest
import pytest
from apispec import APISpec
from flask import Flask, Response
from flask.views import MethodView
from flask_smorest import etag as smorest_etag
from sqlalchemy import BindParameter, ColumnElement, Integer, MetaData, Select, String, Table, make_url, select
from sqlalchemy import Column as TableColumn
from sqlalchemy.sql import cache_key

import sandbox_api
from sandbox_api import private_apis
from tests.conftest import POSTGRES_URL

PACKAGE = Path(sandbox_api.__file__).parent
ADAPTER = PACKAGE / "private_apis.py"
# Underscore names that their libraries document as public.
DOCUMENTED_PUBLIC = {
    "_asdict",  # SQLAlchemy's Row._asdict(), like a named tuple's
    "_mapping",  # SQLAlchemy's Row._mapping
    "_serialize",  # marshmallow's Field._serialize: how a custom field is written
    "_deserialize",  # marshmallow's Field._deserialize
}


def changed(attribute: str, library: str, what: str) -> str:
    return (
        f"{attribute} ({library} {version(library)}; private_apis checked it against "
        f"{private_apis.CHECKED_AGAINST[library]}): {what}. Adapt sandbox_api/private_apis.py."
    )


# SQLAlchemy

ITEMS = Table("items", MetaData(), TableColumn("id", Integer, primary_key=True), TableColumn("name", String))


def test_order_by_clauses_reads_a_selects_order_by():
    attribute = "sqlalchemy.Select._order_by_clauses"
    assert hasattr(Select, "_order_by_clauses"), changed(attribute, "SQLAlchemy", "no such attribute")
    statement = select(ITEMS).order_by(ITEMS.c.name.desc(), ITEMS.c.id)
    clauses = private_apis.order_by_clauses(statement)
    assert all(isinstance(clause, ColumnElement) for clause in clauses), changed(
        attribute, "SQLAlchemy", f"holds {[type(clause) for clause in clauses]}, not column expressions"
    )
    assert [str(clause) for clause in clauses] == ["items.name DESC", "items.id"], changed(
        attribute, "SQLAlchemy", "no longer the ORDER BY expressions in order"
    )
    assert private_apis.order_by_clauses(statement.order_by(None)) == (), changed(
        attribute, "SQLAlchemy", "not empty once the order is cleared"
    )


def test_shape_and_parameters_is_the_statements_structure_and_its_values_in_order():
    attribute = "sqlalchemy ClauseElement._generate_cache_key()"
    method = getattr(Select, "_generate_cache_key", None)
    assert callable(method), changed(attribute, "SQLAlchemy", "no such method")
    required = [
        parameter
        for parameter in list(inspect.signature(method).parameters.values())[1:]
        if parameter.default is inspect.Parameter.empty
        and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    assert not required, changed(attribute, "SQLAlchemy", f"now needs {[p.name for p in required]}")
    key = select(ITEMS).where(ITEMS.c.id == 1)._generate_cache_key()
    assert isinstance(key, cache_key.CacheKey) and isinstance(key.key, tuple), changed(
        attribute, "SQLAlchemy", f"returns {type(key)}, not a CacheKey of a tuple and its bound parameters"
    )

    def filtered(name: str, identifier: int) -> Select:
        return select(ITEMS).where(ITEMS.c.name == name, ITEMS.c.id > identifier).order_by(ITEMS.c.id)

    shape, parameters = private_apis.shape_and_parameters(filtered("a", 1))
    same_shape, other_parameters = private_apis.shape_and_parameters(filtered("b", 2))
    other_shape, _ = private_apis.shape_and_parameters(select(ITEMS).where(ITEMS.c.name == "a"))
    hash(shape)
    assert shape == same_shape and shape != other_shape, changed(
        attribute, "SQLAlchemy", "its key no longer tells statements apart by structure alone"
    )
    assert all(isinstance(parameter, BindParameter) for parameter in parameters), changed(
        attribute, "SQLAlchemy", "its bindparams are not BindParameter objects"
    )
    values = ([p.effective_value for p in parameters], [p.effective_value for p in other_parameters])
    assert values == (["a", 1], ["b", 2]), changed(
        attribute, "SQLAlchemy", f"its bindparams are not the values in the structure's order: {values}"
    )


# flask-smorest


def smorest_app(api_class: type = flask_smorest.Api) -> tuple[Flask, flask_smorest.Api]:
    app = Flask(__name__)
    app.config.update(API_TITLE="Private APIs", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    return app, api_class(app)


def test_note_etag_checked_is_what_silences_flask_smorests_warning():
    attribute = 'flask_smorest.etag._get_etag_ctx()["etag_checked"]'
    assert callable(getattr(smorest_etag, "_get_etag_ctx", None)), changed(
        attribute, "flask-smorest", "no such function"
    )
    app, api = smorest_app()
    blueprint = flask_smorest.Blueprint("items", __name__, url_prefix="/items")

    @blueprint.route("/<int:item_id>", methods=["PUT"])
    @blueprint.etag
    def put(item_id: int):
        if item_id == 1:
            private_apis.note_etag_checked()
        return Response("{}", mimetype="application/json")

    api.register_blueprint(blueprint)
    client = app.test_client()
    with warnings.catch_warnings(record=True) as unchecked:
        warnings.simplefilter("always")
        client.put("/items/2", headers={"If-Match": "x"})
    assert any("ETag not checked" in str(warning.message) for warning in unchecked), changed(
        attribute, "flask-smorest", "an unchecked PUT no longer warns, so the test cannot tell"
    )
    with warnings.catch_warnings(record=True) as checked:
        warnings.simplefilter("always")
        client.put("/items/1", headers={"If-Match": "x"})
    assert not [warning for warning in checked if "ETag not checked" in str(warning.message)], changed(
        attribute, "flask-smorest", "setting it no longer tells flask-smorest that the view checked If-Match"
    )


def test_docs_of_last_rule_is_what_flask_smorest_documents_the_endpoint_from():
    attribute = "flask_smorest.Blueprint._docs[Blueprint._endpoints[-1]]"
    _app, api = smorest_app()
    blueprint = flask_smorest.Blueprint("items", __name__, url_prefix="/items")
    for name in ("_docs", "_endpoints"):
        assert hasattr(blueprint, name), changed(
            f"flask_smorest.Blueprint.{name}", "flask-smorest", "no such attribute"
        )

    class Items(MethodView):
        def get(self):
            return Response("[]", mimetype="application/json")

        def post(self):
            return Response("{}", mimetype="application/json")

    blueprint.add_url_rule("/", view_func=Items)
    docs = private_apis.docs_of_last_rule(blueprint)
    assert isinstance(docs, dict) and {"get", "post"} <= set(docs), changed(
        attribute, "flask-smorest", f"holds {docs!r}, not a dict per method"
    )
    docs["post"]["manual_doc"] = {"responses": {418: {"description": "A teapot."}}}
    api.register_blueprint(blueprint)
    responses = api.spec.to_dict()["paths"]["/items/"]["post"]["responses"]
    assert responses.get("418") == {"description": "A teapot."}, changed(
        attribute, "flask-smorest", "its manual_doc no longer reaches the operation in the spec"
    )


def test_etag_hooks_replace_what_flask_smorest_calls_around_an_etag_view():
    calls: list = []

    class Spy(private_apis.EtagHooks, flask_smorest.Blueprint):
        def precondition_before_view(self) -> None:
            calls.append("precondition")

        def etag_after_view(self, response) -> None:
            calls.append(("etag", type(response)))

    for name, arguments in (("_check_precondition", ["self"]), ("_set_etag_in_response", ["self", "response"])):
        original = getattr(flask_smorest.Blueprint, name, None)
        attribute = f"flask_smorest.Blueprint.{name}"
        assert callable(original), changed(attribute, "flask-smorest", "no such method")
        assert list(inspect.signature(original).parameters) == arguments, changed(
            attribute, "flask-smorest", f"its signature is now {inspect.signature(original)}"
        )
    app, api = smorest_app()
    blueprint = Spy("items", __name__, url_prefix="/items")

    @blueprint.route("/")
    @blueprint.etag
    def items():
        calls.append("view")
        return Response("[]", mimetype="application/json")

    api.register_blueprint(blueprint)
    assert app.test_client().get("/items/").status_code == 200
    assert calls == ["precondition", "view", ("etag", Response)], changed(
        "flask_smorest.Blueprint._check_precondition and _set_etag_in_response",
        "flask-smorest",
        f"Blueprint.etag's wrapper now calls {calls} around the view",
    )


def test_responses_hook_replaces_what_flask_smorest_registers_the_default_responses_with():
    attribute = "flask_smorest.Api._register_responses"
    original = getattr(flask_smorest.Api, "_register_responses", None)
    assert callable(original), changed(attribute, "flask-smorest", "no such method")
    assert list(inspect.signature(original).parameters) == ["self"], changed(
        attribute, "flask-smorest", f"its signature is now {inspect.signature(original)}"
    )
    registered: list = []

    class Spy(private_apis.ResponsesHook, flask_smorest.Api):
        def register_default_responses(self) -> None:
            registered.append(self.spec)

    _app, api = smorest_app(Spy)
    assert registered == [api.spec], changed(attribute, "flask-smorest", "Api.init_app no longer calls it, once")


# apispec


def test_openapi_paths_are_the_documents_paths_live():
    attribute = "apispec.APISpec._paths"
    spec = APISpec("Private APIs", "1", "3.0.3")
    spec.path("/items", operations={"get": {"responses": {"200": {"description": "Items."}}}})
    paths = private_apis.openapi_paths(spec)
    assert isinstance(paths, dict) and set(paths) == {"/items"}, changed(
        attribute, "apispec", f"holds {paths!r}, not the paths by template"
    )
    paths["/items"]["get"]["responses"]["200"]["links"] = {"Next": {"operationId": "next"}}
    document = spec.to_dict()["paths"]["/items"]["get"]["responses"]["200"]
    assert document.get("links") == {"Next": {"operationId": "next"}}, changed(
        attribute, "apispec", "a change to it no longer reaches the document"
    )


def test_gunicorns_workers_answer_what_they_refuse_through_write_error():
    attribute = "gunicorn.util.write_error"
    import gunicorn.util
    from gunicorn.workers.base import Worker

    assert list(inspect.signature(gunicorn.util.write_error).parameters) == ["sock", "status_int", "reason", "mesg"], (
        changed(attribute, "gunicorn", "takes other arguments")
    )
    assert "util.write_error(" in inspect.getsource(Worker.handle_error), changed(
        attribute, "gunicorn", "Worker.handle_error no longer calls it by that name"
    )
    original = gunicorn.util.write_error
    try:
        private_apis.answer_refused_requests_with(print)
        assert gunicorn.util.write_error is print
    finally:
        gunicorn.util.write_error = original


# psycopg


class Budget:
    def __init__(self, seconds: float | None) -> None:
        self.seconds, self.heard = seconds, []

    def seconds_left(self) -> float | None:
        return self.seconds

    def answered(self) -> None:
        self.heard.append("answered")

    def timed_out(self) -> None:
        self.heard.append("timed out")


def test_psycopgs_connection_waits_through_wait_with_a_timeout():
    import psycopg
    from psycopg.connection import _WAIT_INTERVAL
    from psycopg.errors import _WaitTimeout

    attribute = "psycopg.Connection.wait"
    assert list(inspect.signature(psycopg.Connection.wait).parameters) == ["self", "gen", "interval", "timeout"], (
        changed(attribute, "psycopg", "takes other arguments")
    )
    assert isinstance(_WAIT_INTERVAL, float), changed("psycopg.connection._WAIT_INTERVAL", "psycopg", "not a float")
    assert issubclass(_WaitTimeout, Exception), changed("psycopg.errors._WaitTimeout", "psycopg", "not an exception")


@pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set")
def test_a_bounded_wait_connection_gives_up_a_wait_that_outlasts_its_budget():
    import psycopg

    conninfo = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with private_apis.BoundedWaitConnection.connect(conninfo, autocommit=True) as connection:
        connection.budget = Budget(5)
        assert connection.execute("SELECT 1").fetchone() == (1,)
        assert connection.budget.heard[-1] == "answered"

        connection.budget = Budget(0.2)
        started = time.monotonic()
        with pytest.raises(psycopg.errors.ConnectionTimeout):
            connection.execute("SELECT pg_sleep(2)")
        assert time.monotonic() - started < 2, changed(
            "psycopg.Connection.wait", "psycopg", "the statement's wait does not go through it"
        )
        assert connection.budget.heard == ["answered"]  # a running server took the statement's cancellation
        assert connection.closed


def test_gunicorns_threaded_worker_stops_accepting_through_set_accept_enabled():
    from gunicorn.workers.gthread import ThreadWorker

    attribute = "gunicorn.workers.gthread.ThreadWorker"
    run = inspect.getsource(ThreadWorker.run)
    assert run.index("while self.alive:") < run.index("self.set_accept_enabled(False)"), changed(
        attribute, "gunicorn", "run() no longer calls set_accept_enabled(False) once the stop begins"
    )
    for used in ("_accepting", "wait_for_and_dispatch_events", "accept", "nr_conns"):
        assert used in inspect.getsource(ThreadWorker), changed(f"{attribute}.{used}", "gunicorn", "gone")


def test_gunicorns_threaded_worker_hands_every_ready_connection_to_enqueue_req():
    import socket

    from gunicorn.workers.gthread import TConn, ThreadWorker

    attribute = "gunicorn.workers.gthread.ThreadWorker"
    for caller in ("accept", "on_client_socket_readable", "on_pending_socket_readable", "finish_request"):
        assert "self.enqueue_req(conn)" in inspect.getsource(getattr(ThreadWorker, caller)), changed(
            f"{attribute}.{caller}", "gunicorn", "no longer hands its connection to enqueue_req"
        )
    assert "self.tpool.submit(self.handle, conn)" in inspect.getsource(ThreadWorker.enqueue_req), changed(
        f"{attribute}.enqueue_req", "gunicorn", "no longer submits handle to its thread pool"
    )
    assert "self.method_queue.defer(self.finish_request, conn, fut)" in inspect.getsource(ThreadWorker.enqueue_req), (
        changed(f"{attribute}.enqueue_req", "gunicorn", "no longer finishes through its method queue")
    )
    assert "self.pending_conns.append(conn)" in inspect.getsource(ThreadWorker.finish_request), changed(
        f"{attribute}.pending_conns", "gunicorn", "no longer where connections wait for bytes"
    )
    assert "conn.parser.unreader.buf.getvalue()" in inspect.getsource(ThreadWorker.finish_request), changed(
        f"{attribute}.finish_request", "gunicorn", "no longer reads a request the parser read ahead from its buffer"
    )
    ends = socket.socketpair()
    try:
        assert {"sock", "timeout", "parser"} <= set(vars(TConn(None, ends[0], None, None))), changed(
            "gunicorn.workers.gthread.TConn", "gunicorn", "its sock, timeout or parser is gone"
        )
    finally:
        for end in ends:
            end.close()


def test_a_listener_stopped_taking_connections_keeps_those_it_holds_and_drops_new_ones():
    import socket

    with socket.create_server(("127.0.0.1", 0)) as listener:
        address = listener.getsockname()
        waiting = socket.create_connection(address)
        private_apis.stop_taking_connections(listener)
        with socket.socket() as late:
            late.settimeout(0.3)
            with pytest.raises(TimeoutError):
                late.connect(address)
        accepted, _ = listener.accept()
        assert accepted.getpeername() == waiting.getsockname()
        accepted.close()
        waiting.close()


def test_the_checked_versions_are_the_installed_ones():
    """Once the tests above pass on an upgraded library, its version here is updated: the adapter says what it was
    checked against."""
    installed = {library: version(library) for library in private_apis.CHECKED_AGAINST}
    assert installed == private_apis.CHECKED_AGAINST


# Nowhere else


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path != ADAPTER)


def _names_defined_in_the_package() -> set[str]:
    names: set[str] = set()
    for path in [*_modules(), ADAPTER]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[0])
    return names


def test_no_other_module_reads_a_librarys_private_attribute():
    """An underscore name that the package reads but never defines is a library's: it belongs in private_apis."""
    own = _names_defined_in_the_package() | DOCUMENTED_PUBLIC
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.ImportFrom)
                and not (node.module or "").startswith("sandbox_api")
                and node.level == 0
            ):
                found += [
                    f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr not in own
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} reads .{node.attr}")
    assert found == []


def _package_classes() -> list[type]:
    classes = []
    for module_info in pkgutil.walk_packages(sandbox_api.__path__, "sandbox_api."):
        module = importlib.import_module(module_info.name)
        classes += [
            value
            for value in vars(module).values()
            if inspect.isclass(value)
            and value.__module__ == module.__name__
            and module.__name__ != private_apis.__name__
        ]
    return classes


def _own_private_methods(cls: type) -> list[str]:
    """The methods with one leading underscore that the class's own body defines (a sunder name, like enum's
    `_missing_`, is a documented hook)."""
    names = []
    for name, value in vars(cls).items():
        function = getattr(value, "__func__", value)
        if (
            inspect.isfunction(function)
            and function.__module__ == cls.__module__
            and name.startswith("_")
            and not name.startswith("__")
            and not name.endswith("_")
        ):
            names.append(name)
    return names


def test_no_other_class_overrides_a_librarys_private_method():
    found = []
    for cls in _package_classes():
        libraries = [base for base in cls.__mro__[1:] if not base.__module__.startswith("sandbox_api")]
        found += [
            f"{cls.__module__}.{cls.__qualname__}.{name} overrides {base.__module__}.{base.__qualname__}.{name}"
            for name in _own_private_methods(cls)
            if name not in DOCUMENTED_PUBLIC
            for base in libraries
            if name in vars(base)
        ]
    assert found == []


@pytest.mark.parametrize("hooks", [private_apis.EtagHooks, private_apis.ResponsesHook])
def test_a_class_mixing_in_hooks_implements_them(hooks):
    public = [name for name, value in vars(hooks).items() if not name.startswith("_") and callable(value)]
    users = [cls for cls in _package_classes() if issubclass(cls, hooks)]
    assert users, f"nothing mixes in {hooks.__qualname__}: drop it from private_apis"
    for cls in users:
        assert all(getattr(cls, name) is not getattr(hooks, name) for name in public), cls


def test_a_peek_at_a_connection_tells_nothing_yet_from_bytes_and_from_a_reset():
    # The peek runs in the worker's loop, where an exception would end the worker.
    import socket
    import struct
    import time
    from types import SimpleNamespace

    with socket.create_server(("127.0.0.1", 0)) as listener:
        sending, resetting = (socket.create_connection(listener.getsockname()) for _ in range(2))
        first, second = (SimpleNamespace(sock=listener.accept()[0], parser=None) for _ in range(2))
        try:
            assert private_apis.arrived_bytes(first, 4096) is None
            sending.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            resetting.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            resetting.close()  # with a linger of 0: a reset
            time.sleep(0.2)
            assert private_apis.arrived_bytes(first, 4096) == b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
            assert private_apis.arrived_bytes(second, 4096) == b""
        finally:
            for end in (sending, first.sock, second.sock):
                end.close()
