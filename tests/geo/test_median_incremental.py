"""The distance heuristic's incremental structures against their from-scratch forms
(issue 25, part G): the engine's outside-neighbour counts kept by each move, the swap
prices pruned to the units that can be a minimum, and the swap prices kept from one
penalty of the oscillation to the next give exactly what recomputing them gives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.sectorize import median
from geo.sectorize.atoms import Atoms
from geo.sectorize.median import MedianSearch
from geo.sectorize.search import HOT_DISTANCE, SectorSearch, _band_gap
from geo.unit_graph import UnitGraph
from tests.geo.conftest import K


def _stripes(atoms: Atoms) -> np.ndarray:
    """Four contiguous sectors (bands of columns), far from balanced."""
    xy = atoms.xy
    order = np.argsort(np.argsort(xy[:, 0] + 1e-3 * xy[:, 1]))
    return (order * K // atoms.n).astype(int)


def _refreshed(search: SectorSearch, x: int, b: int) -> None:
    """The move with every count recomputed: x first, then its neighbours in order."""
    a = search.sector[x]
    search.sector[x] = b
    search.load[a] -= search.w[x]
    search.load[b] += search.w[x]
    search.size[a] -= 1
    search.size[b] += 1
    search._refresh(x)
    for y in search.adj[x]:
        search._refresh(y)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_moves_counts_equal_a_full_refresh(
    uneven_grid: tuple[UnitGraph, Atoms], seed: int
) -> None:
    """300 random moves: counts, boundaries and the movable list (its order too, which the
    repair's draws read) equal those of moves that recompute every count; and the counts
    equal a count from scratch."""
    _, atoms = uneven_grid
    rng = np.random.default_rng(seed)
    fixed = np.full(atoms.n, -1)
    fixed[0] = 0  # a fixed atom never listed as movable
    pair = [SectorSearch(atoms, K, 0.05, fixed, np.random.default_rng(0)) for _ in range(2)]
    for search in pair:
        search.sector = _stripes(atoms).tolist()
        search.sector[0] = 0
        search.load = np.bincount(search.sector, weights=atoms.weight, minlength=K).tolist()
        search.size = np.bincount(search.sector, minlength=K).tolist()
        search._init_boundary()
    incremental, reference = pair
    for _ in range(300):
        x = int(rng.integers(1, atoms.n))
        b = int(rng.integers(K))
        if b == incremental.sector[x]:
            continue
        incremental._move(x, b)
        _refreshed(reference, x, b)
        assert incremental.external == reference.external
        assert incremental.movable == reference.movable
        assert incremental.boundary == reference.boundary
        assert incremental.listed == reference.listed
    sector = incremental.sector
    assert incremental.external == [
        sum(sector[y] != sector[x] for y in atoms.adj[x]) for x in range(atoms.n)
    ]


def test_pruned_swap_prices_equal_every_unit(
    uneven_grid: tuple[UnitGraph, Atoms], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each swap's price with the units pruned equals the minimum over every unit of the
    sector, bit for bit, on random pairs of atom sets."""
    graph, atoms = uneven_grid
    monkeypatch.setattr(median, "PRUNE_UNITS", 1)  # prune even these small sectors
    monkeypatch.setattr(median, "PROBE", 2)
    target = float(atoms.weight.sum()) / K
    ms = MedianSearch(
        atoms, graph.centroids, graph.workload, K, 0.5 * target, 1.5 * target, np.full(atoms.n, -1)
    )
    ms._load_state(_stripes(atoms))
    rng = np.random.default_rng(3)
    pruned = 0
    for _ in range(40):
        s = int(rng.integers(K))
        inside = np.flatnonzero(ms.sector == s)
        outside = np.flatnonzero(ms.sector != s)
        out = np.sort(rng.choice(inside, size=min(3, len(inside) - 1), replace=False))
        into = np.sort(rng.choice(outside, size=4, replace=False))
        units = np.flatnonzero(ms.usec == s)
        expected = np.array(
            [
                [
                    min(
                        ms.col[s, u] - ms.M[x, u] + ms.M[y, u]
                        for u in units.tolist()
                        if ms.of[u] != x
                    )
                    for y in into.tolist()
                ]
                for x in out.tolist()
            ]
        )
        got = ms._pair_cost(s, out, into)
        assert np.array_equal(got, expected)
        leave = ms.col[s, units] - ms.M[np.ix_(out, units)]
        floor = np.where(ms.of[units][None, :] == out[:, None], np.inf, leave).min(0)
        pruned += int((floor + ms.M[np.ix_(into, units)].min(0) > expected.max()).sum())
    assert pruned > 0  # the pruning did drop units


def test_swap_prices_kept_across_penalties_change_nothing(
    uneven_grid: tuple[UnitGraph, Atoms], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Oscillation and descent from an unbalanced plan, with the swap prices kept from
    one penalty to the next and with them recomputed every round: the same plan, the same
    work counted."""
    graph, atoms = uneven_grid
    target = float(atoms.weight.sum()) / K
    runs = []
    original = MedianSearch._swap_round

    def forgetful(self: MedianSearch, rho: float | None = None) -> bool:
        self._swap_prices.clear()
        return original(self, rho)

    for keep in (True, False):
        ms = MedianSearch(
            atoms,
            graph.centroids,
            graph.workload,
            K,
            0.95 * target,
            1.05 * target,
            np.full(atoms.n, -1),
        )
        if not keep:
            monkeypatch.setattr(MedianSearch, "_swap_round", forgetful)
        ms._load_state(_stripes(atoms))
        ms._oscillate()
        plan = ms.descend(ms.sector)
        runs.append((plan.tolist(), ms.work))
    assert runs[0] == runs[1]
    assert len(set(runs[0][0])) == K


def test_a_swap_undone_leaves_the_state_of_one_applied_and_undone(
    uneven_grid: tuple[UnitGraph, Atoms],
) -> None:
    """For every pair of atoms on a border: the swap's connectivity answer and the state
    it leaves when refused (sums to the last bit, prices, loads) equal those of the swap
    applied, checked and undone move by move."""
    graph, atoms = uneven_grid
    target = float(atoms.weight.sum()) / K
    fast, slow = (
        MedianSearch(
            atoms,
            graph.centroids,
            graph.workload,
            K,
            0.5 * target,
            1.5 * target,
            np.full(atoms.n, -1),
        )
        for _ in range(2)
    )
    for ms in (fast, slow):
        ms._load_state(_stripes(atoms))
    checked = refused = 0
    for x in range(atoms.n):
        for y in atoms.adj[x]:
            a, b = int(slow.sector[x]), int(slow.sector[y])
            if a == b:
                continue
            answer = fast._swap_connected(x, y, a, b)
            assert np.array_equal(fast.sector, slow.sector)  # left as it was
            slow._apply(x, b)
            slow._apply(y, a)
            assert answer == (slow._connected(a) and slow._connected(b))
            slow._apply(y, b)
            slow._apply(x, a)
            fast._swap_undone(x, y, a, b)
            for name in ("col", "load", "cur", "usec", "size"):
                assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
            checked += 1
            refused += not answer
    assert checked > 40 and refused > 0


def _recounting_repair(search: SectorSearch, steps: int) -> None:
    """The repair's loop reading every atom's neighbouring sectors at every step."""
    gap = best_gap = search._total_gap()
    best = list(search.sector)
    temp = 0.5 * float(np.median(search.w)) + 1e-9 * (search.target + 1)
    cooling = 0.01 ** (1 / max(steps, 1))
    picks, targets, accept = (search.rng.random(steps) for _ in range(3))
    lo, hi = search.lo, search.hi
    for i in range(steps):
        temp *= cooling
        x = search.movable[int(picks[i] * len(search.movable))]
        a = search.sector[x]
        others = [search.sector[y] for y in search.adj[x] if search.sector[y] != a]
        b = others[int(targets[i] * len(others))]
        w, la, lb = search.w[x], search.load[a], search.load[b]
        delta = (
            _band_gap(la - w, lo, hi)
            + _band_gap(lb + w, lo, hi)
            - _band_gap(la, lo, hi)
            - _band_gap(lb, lo, hi)
        )
        if delta > 0 and accept[i] >= math.exp(-delta / temp):
            continue
        if not search._keeps_connected(x, a):
            continue
        search._move(x, b)
        gap += delta
        if gap < best_gap - 1e-9:
            best_gap, best = gap, list(search.sector)
            if best_gap <= 1e-9:
                break
    search.sector = best


def _recounting_anneal(search: SectorSearch, steps: int) -> None:
    """The annealing's loop (distance objective) reading every atom's neighbouring
    sectors at every step."""
    scale = search._delta_scale()
    relocate = max(search.atoms.n, 1)
    temp, final = HOT_DISTANCE * scale, 0.01 * scale
    cooling = (final / temp) ** (1 / max(steps, 1))
    accept, picks, targets = (search.rng.random(steps) for _ in range(3))
    for i in range(steps):
        temp *= cooling
        if i % relocate == relocate - 1:
            search.locate()
        x = search.movable[int(picks[i] * len(search.movable))]
        a = search.sector[x]
        others = [search.sector[y] for y in search.adj[x] if search.sector[y] != a]
        b = others[int(targets[i] * len(others))]
        w = search.w[x]
        if not (search._in_band(a, search.load[a] - w) and search._in_band(b, search.load[b] + w)):
            continue
        delta = search._delta(x, a, b)
        if delta > 0 and accept[i] >= math.exp(-delta / temp):
            continue
        if search._keeps_connected(x, a):
            search._move(x, b)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repair_and_annealing_keep_the_neighbouring_sectors_right(
    uneven_grid: tuple[UnitGraph, Atoms], seed: int
) -> None:
    """The repair and the annealing keep each atom's neighbouring sectors until a move
    touches them: the same moves and plans as the loops that read them at every step."""
    _, atoms = uneven_grid
    plans = []
    for phase in ("repair", "anneal"):
        for recount in (False, True):
            search = SectorSearch(
                atoms, K, 0.5, np.full(atoms.n, -1), np.random.default_rng(seed), 1.0
            )
            if phase == "repair":  # a band no integer load is in: it moves to the end
                search.lo = search.hi = search.target + 0.5
            search.sector = _stripes(atoms).tolist()
            search.load = np.bincount(search.sector, weights=atoms.weight, minlength=K).tolist()
            search.size = np.bincount(search.sector, minlength=K).tolist()
            search._init_boundary()
            moves: list[tuple[int, int]] = []
            move = search._move

            def recorded(x: int, b: int, move=move, moves=moves) -> None:
                moves.append((x, b))
                move(x, b)

            search._move = recorded  # type: ignore[method-assign]
            if phase == "anneal":
                search.start_objective()
                if recount:
                    _recounting_anneal(search, 2_000)
                else:
                    search.anneal(2_000)
            elif recount:
                _recounting_repair(search, 2_000)
            else:
                search.repair(2_000)
            plans.append((list(search.sector), moves))
    assert plans[0] == plans[1] and plans[2] == plans[3]  # the plans and every move
    assert len(plans[0][1]) > 50 and len(plans[2][1]) > 50
