"""The interface every sector-design algorithm implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

from geo.plan import SectorPlan
from geo.unit_graph import UnitGraph

#: ``progress(fraction, stage)``: ``fraction`` in [0, 1], ``stage`` a short English label.
Progress = Callable[[float, str], None]


def no_progress(fraction: float, stage: str) -> None:
    """The default progress callback: report nothing."""


class Sectorizer(ABC):
    """A sector-design algorithm: parameters in ``__init__``, one ``solve`` call per run.

    ``solve`` always returns a :class:`geo.plan.SectorPlan` whose ``violations`` list
    every constraint it could not meet, or raises
    :class:`geo.errors.InfeasibleDesignError` when the request cannot be met at all.
    Randomness comes only from ``rng``: the same graph, parameters and seed give the
    same plan.
    """

    @abstractmethod
    def solve(
        self,
        graph: UnitGraph,
        *,
        rng: np.random.Generator,
        progress: Progress = no_progress,
    ) -> SectorPlan: ...
