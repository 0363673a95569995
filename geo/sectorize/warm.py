"""The warm start of the exact mode (:mod:`geo.sectorize.exact`): the best of a few plans
of the heuristic engine that are plans of the exact model.

The plans are drawn one after the other from the run's random generator while they take
less than a share of the time limit in CPU seconds, so that the same plans are drawn
under any load of the machine; the best one that meets every constraint of the model (the
band, whole atoms, sectors of one piece) is kept."""

from __future__ import annotations

import time

import numpy as np

from geo.errors import InfeasibleDesignError
from geo.sectorize.base import Sectorizer
from geo.sectorize.bound import Instance
from geo.sectorize.hess import contiguous
from geo.unit_graph import UnitGraph

#: Heuristic plans drawn for the warm start (the best one that meets the constraints): one
#: per :data:`SECONDS_PER_WARM_START` seconds of the time limit, at least
#: :data:`WARM_STARTS` (Belfort's 30 s: 5, as before) and at most :data:`MAX_WARM_STARTS`
#: (on the 14 km square, k = 12, the best of 5 draws was 1 314.0 m, of 20, 1 256.1 m;
#: bench/RESULTS.md part G)...
WARM_STARTS = 5
MAX_WARM_STARTS = 20
SECONDS_PER_WARM_START = 15.0
#: ... while they take less than this share of the time limit in CPU seconds (one plan at
#: least; CPU rather than wall time: the same warm start under any load).
WARM_START_SHARE = 0.2
WARM_START_WALL = 0.5  # ... and while the wall clock spent less than this share of it


def warm_starts(time_limit: float) -> int:
    """How many heuristic plans the warm start draws at most for a time limit.

    >>> warm_starts(30), warm_starts(120), warm_starts(300), warm_starts(1800)
    (5, 8, 20, 20)
    """
    wanted = int(time_limit // SECONDS_PER_WARM_START)
    return max(WARM_STARTS, min(MAX_WARM_STARTS, wanted))


def warm_start(
    heuristic: Sectorizer | None,
    time_limit: float,
    graph: UnitGraph,
    inst: Instance,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float] | None:
    """The best of :func:`warm_starts` plans of ``heuristic`` (one ``rng``, drawn in turn)
    as each atom's sector and its objective, among those that meet every constraint of
    the model (None if none does, or no heuristic)."""
    best: tuple[np.ndarray, float] | None = None
    started = time.process_time()  # CPU: as many plans under any load
    wall = time.monotonic()  # ... but a loaded machine's wall clock stops them too
    for _ in range(warm_starts(time_limit) if heuristic is not None else 0):
        assert heuristic is not None
        if (
            best is not None and time.process_time() - started > WARM_START_SHARE * time_limit
        ) or time.monotonic() - wall > WARM_START_WALL * time_limit:
            break
        try:
            plan = heuristic.solve(graph, rng=rng)
        except InfeasibleDesignError:
            return best
        if plan.k != inst.k or {v.constraint for v in plan.violations} - {"whole_commune"}:
            continue  # a commune in pieces is split, its pieces whole: checked below
        atom_sector = np.full(inst.atoms.n, -1)
        atom_sector[inst.atoms.of] = plan.assignment
        if (atom_sector[inst.atoms.of] != plan.assignment).any():
            continue  # an atom split: not a plan of the model
        if not contiguous(inst, atom_sector):
            continue
        value = inst.objective(atom_sector)
        if best is None or value < best[1]:
            best = (atom_sector, value)
    return best
