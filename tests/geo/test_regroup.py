"""The exact re-partition of neighbouring sectors (issue 25, part F): on a 2 x 4 grid of
atoms into three sectors, re-partitioning the three sectors at once reaches the optimum
found by enumerating the 3^8 plans, connected and in the band."""

from __future__ import annotations

import itertools

import numpy as np

from geo.sectorize.atoms import Atoms, pieces
from geo.sectorize.median import MedianSearch
from geo.sectorize.regroup import regroup

ROWS, COLS, K = 2, 4, 3
LOADS = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 6.0, 5.0, 4.0])


def _search() -> MedianSearch:
    y, x = np.divmod(np.arange(ROWS * COLS), COLS)
    xy = np.c_[x * 1000.0, y * 1000.0]
    adj = [
        [j for j in range(ROWS * COLS) if abs(x[i] - x[j]) + abs(y[i] - y[j]) == 1]
        for i in range(ROWS * COLS)
    ]
    atoms = Atoms(
        of=np.arange(ROWS * COLS),
        weight=LOADS,
        xy=xy,
        label=[None] * (ROWS * COLS),
        adj=adj,
        cost=[[1.0] * len(a) for a in adj],
        notes=(),
    )
    target = LOADS.sum() / K
    fixed = np.full(ROWS * COLS, -1)
    return MedianSearch(atoms, xy, LOADS, K, target * 0.9, target * 1.1, fixed)


def _feasible(ms: MedianSearch, plan: np.ndarray) -> bool:
    for s in range(K):
        members = np.flatnonzero(plan == s)
        load = ms.aw[members].sum()
        if not len(members) or len(pieces(members, ms.adj)) != 1:
            return False
        if not ms.lo - 1e-9 <= load <= ms.hi + 1e-9:
            return False
    return True


def test_three_sectors_re_partitioned_reach_the_enumerated_optimum() -> None:
    ms = _search()
    # hand check of the band: 30 / 3 = 10, ±10 % → 9 … 11
    assert (ms.lo, ms.hi) == (9.0, 11.0)
    plans = [np.array(p) for p in itertools.product(range(K), repeat=ROWS * COLS)]
    values = [ms.cost(p) for p in plans if _feasible(ms, p)]
    optimum = min(values)
    # a feasible start: {0, 1, 2} (load 5 + 1 + 4 = 10), {3, 6, 7} (2 + 5 + 4 = 11),
    # {4, 5} (3 + 6 = 9); shifts and swaps alone stop short of the optimum from it
    start = np.array([0, 0, 0, 1, 2, 2, 1, 1])
    assert _feasible(ms, start)
    assert ms.cost(ms.descend(start)) > optimum + 1e-6
    found = regroup(ms, start, sizes=(K,))
    assert _feasible(ms, found)
    assert abs(ms.cost(found) - optimum) < 1e-6
    # the band and contiguity bind: without either the best plan would be cheaper
    assert min(ms.cost(p) for p in plans if len(set(p.tolist())) == K) < optimum - 1.0
