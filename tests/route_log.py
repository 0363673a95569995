"""Every route of the app is tried by some test: a pytest plugin.

Each app the tests build gets :class:`RouteRecorder` (``record_routes(app)``), an ASGI
middleware that notes the route template (``GET /api/csp/{csp_id}/partners``) every
request matched, whoever made it: a ``TestClient``, Chromium on a live server, or a page
script calling the API from Chromium. Each test process keeps its set; with
pytest-xdist, every worker writes it to a file of a directory the controller gave it
(``workerinput``), and the controller reads them all when the session ends.

Then, when the whole suite ran (no file, ``-k`` or ``-m`` selection, no early stop), the
controller lists the app's route table (``app.routes``: a new route cannot be forgotten)
and fails the session, naming them, if some route was never called. A partial run says
that it did not check.

Why at run time rather than a scan of the test sources: many API routes are called only
by the pages' scripts in the browser tests, with paths built at run time; the recorder
sees those, a text scan would not. Why files: xdist workers are separate processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings
from psq.app import create_app

#: The routes this process saw answer a request with success (2xx or 3xx):
#: (method, path template).
CALLED: set[tuple[str, str]] = set()
#: Methods every route answers without declaring them.
IMPLICIT = {"HEAD", "OPTIONS"}
#: Routes that exist only to refuse, by their name: the OGC API's answer to a collection
#: it does not have (a 404 in OGC form naming the id). Their tests expect the refusal.
REFUSING_ONLY = ("ogc_unknown_collection_",)


def plain(path: str) -> str:
    """A route's template without its convertors, as the OpenAPI document writes it:
    ``/api/plans/{plan_id:int}`` → ``/api/plans/{plan_id}``.

    >>> plain("/api/plans/{plan_id:int}/cells")
    '/api/plans/{plan_id}/cells'
    """
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _template(route: Any) -> str:
    if isinstance(route, Mount):
        return route.path + "/{path}"
    return plain(str(getattr(route, "path", "") or getattr(route, "path_format", "")))


class RouteRecorder:
    """Notes the template of the route each HTTP request matched, when it succeeded: a
    refusal (401, 403, 404, 422…) says that a check works, not that the route does."""

    def __init__(self, app: ASGIApp, routes: FastAPI) -> None:
        self.app = app
        self.routes = routes
        self._paths: dict[int, str] = {}

    def top_level(self, path: str) -> Any:
        """The app's own routes and mounts (``/openapi.json``, ``/static``), which do not
        always leave their route in the scope."""
        for route in self.routes.routes:
            if isinstance(route, Mount) and path.startswith(route.path + "/"):
                return route
            if getattr(route, "path", None) == path and "{" not in path:
                return route
        return None

    def template(self, route: Any) -> str:
        """The full template of a matched route (an included router's route carries its
        own path, without the router's prefix)."""
        if isinstance(route, Mount):
            return _template(route)
        if not self._paths:
            self._paths = {
                id(c.original_route): plain(c.path) for c in iter_route_contexts(self.routes.routes)
            }
        return self._paths.get(id(route)) or _template(route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, noting)
        route = scope.get("route") or self.top_level(scope["path"])
        if route is not None and status and status[0] < 400:
            CALLED.add((scope["method"], self.template(route)))


def record_routes(app: FastAPI) -> FastAPI:
    """``app`` with the recorder (before it serves its first request)."""
    app.add_middleware(RouteRecorder, routes=app)
    return app


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, template) the app answers: its API routes, its pages, its mounts
    (the routes of included routers flattened, as they answer)."""
    table: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            table.add(("GET", _template(route)))
            continue
        if str(getattr(route, "name", "")).startswith(REFUSING_ONLY):
            continue
        for method in sorted(set(getattr(context, "methods", None) or ()) - IMPLICIT):
            table.add((method, plain(context.path)))
    return table


def _called(route: tuple[str, str], called: set[tuple[str, str]]) -> bool:
    method, path = route
    return (method, path) in called or (method == "GET" and ("HEAD", path) in called)


def _whole_suite(config: pytest.Config) -> bool:
    option = config.option
    testpaths = [str(Path(config.rootpath, p)) for p in config.getini("testpaths")]
    args = [str(Path(config.invocation_params.dir, a).resolve()) for a in config.args]
    return (
        (
            config.args_source == pytest.Config.ArgsSource.TESTPATHS
            or sorted(args) == sorted(testpaths)
        )
        and not option.keyword
        and not option.markexpr
        and not getattr(option, "lf", False)
        and not getattr(option, "maxfail", 0)
        and not getattr(option, "deselect", None)
    )


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config._route_log_dir = tempfile.mkdtemp(prefix="psq-routes-")  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: tell each worker where to write what it saw."""
    node.workerinput["route_log_dir"] = node.config._route_log_dir


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        directory = Path(config.workerinput["route_log_dir"])
        name = f"{config.workerinput.get('workerid', os.getpid())}.json"
        (directory / name).write_text(json.dumps(sorted(CALLED)), encoding="utf-8")
        return
    directory = Path(config._route_log_dir)  # type: ignore[attr-defined]
    called = set(CALLED)
    for path in directory.glob("*.json"):
        called |= {tuple(r) for r in json.loads(path.read_text(encoding="utf-8"))}  # type: ignore[misc]
    shutil.rmtree(directory, ignore_errors=True)
    report: list[str] = []
    config._route_report = report  # type: ignore[attr-defined]
    if not _whole_suite(config) or session.shouldstop or session.shouldfail:
        report.append("a partial run: every route's test not checked")
        return
    table = route_table(create_app(Settings(database_url="postgresql+psycopg://unused/x")))
    missing = sorted(r for r in table if not _called(r, called))
    report.append(f"{len(table) - len(missing)} of {len(table)} routes tried by a test")
    report.extend(f"NEVER CALLED with success: {method} {path}" for method, path in missing)
    if missing and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = getattr(config, "_route_report", None)
    if report:
        terminalreporter.write_sep("-", "routes (tests/route_log.py)")
        for line in report:
            terminalreporter.write_line(line, red=line.startswith("NEVER"))
