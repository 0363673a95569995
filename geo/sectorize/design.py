"""The design parameters of a sector plan: what a proposal asks for, kept with the plan.

A :class:`DesignParameters` says which units the plan is made of (``resolution``,
``units``, the workload ``weights``), where fixed seeds are (``seeds`` as positions,
``seed_point_types`` of the CSP's point layers), and how the sectors are drawn: the
``method`` and its settings. :func:`make_sectorizer` turns it into the algorithm of
:mod:`geo.sectorize` that draws them; :meth:`DesignParameters.rng` gives the random
generator of its ``seed``.

:meth:`DesignParameters.to_dict` is the plain JSON stored with a plan;
:meth:`DesignParameters.from_dict` reads it back, ignoring the keys it does not know
(what a run adds beside the parameters, such as ``seed_units``, or keys of older
versions).

Examples
--------
>>> params = DesignParameters(k=4, locked={"891f1d48177ffff": 0})
>>> stored = params.to_dict() | {"seed_units": ["891f1d4817bffff"]}
>>> DesignParameters.from_dict(stored) == params
True
>>> type(make_sectorizer(params, ["891f1d4817bffff"]).engine).__name__
'RegionGrowth'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from geo.errors import InvalidInputError
from geo.grid import DEFAULT_RESOLUTION
from geo.sectorize.atoms import CutCosts
from geo.sectorize.base import Sectorizer
from geo.sectorize.communes import WholeCommunes
from geo.sectorize.exact import (
    DEFAULT_TIME_LIMIT_S,
    MAX_TIME_LIMIT_S,
    MIN_TIME_LIMIT_S,
    ExactDesign,
)
from geo.sectorize.exact_parts import ExactParts
from geo.sectorize.growth import DEFAULT_TOLERANCE, DEFAULT_WHOLE_COMMUNE_POPULATION, RegionGrowth
from geo.sectorize.objective import Objective, check_objective
from geo.sectorize.partitioned import PartitionedDesign

Method = Literal["engine", "communes", "exact"]
Units = Literal["h3", "blocks"]
METHODS: tuple[Method, ...] = ("engine", "communes", "exact")
UNITS: tuple[Units, ...] = ("h3", "blocks")
_DEFAULT_COSTS = CutCosts()


@dataclass(frozen=True)
class DesignParameters:
    """What a proposal asks for (see the module docstring).

    Attributes
    ----------
    method
        ``"engine"``: balanced sectors that may split large communes
        (:class:`~geo.sectorize.RegionGrowth`); ``"communes"``: the whole-communes
        baseline (:class:`~geo.sectorize.WholeCommunes`), which uses only ``k`` or
        ``target_workload``, and ``tolerance``; ``"exact"``: the p-median plan with its
        proof (:class:`~geo.sectorize.exact.ExactDesign`), warm-started by the engine.
    time_limit
        Seconds the exact mode may search (``"exact"`` only).
    k, target_workload
        Number of sectors, or the workload per sector (then ``k`` is the total workload
        divided by it); the algorithms require exactly one of them.
    tolerance
        Allowed relative deviation of each sector's workload from the mean.
    resolution, units
        The grid the plan is made on: its H3 resolution, and its units (``"h3"`` cells or
        street ``"blocks"``).
    seed
        The random seed: the same seed and parameters on the same units give the same plan.
    weights
        Workload weight per variable of :data:`geo.grid.WORKLOAD_VARIABLES`, or ``None``
        for the grid's stored workload.
    whole_commune_population
        Communes with fewer inhabitants are never split.
    seeds
        Fixed seed positions ``(lon, lat)`` (e.g. commissariats): sector ``i`` holds seed
        ``i``.
    seed_point_types
        Also seed one sector at each point of the CSP's point layers of these types.
    locked
        Unit id → sector index kept as given.
    sectors_per_part
        Sectors of each part of a territory in several parts (heaviest part first, see
        :mod:`geo.sectorize.partitioned`); empty: shared out by workload.
    compactness, commune_cohesion, barrier_preference
        The weights of :class:`~geo.sectorize.CutCosts` (``barrier_preference`` is its
        ``barrier``).
    objective, objective_weight
        What the engine's shape phase minimises (:mod:`geo.sectorize.objective`):
        ``"boundary"`` (*longueur des limites*), ``"distance"`` (*distance moyenne au
        centre du secteur*, the p-median) or ``"mix"``, where ``objective_weight`` in
        [0, 1] is the share of distance, each term relative to its value on the plan
        the shape phase starts from.

    Containers are stored read-only (tuples, read-only mappings); numbers are converted
    to ``int`` or ``float``, so that a dict read from JSON gives equal parameters.
    """

    method: Method = "engine"
    k: int | None = None
    target_workload: float | None = None
    tolerance: float = DEFAULT_TOLERANCE
    resolution: int = DEFAULT_RESOLUTION
    units: Units = "h3"
    seed: int = 0
    weights: Mapping[str, float] | None = None
    whole_commune_population: float = DEFAULT_WHOLE_COMMUNE_POPULATION
    seeds: tuple[tuple[float, float], ...] = ()
    seed_point_types: tuple[str, ...] = ()
    locked: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    sectors_per_part: tuple[int, ...] = ()
    compactness: float = _DEFAULT_COSTS.compactness
    commune_cohesion: float = _DEFAULT_COSTS.commune_cohesion
    barrier_preference: float = _DEFAULT_COSTS.barrier
    time_limit: float = DEFAULT_TIME_LIMIT_S
    objective: Objective = "boundary"
    objective_weight: float = 0.5

    def __post_init__(self) -> None:
        check_objective(self.objective, self.objective_weight)
        if self.method not in METHODS:
            raise InvalidInputError(
                "unknown_method", field="method", method=self.method, expected=list(METHODS)
            )
        if self.units not in UNITS:
            raise InvalidInputError(
                "unknown_units", field="units", units=self.units, expected=list(UNITS)
            )
        if not MIN_TIME_LIMIT_S <= float(self.time_limit) <= MAX_TIME_LIMIT_S:
            raise InvalidInputError(
                "time_limit_out_of_range",
                field="time_limit",
                low=MIN_TIME_LIMIT_S,
                high=MAX_TIME_LIMIT_S,
                value=self.time_limit,
            )
        bad = [p for p in self.seeds if len(p) != 2]
        if bad:
            raise InvalidInputError("seed_not_a_position", field="seeds", value=str(bad[0]))
        normal = {
            "k": None if self.k is None else int(self.k),
            "target_workload": (
                None if self.target_workload is None else float(self.target_workload)
            ),
            "tolerance": float(self.tolerance),
            "resolution": int(self.resolution),
            "seed": int(self.seed),
            "weights": (
                None
                if self.weights is None
                else MappingProxyType({str(v): float(w) for v, w in self.weights.items()})
            ),
            "whole_commune_population": float(self.whole_commune_population),
            "seeds": tuple((float(lon), float(lat)) for lon, lat in self.seeds),
            "seed_point_types": tuple(str(t) for t in self.seed_point_types),
            "locked": MappingProxyType({str(u): int(s) for u, s in self.locked.items()}),
            "sectors_per_part": tuple(int(s) for s in self.sectors_per_part),
            "compactness": float(self.compactness),
            "commune_cohesion": float(self.commune_cohesion),
            "barrier_preference": float(self.barrier_preference),
            "time_limit": float(self.time_limit),
            "objective_weight": float(self.objective_weight),
        }
        for name, value in normal.items():
            object.__setattr__(self, name, value)

    @property
    def cut_costs(self) -> CutCosts:
        """The cut-cost weights of the engine."""
        return CutCosts(
            compactness=self.compactness,
            commune_cohesion=self.commune_cohesion,
            barrier=self.barrier_preference,
        )

    def rng(self) -> np.random.Generator:
        """A new random generator of :attr:`seed` (one per run)."""
        return np.random.default_rng(self.seed)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON values (lists and dicts), one key per attribute.

        >>> DesignParameters(k=3, seeds=[(6.86, 47.64)]).to_dict()["seeds"]
        [[6.86, 47.64]]
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = dict(value)
            elif f.name == "seeds":
                value = [list(p) for p in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DesignParameters:
        """The parameters stored by :meth:`to_dict`; unknown keys are ignored, missing
        ones take their default.

        >>> DesignParameters.from_dict({"k": 5, "source": "secteurs.geojson"}).k
        5
        """
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def make_sectorizer(params: DesignParameters, seed_units: Sequence[str] = ()) -> Sectorizer:
    """The algorithm of :mod:`geo.sectorize` and its settings for ``params``.

    ``seed_units`` are the unit ids holding the fixed seeds (``params.seeds`` and the
    seed points, located in the unit graph): sector ``i`` contains ``seed_units[i]``.
    The whole-communes baseline ignores them, like ``locked`` and the cut costs.
    """
    engine: RegionGrowth
    if params.method == "exact":
        if params.sectors_per_part:
            raise InvalidInputError("exact_sectors_per_part", field="sectors_per_part")
        # The warm start minimises the exact model's own objective, the p-median distance.
        heuristic = make_sectorizer(
            dataclasses.replace(params, method="engine", objective="distance"), seed_units
        )
        if isinstance(heuristic, PartitionedDesign) and isinstance(heuristic.engine, RegionGrowth):
            # no regroup in the warm start: HiGHS re-partitions better (+4 s of CPU on
            # Belfort res 8, k = 8, communes whole, bench/RESULTS.md issue 25 part G)
            heuristic.engine.regroup_budget = 0
        exact = ExactDesign(
            params.k,
            target_workload=params.target_workload,
            tolerance=params.tolerance,
            whole_commune_population=params.whole_commune_population,
            seeds=seed_units,
            locked=params.locked,
            time_limit=params.time_limit,
            warm_start=heuristic,
        )
        assert isinstance(heuristic, PartitionedDesign)
        # a territory in parts whose split of k misses the band: the parts first
        return ExactParts(exact, heuristic)
    if params.method == "communes":
        engine = WholeCommunes(
            params.k, target_workload=params.target_workload, tolerance=params.tolerance
        )
        return PartitionedDesign(engine, params.sectors_per_part)
    engine = RegionGrowth(
        params.k,
        target_workload=params.target_workload,
        tolerance=params.tolerance,
        whole_commune_population=params.whole_commune_population,
        seeds=seed_units,
        locked=params.locked,
        costs=params.cut_costs,
        objective=params.objective,
        objective_weight=params.objective_weight,
    )
    return PartitionedDesign(engine, params.sectors_per_part)
