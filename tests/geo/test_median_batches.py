"""The distance heuristic's batched and shortened computations (issue 25, branch
res9speed25) against their plain forms: the shift and swap prices of many sectors at
once, the contiguity check searching both sides of a pinch, and the sectors' medians
located again only where members changed, from distances computed once."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from geo.sectorize import median
from geo.sectorize.atoms import Atoms, stays_connected
from geo.sectorize.median import MedianSearch
from geo.sectorize.median_prices import pair_cost, shift_prices, side_costs
from geo.sectorize.objective import median_atoms
from geo.sectorize.search import SectorSearch
from geo.unit_graph import UnitGraph
from tests.geo.conftest import SIDE, K


def _search(graph: UnitGraph, atoms: Atoms) -> MedianSearch:
    """A search on four column bands, far from balanced."""
    target = float(atoms.weight.sum()) / K
    ms = MedianSearch(
        atoms, graph.centroids, graph.workload, K, 0.95 * target, 1.05 * target,
        np.full(atoms.n, -1),
    )  # fmt: skip
    order = np.argsort(np.argsort(atoms.xy[:, 0] + 1e-3 * atoms.xy[:, 1]))
    ms._load_state((order * K // atoms.n).astype(int))
    return ms


def test_shift_prices_together_equal_the_definition(uneven_grid: tuple[UnitGraph, Atoms]) -> None:
    """Every boundary atom's price out of its sector and into each neighbouring sector,
    all sectors at once (padded rows): from the definition, to the last bit."""
    ms = _search(*uneven_grid)
    sec = ms.sector
    pairs = sorted(
        {(x, int(sec[y])) for x, y in zip(ms.ea, ms.eb, strict=True) if sec[y] != sec[x]}
    )
    out = np.unique([x for x, _ in pairs])
    into, into_s = np.array([x for x, _ in pairs]), np.array([s for _, s in pairs])
    args = (ms.M, ms.col, ms.of, ms.cur, ms._unit_list, out, sec[out], into, into_s)
    leaving, joining = shift_prices(*args)
    assert len({len(ms._unit_list(s)) for s in range(K)}) > 1  # rows of several widths
    for x, price in zip(out.tolist(), leaving.tolist(), strict=True):
        units = ms._unit_list(int(sec[x]))
        units = units[ms.of[units] != x]
        assert price == (ms.col[sec[x], units] - ms.M[x, units]).min() - ms.cur[sec[x]]
    for x, s, price in zip(into.tolist(), into_s.tolist(), joining.tolist(), strict=True):
        units = ms._unit_list(s)
        assert price == (ms.col[s, units] + ms.M[x, units]).min() - ms.cur[s]


@pytest.mark.parametrize("widths", [(16, 32, 64), (12,), ()])
def test_side_costs_together_equal_pair_by_pair(
    uneven_grid: tuple[UnitGraph, Atoms], widths: tuple[int, ...]
) -> None:
    """The swap costs of every pair of neighbouring sectors, both ways, all at once (the
    small sectors' swaps on narrower blocks or not), equal each pair's own matrix
    (pruned and not) to the last bit."""
    ms = _search(*uneven_grid)
    sec = ms.sector
    border: dict[tuple[int, int], set[int]] = {}
    for x, y in zip(ms.ea.tolist(), ms.eb.tolist(), strict=True):
        if sec[x] != sec[y]:
            border.setdefault((int(sec[x]), int(sec[y])), set()).add(x)
    sides = []
    for (a, b), xs in sorted(border.items()):
        ys = np.array(sorted(border[(b, a)]))
        sides += [(a, np.array(sorted(xs)), ys, False), (a, np.array(sorted(xs)), ys, True)]
    got = side_costs(ms.M, ms.col, ms.of, ms._unit_list, sides, widths)
    assert len(sides) >= 6
    for (s, out, into, flip), flat in zip(sides, got, strict=True):
        units = ms._unit_list(s)
        for probe in (0, 2):
            whole = pair_cost(ms.M, ms.col[s, units], units, ms.of[units], out, into, probe)
            assert np.array_equal(flat, (whole.T if flip else whole).ravel())


def test_the_oscillation_is_the_same_whatever_is_batched(
    uneven_grid: tuple[UnitGraph, Atoms], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Oscillation and descent from an unbalanced plan with every pair's swap costs
    batched, and with none: the same plan, the same work counted."""
    runs = []
    for large in (10**9, 0):
        monkeypatch.setattr(median, "SIDE_CELLS", large)
        ms = _search(*uneven_grid)
        ms._oscillate()
        runs.append((ms.descend(ms.sector).tolist(), ms.work))
    assert runs[0] == runs[1]
    assert len(set(runs[0][0])) == K


def _connected_without(adj: list[list[int]], sector: list[int], x: int, a: int) -> bool:
    rest = [y for y, s in enumerate(sector) if s == a and y != x]
    if not rest:
        return False
    seen, queue = {rest[0]}, deque([rest[0]])
    while queue:
        for z in adj[queue.popleft()]:
            if z != x and z not in seen and sector[z] == a:
                seen.add(z)
                queue.append(z)
    return len(seen) == len(rest)


def test_stays_connected_equals_a_full_search(uneven_grid: tuple[UnitGraph, Atoms]) -> None:
    """Every atom of every sector, on grown plans and on a ring around a hole (where the
    two sides of a corner meet again): the answer of a search of the whole sector."""
    _, atoms = uneven_grid
    plans = []
    for seed in range(6):
        search = SectorSearch(atoms, K, 0.05, np.full(atoms.n, -1), np.random.default_rng(seed))
        rng = np.random.default_rng(seed)
        search.grow(rng.choice(atoms.n, K, replace=False).tolist())
        plans.append(list(search.sector))
    ring = np.maximum(*np.abs(np.divmod(np.arange(SIDE * SIDE), SIDE) - np.array(3)[None]))
    plans.append(np.minimum(ring, 2).tolist())  # centre 0, square ring 1 around it, 2 outside
    pinches = 0
    for sector in plans:
        for x, a in enumerate(sector):
            size = sector.count(a)
            expected = _connected_without(atoms.adj, sector, x, a)
            assert stays_connected(atoms.adj, sector, x, a, size) == expected
            around = [y for y in atoms.adj[x] if sector[y] == a]
            pinches += len(around) > 1 and not any(
                z in around for y in around for z in atoms.adj[y]
            )
    assert pinches > 10  # the searches of both sides did run


def test_medians_located_where_members_changed_equal_a_full_location(
    uneven_grid: tuple[UnitGraph, Atoms],
) -> None:
    """200 random moves of the engine under the distance objective, the centres located
    after each: those of a location of every sector from scratch."""
    _, atoms = uneven_grid
    rng = np.random.default_rng(3)
    search = SectorSearch(atoms, K, 0.05, np.full(atoms.n, -1), np.random.default_rng(0), 1.0)
    search.grow([0, SIDE - 1, SIDE * (SIDE - 1), SIDE * SIDE - 1])
    search.start_objective()
    weight = np.asarray(search.wd)
    for _ in range(200):
        x = int(rng.integers(atoms.n))
        others = [search.sector[y] for y in atoms.adj[x] if search.sector[y] != search.sector[x]]
        if others and search._keeps_connected(x, search.sector[x]):
            search._move(x, others[0])
        before = search.centre.copy()
        search.locate()
        sector = np.asarray(search.sector)
        assert search.centre.tolist() == median_atoms(atoms.xy, weight, sector, K, before).tolist()
