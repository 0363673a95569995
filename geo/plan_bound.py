"""How far a plan is from the best possible: a proven lower bound on its p-median objective.

A :class:`PlanBound` goes with every proposal. The exact mode (:mod:`geo.sectorize.exact`)
gives the optimum with its proof, or its best plan with the solver's proven bound; a
heuristic proposal gets a Lagrangian bound (:mod:`geo.sectorize.bound`) computed within a
time budget. The objective is :func:`geo.pmedian.pmedian_distance` (metres).

The gap is ``(objective - lower) / objective``: the plan is *at most* that far above the
best plan possible under the same constraints (the optimum lies between ``lower`` and
``objective``). A bound that was not computed is said so, never invented.

>>> b = PlanBound(method="lagrangian", status="bound", objective_m=712.0, lower_m=689.0,
...               seconds=0.4)
>>> round(b.gap, 4)
0.0323
>>> b.sentence()
'à au plus 3,2\u202f% du meilleur plan possible (distance moyenne au centre 712 m, borne 689 m)'
>>> PlanBound.from_dict(b.to_dict()) == b
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["optimal", "gap", "bound", "none"]
BoundMethod = Literal["exact", "lagrangian"]


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + "\u202f%"


@dataclass(frozen=True)
class PlanBound:
    """``status``: ``optimal`` (proven optimum), ``gap`` (exact mode stopped with a proven
    gap), ``bound`` (a heuristic plan and a lower bound), ``none`` (no bound: ``reason``
    says why). ``objective_m`` is the plan's p-median distance, ``lower_m`` the proven
    lower bound on the best plan's (metres), ``seconds`` the time spent proving; ``reason``
    says why there is no bound, or what a proof holds for (the exact mode part by part,
    :mod:`geo.sectorize.exact_parts`: « pour la répartition 2 + 1 des parties »)."""

    method: BoundMethod
    status: Status
    objective_m: float | None
    lower_m: float | None
    seconds: float
    reason: str | None = None

    @property
    def gap(self) -> float | None:
        """``(objective - lower) / objective`` (0 when proven optimal), or None."""
        if self.status == "optimal":
            return 0.0
        if self.lower_m is None or self.objective_m is None or self.objective_m <= 0:
            return None
        return max(0.0, (self.objective_m - self.lower_m) / self.objective_m)

    def sentence(self) -> str:
        """What the planner reads beside the plan's metrics, in French."""
        seconds = f"{self.seconds:.0f}" if self.seconds >= 10 else f"{self.seconds:.1f}"
        seconds = seconds.replace(".", ",")
        gap = self.gap
        scope = f", {self.reason}" if self.reason else ""  # what the proof holds for
        if self.status == "optimal":
            return f"optimum prouvé (solveur exact, {seconds} s{scope})"
        if gap is None or self.objective_m is None or self.lower_m is None:
            return f"borne non calculée ({self.reason})" if self.reason else "borne non calculée"
        if self.lower_m > self.objective_m * (1 + 1e-6):
            return (
                f"plus court que tout plan qui tient l'équilibre (borne {_number(self.lower_m)} m) "
                "car il ne le tient pas"
            )
        if self.status == "gap":
            return (
                f"meilleur plan trouvé, à au plus {_percent(gap)} de l'optimum "
                f"(écart prouvé au bout de {seconds} s{scope})"
            )
        return (
            f"à au plus {_percent(gap)} du meilleur plan possible (distance moyenne au "
            f"centre {_number(self.objective_m)} m, borne {_number(self.lower_m)} m)"
        )

    @classmethod
    def exact(cls, objective: float, lower: float, seconds: float, tolerance: float) -> PlanBound:
        """The exact mode's bound of its best plan: ``optimal`` within ``tolerance``
        (relative), else ``gap``; ``none`` when the search stopped before its first bound
        (``lower`` infinite: a cancel during the warm start).

        >>> PlanBound.exact(100.0, 99.999, 1.0, 1e-4).status
        'optimal'
        >>> PlanBound.exact(100.0, 90.0, 1.0, 1e-4).gap
        0.1
        >>> PlanBound.exact(100.0, -math.inf, 1.0, 1e-4).sentence()
        'borne non calculée (recherche arrêtée avant la première borne)'
        """
        if not math.isfinite(lower):
            reason = "recherche arrêtée avant la première borne"
            return cls("exact", "none", objective, None, seconds, reason)
        lower = min(lower, objective)
        optimal = objective - lower <= tolerance * max(objective, 1.0)
        return cls("exact", "optimal" if optimal else "gap", objective, lower, seconds)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"gap": self.gap, "sentence": self.sentence()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanBound:
        keys = ("method", "status", "objective_m", "lower_m", "seconds", "reason")
        return cls(**{k: data.get(k) for k in keys})  # type: ignore[arg-type]
