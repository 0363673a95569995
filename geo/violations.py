"""Constraint violations: what a sector plan does not meet, said to the planner.

A :class:`Violation` is a plain record: the solvers (:mod:`geo.sectorize`), the metrics
(:func:`geo.metrics.violations`) and the hand editor (:mod:`geo.editing`) all produce
them, and a :class:`geo.plan.SectorPlan` carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """A constraint the plan does not meet: ``constraint`` is a stable code (``balance``,
    ``contiguity``, ``whole_commune``), ``sector`` the sector concerned (or ``None``),
    ``message`` a sentence for the planner (in French) that names the values."""

    constraint: str
    message: str
    sector: int | None = None
    value: float | None = None
    limit: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "constraint": self.constraint,
            "sector": self.sector,
            "value": self.value,
            "limit": self.limit,
            "message": self.message,
        }
