"""The shape of the house (docs/ARCHITECTURE.md), read from the imports of every module
with ``ast`` — imports inside functions included — so that a shortcut cannot hide.

The layers, top to bottom: ``psq`` (the composition root: the app and the CLI) → ``web``
(pages) and ``api.routes`` (JSON API) → ``api.services`` (use cases) →
``api.repositories`` (data access) → ``geo`` (the domain, no database, no web).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("psq", "web", "api", "geo")
MAX_LINES = 600
#: Modules allowed to be longer: the schema history and the table definitions.
LONG_MODULES = ("api/models.py",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def imports_of(name: str, path: Path) -> Iterator[str]:
    """Every module ``name`` imports, at any depth of its code (``from x import y``
    yields ``x.y`` as well as ``x``, since ``y`` may be a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


MODULES = project_modules()
IMPORTS = {name: set(imports_of(name, path)) for name, path in MODULES.items()}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def offenders(importer: str, imported: tuple[str, ...]) -> list[str]:
    """``module -> import`` for the modules of ``importer`` importing any of ``imported``."""
    return sorted(
        f"{name} -> {target}"
        for name, targets in IMPORTS.items()
        if within(name, importer)
        for target in targets
        if any(within(target, package) for package in imported)
    )


def test_the_modules_are_found() -> None:
    assert {"psq.app", "api.routes.plans", "api.services.plans", "geo.plan"} <= set(MODULES)


def test_api_never_imports_web_nor_the_composition_root() -> None:
    assert offenders("api", ("web", "psq")) == []


#: What only the services may touch: the data access, the tables, the caches and the jobs.
BELOW_THE_SERVICES = (
    "api.repositories",
    "api.db",
    "api.models",
    "api.map_cache",
    "api.editors",
    "api.jobs",
    "api.advisory",
    "sqlalchemy",
    "geoalchemy2",
)


def test_web_calls_services_never_what_lies_below_them() -> None:
    assert offenders("web", (*BELOW_THE_SERVICES, "psq")) == []


def test_routes_hold_no_sql_no_transaction_no_cache() -> None:
    assert offenders("api.routes", BELOW_THE_SERVICES) == []


def test_services_leave_queries_to_the_repositories() -> None:
    """A service may hold a session (``sqlalchemy.orm.Session``) and catch the database's
    errors (``sqlalchemy.exc``), but builds no query: ``select``, ``text``, ``func``…
    belong to the repositories."""
    allowed = ("sqlalchemy.orm", "sqlalchemy.exc", "sqlalchemy.Engine")
    bad = [
        entry
        for entry in offenders("api.services", ("sqlalchemy",))
        # ``from sqlalchemy import X`` also yields the bare package: X is what counts
        if (target := entry.split(" -> ")[1]) != "sqlalchemy"
        and not any(within(target, a) for a in allowed)
    ]
    assert bad == []


def test_geo_is_the_domain_alone() -> None:
    assert offenders("geo", ("api", "web", "psq", "sqlalchemy", "fastapi", "geoalchemy2")) == []


def test_services_never_reach_up() -> None:
    assert offenders("api.services", ("api.routes", "api.deps")) == []


@pytest.mark.parametrize(
    "repository", sorted(n for n in MODULES if n.startswith("api.repositories."))
)
def test_a_repository_imports_no_other_repository_and_no_engine(repository: str) -> None:
    """Data access only: its shared helpers (``base``) but no other repository, no
    service, and none of the heavy domain computations."""
    forbidden = ("api.services", "geo.sectorize", "geo.hotspots", "geo.coverage")
    bad = [
        target
        for target in IMPORTS[repository]
        if any(within(target, p) for p in forbidden)
        or (
            within(target, "api.repositories")
            and target != "api.repositories"
            and not within(target, "api.repositories.base")
            and not within(target, repository)
        )
    ]
    assert bad == [], f"{repository} imports {bad}"


def cycles() -> list[list[str]]:
    """The import cycles between project modules (a module's package ``__init__`` counts
    as importing nothing of its own: Python resolves ``from pkg import mod`` on the
    module)."""
    graph = {
        name: sorted(t for t in targets if t in MODULES and t != name and not within(name, t))
        for name, targets in IMPORTS.items()
    }
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    assert cycles() == []


def test_no_module_over_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in [*MODULES.values(), *sorted((ROOT / "bench").glob("*.py"))]
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(path.relative_to(ROOT)) not in LONG_MODULES
    }
    assert long == {}
