"""The list of CSPs that ``psq sectorize-all`` designs in one batch.

A CSV, YAML or JSON file lists one CSP per row (CSV) or item (a YAML or JSON list, or a
mapping with a ``csp`` list): ``name``; ``communes``, the INSEE codes of its communes
(a list, or a text separated by spaces, commas or semicolons; may be empty when the CSP
already exists); ``k`` or ``target_workload``; ``tolerance`` (default 0.05);
``resolution`` (default 9). Errors name the row and the field, in French.

>>> rows = parse_batch('name,communes,k\\nNord,91001 91002,3\\n', "csp.csv")
>>> rows[0].name, rows[0].communes, rows[0].k, rows[0].tolerance
('Nord', ('91001', '91002'), 3, 0.05)
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]

from geo.errors import InvalidInputError


@dataclass(frozen=True)
class CspRequest:
    """One CSP of the batch: what to design."""

    name: str
    communes: tuple[str, ...] = ()
    k: int | None = None
    target_workload: float | None = None
    tolerance: float = 0.05
    resolution: int = 9


def parse_batch(text: str, source: str) -> list[CspRequest]:
    """The CSPs listed in ``text``, read as CSV, JSON or YAML from ``source``'s suffix."""
    lower = source.lower()
    items: Any
    try:
        if lower.endswith(".csv"):
            items = list(csv.DictReader(io.StringIO(text)))
        elif lower.endswith(".json"):
            items = json.loads(text)
        elif lower.endswith((".yaml", ".yml")):
            items = yaml.safe_load(text)
        else:
            raise InvalidInputError("batch_format_unknown", source=source)
    except (json.JSONDecodeError, yaml.YAMLError, csv.Error) as exc:
        raise InvalidInputError("layer_unreadable", source=source, reason=str(exc)) from exc
    if isinstance(items, Mapping):
        items = items.get("csp", items.get("csps"))
    if not isinstance(items, list) or not items:
        raise InvalidInputError("batch_no_csp", source=source)
    rows = [_row(item, i + 1, source) for i, item in enumerate(items)]
    names = [r.name for r in rows]
    if dup := sorted({n for n in names if names.count(n) > 1}):
        raise InvalidInputError("batch_csp_twice", source=source, names=dup)
    return rows


def _row(item: Any, number: int, source: str) -> CspRequest:
    if not isinstance(item, Mapping):
        raise InvalidInputError("batch_row_not_mapping", source=source, number=number)
    name = str(item.get("name") or item.get("nom") or "").strip()
    if not name:
        raise InvalidInputError("batch_row_no_name", source=source, number=number)
    raw = item.get("communes") or ""
    codes = raw if isinstance(raw, list | tuple) else re.split(r"[\s,;]+", str(raw).strip())
    communes = tuple(str(c).strip().upper() for c in codes if str(c).strip())

    def number_of(field: str, kind: type) -> Any:
        value = item.get(field)
        if value is None or str(value).strip() == "":
            return None
        try:
            return kind(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                "batch_row_not_number", source=source, number=number, name=name, column=field
            ) from exc

    k, target = number_of("k", int), number_of("target_workload", float)
    if (k is None) == (target is None):
        raise InvalidInputError("batch_row_k_or_target", source=source, number=number, name=name)
    tolerance = number_of("tolerance", float)
    resolution = number_of("resolution", int)
    return CspRequest(
        name=name,
        communes=communes,
        k=k,
        target_workload=target,
        tolerance=0.05 if tolerance is None else tolerance,
        resolution=9 if resolution is None else resolution,
    )
