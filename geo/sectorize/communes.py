"""The whole-communes baseline: communes grouped into ``k`` contiguous sectors.

What a planner would draw without this application: every commune kept whole, the
communes grouped so that workloads are as even as whole communes allow. It is the
engine of :mod:`geo.sectorize.growth` with every commune fused into one atom; where a
commune is heavier than the balance band, the plan is still made and its violations
say so. Proposals are compared against it.
"""

from __future__ import annotations

import math

from geo.sectorize.growth import DEFAULT_TOLERANCE, RegionGrowth


class WholeCommunes(RegionGrowth):
    """Group whole communes into ``k`` sectors (see the module docstring)."""

    def __init__(
        self,
        k: int | None = None,
        *,
        target_workload: float | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> None:
        super().__init__(
            k,
            target_workload=target_workload,
            tolerance=tolerance,
            whole_commune_population=math.inf,
            oversized="report",
        )
