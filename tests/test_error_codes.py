"""Every domain error raised in geo/ and api/ speaks through the message catalogue.

An AST walk finds each ``raise X(...)`` of a :class:`geo.errors.PsqError` subclass: its
first argument (a layer error's second, after the file) is a code of
:data:`geo.messages.MESSAGES`, or the class builds its code itself
(:data:`SELF_CODED`). What is not yet converted is counted per module in
:data:`NOT_YET_CATALOGUED`: the count may only go down (the test fails when a module
raises more uncatalogued errors than listed, and when it raises fewer, so that the list
follows the conversions)."""

from __future__ import annotations

import ast
from pathlib import Path

import api.jobs
import geo.errors
import geo.geocoding
import geo.problem_files
from geo.messages import MESSAGES

ROOT = Path(__file__).resolve().parents[1]

#: Classes whose constructor takes the values and picks the code itself.
SELF_CODED = frozenset(
    {
        "UnreadableLayerError",
        "EmptyLayerError",
        "MissingCRSError",
        "MissingColumnsError",
        "InvalidValuesError",
        "GeometryTypeError",
        "CoordinatesOutOfRangeError",
        "UnknownCommunesError",
        "DuplicateRequestError",
        "TooLargeError",
        "InvalidCredentialsError",
        "TooManyAttemptsError",
        "AuthenticationRequiredError",
        "RowErrorsError",
        "AddressesOutsideError",
        "JobCancelled",
    }
)

#: Module → raises whose sentence is not (yet) in the catalogue: already French (most name
#: their field first, « field : … », which the API turns into ``fields``), or internal
#: guards, or in modules being rewritten elsewhere (geo/sectorize/growth.py, design.py,
#: search.py, exact.py). Only goes down.
NOT_YET_CATALOGUED: dict[str, int] = {
    "api/services/conventions.py": 5,
}


def _error_classes() -> set[str]:
    assert geo.problem_files and geo.geocoding and api.jobs  # their classes are loaded
    found: set[str] = set()
    pending: list[type] = [geo.errors.PsqError]
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return found


def _is_code(node: ast.expr | None) -> bool:
    """A code of the catalogue, or a choice between two (``"a" if x else "b"``)."""
    if isinstance(node, ast.IfExp):
        return _is_code(node.body) and _is_code(node.orelse)
    return isinstance(node, ast.Constant) and node.value in MESSAGES


def uncatalogued() -> dict[str, list[int]]:
    """Module → lines of the raises that pass a sentence instead of a code."""
    classes = _error_classes()
    found: dict[str, list[int]] = {}
    for path in sorted([*ROOT.glob("geo/**/*.py"), *ROOT.glob("api/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in classes or name in SELF_CODED:
                continue
            args = node.exc.args
            if _is_code(args[0] if args else None):
                continue
            if name == "LayerError" and len(args) > 1 and _is_code(args[1]):
                continue
            found.setdefault(path.relative_to(ROOT).as_posix(), []).append(node.lineno)
    return found


def test_domain_errors_use_the_catalogue() -> None:
    counts = {module: len(lines) for module, lines in uncatalogued().items()}
    more = {
        m: (n, NOT_YET_CATALOGUED.get(m, 0))
        for m, n in counts.items()
        if n > NOT_YET_CATALOGUED.get(m, 0)
    }
    assert not more, f"raise with a code of geo.messages (found, allowed): {more}"
    fewer = {
        m: (counts.get(m, 0), n) for m, n in NOT_YET_CATALOGUED.items() if counts.get(m, 0) < n
    }
    assert not fewer, f"lower NOT_YET_CATALOGUED to what is left (found, listed): {fewer}"


def test_codes_are_used() -> None:
    """Every code of the catalogue is raised or rendered somewhere (no dead sentence)."""
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [*ROOT.glob("geo/**/*.py"), *ROOT.glob("api/**/*.py"), *ROOT.glob("psq/*.py")]
        if not p.name.startswith("messages")
    )
    unused = sorted(code for code in MESSAGES if f'"{code}"' not in sources)
    assert not unused, unused
