"""The exact re-partition of neighbouring sectors (issue 25, part F): on a 2 x 4 grid of
atoms into three sectors, re-partitioning the three sectors at once reaches the optimum
found by enumerating the 3^8 plans, connected and in the band."""

from __future__ import annotations

import itertools

import numpy as np

from geo.sectorize.atoms import Atoms, pieces
from geo.sectorize.median import MedianSearch
from geo.sectorize.regroup import Proofs, _covered, _groups, _Model, fits, regroup

ROWS, COLS, K = 2, 4, 3
LOADS = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 6.0, 5.0, 4.0])


def _search(band: float = 0.1) -> MedianSearch:
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
    return MedianSearch(atoms, xy, LOADS, K, target * (1 - band), target * (1 + band), fixed)


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


def _best_split(ms: MedianSearch, members: np.ndarray, t: int) -> float:
    """The cheapest split of ``members`` into ``t`` connected sectors in the band, each
    served from its own median unit (enumerated), or inf."""
    best = np.inf
    for labels in itertools.product(range(t), repeat=len(members)):
        total = 0.0
        for s in range(t):
            sec = members[np.array(labels) == s]
            load = ms.aw[sec].sum()
            if not len(sec) or len(pieces(sec, ms.adj)) != 1:
                break
            if not ms.lo - 1e-9 <= load <= ms.hi + 1e-9:
                break
            total += float(ms.M[np.ix_(sec, sec)].sum(0).min())
        else:
            best = min(best, total)
    return best


def test_the_lp_bound_never_rejects_a_neighbourhood_that_improves() -> None:
    """Every neighbourhood (2 or 3 sectors) of every feasible plan of the grid: the LP
    bound with its contiguity cuts is at most the enumerated best split, so a
    neighbourhood whose best split is cheaper than its present cost is never rejected,
    and the MIP then finds that split."""
    ms = _search(0.3)  # band 7 … 13: many feasible plans, the band still binding
    assert (ms.lo, ms.hi) == (7.0, 13.0)
    plans = [np.array(p) for p in itertools.product(range(K), repeat=ROWS * COLS)]
    feasible = [p for p in plans if p[0] == 0 and _feasible(ms, p)]  # sector 0 first
    assert len(feasible) > 10
    seen: set[tuple[tuple[int, ...], int]] = set()
    best_of: dict[tuple[tuple[int, ...], int], float] = {}
    checked: set[tuple[tuple[tuple[int, ...], int], float]] = set()
    improving = 0
    for plan in feasible:
        ms._load_state(plan)
        for group in [g for t in (2, 3) for g in _groups(ms, plan, t)]:
            members = np.flatnonzero(np.isin(plan, group))
            key = (tuple(members.tolist()), len(group))
            now = float(ms.cur[list(group)].sum())
            if (key, round(now, 6)) in checked:
                continue
            checked.add((key, round(now, 6)))
            if key not in best_of:
                best_of[key] = _best_split(ms, members, len(group))
            best = best_of[key]
            model = _Model(ms, members, len(group))
            found = model.solve(ms, now - 1e-6, mip=False)
            assert model.bound <= best + 1e-6, (key, model.bound, best)
            if best < now - 1e-6:
                improving += 1
                assert model.bound < now - 1e-6  # not rejected
                if found is None:
                    found = model.solve(ms, now - 1e-6, mip=True)
                assert found is not None
                value = sum(
                    float(ms.M[np.ix_(sec, sec)].sum(0).min())
                    for s in range(len(group))
                    if len(sec := members[found == s])
                )
                assert abs(value - best) < 1e-6
            seen.add(key)
    # the check is not vacuous: neighbourhoods that improve, and many distinct ones
    assert improving >= 5 and len(seen) >= 8 and len(checked) >= 20


def test_proofs_are_kept_by_atoms_not_by_sector_numbers() -> None:
    """Proofs from one search serve another: from a second start whose sectors hold the
    same atoms under other numbers the search still reaches the optimum, and a plan at
    the optimum is not modelled again."""
    ms = _search()
    proofs = Proofs()
    start = np.array([0, 0, 0, 1, 2, 2, 1, 1])
    first = regroup(ms, start, sizes=(K,), proofs=proofs)
    models = proofs.models
    # the same start, its sectors renumbered: same atoms, the bound already proven
    again = regroup(ms, (start + 1) % K, sizes=(K,), proofs=proofs)
    assert abs(ms.cost(again) - ms.cost(first)) < 1e-9
    assert proofs.models == models  # nothing modelled again
    # a plan at the optimum: its one neighbourhood is rejected by its proof
    regroup(ms, first, sizes=(K,), proofs=proofs)
    assert proofs.models == models


def test_groups_inside_a_modelled_group_are_left_to_it() -> None:
    """The sweep models only the largest groups: on the grid (band 7 … 13), from every
    feasible plan, each pair of neighbouring sectors lies in the one group of three
    (8 atoms), whose enumerated best split is never dearer than the pair's best split
    with the third sector kept, and the search models that group alone; where the group
    of three is too large to model, the pairs are modelled."""
    import geo.sectorize.regroup as module

    ms = _search(0.3)
    plans = [np.array(p) for p in itertools.product(range(K), repeat=ROWS * COLS)]
    feasible = [p for p in plans if p[0] == 0 and _feasible(ms, p)]
    members = np.arange(ROWS * COLS)
    whole = _best_split(ms, members, K)
    pairs = 0
    best_of: dict[tuple[int, ...], float] = {}
    for plan in feasible:
        ms._load_state(plan)
        assert _covered(ms, plan, (2, 3)) >= set(_groups(ms, plan, 2))
        for pair in _groups(ms, plan, 2):
            (third,) = set(range(K)) - set(pair)
            inside = np.flatnonzero(np.isin(plan, pair))
            kept = float(ms.cur[third])
            key = tuple(inside.tolist())
            if key not in best_of:
                best_of[key] = _best_split(ms, inside, 2)
            assert whole <= best_of[key] + kept + 1e-6
            pairs += 1
        proofs = Proofs()
        regroup(ms, plan, sizes=(2, 3), proofs=proofs)
        assert proofs.models <= 1  # the group of three only (or none: already proven)
    assert pairs > 10
    saved = module.MAX_ATOMS
    try:
        module.MAX_ATOMS = ROWS * COLS - 1  # the group of three cannot be modelled
        plan = feasible[0]
        assert not _covered(ms, plan, (2, 3))
        proofs = Proofs()
        regroup(ms, plan, sizes=(2, 3), proofs=proofs)
        assert proofs.models >= 1  # the pairs
    finally:
        module.MAX_ATOMS = saved


def test_fits_needs_two_neighbouring_sectors_small_enough() -> None:
    ms = _search()
    plan = np.array([0, 0, 0, 1, 2, 2, 1, 1])
    assert fits(ms, plan)
    import geo.sectorize.regroup as module

    saved = module.MAX_ATOMS
    try:
        module.MAX_ATOMS = 4  # the smallest pair: {0, 1, 2} and {4, 5}, 5 atoms
        assert not fits(ms, plan)
        module.MAX_ATOMS = 5
        assert fits(ms, plan)
    finally:
        module.MAX_ATOMS = saved


def test_regroup_stops_only_where_no_neighbourhood_improves() -> None:
    """From every feasible plan of the grid (band 7 … 13), the search's result is in the
    band, connected, and no neighbourhood of 2 or 3 of its sectors has a cheaper split
    (enumerated): no pruning rule (LP bound, kept proofs, MIP order) stops it early."""
    ms = _search(0.3)
    plans = [np.array(p) for p in itertools.product(range(K), repeat=ROWS * COLS)]
    feasible = [p for p in plans if p[0] == 0 and _feasible(ms, p)]
    best_of: dict[tuple[tuple[int, ...], int], float] = {}
    for start in feasible:
        found = regroup(ms, start, sizes=(2, 3))
        assert _feasible(ms, found)
        ms._load_state(found)
        for group in [g for t in (2, 3) for g in _groups(ms, found, t)]:
            members = np.flatnonzero(np.isin(found, group))
            key = (tuple(members.tolist()), len(group))
            if key not in best_of:
                best_of[key] = _best_split(ms, members, len(group))
            assert best_of[key] >= float(ms.cur[list(group)].sum()) - 1e-6, (start, group)


def _model_rows(model: _Model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The model's matrix (dense), row bounds and column upper bounds, as HiGHS holds
    them."""
    import highspy

    lp = model.h.getLp()
    a = lp.a_matrix_
    start, index, value = np.asarray(a.start_), np.asarray(a.index_), np.asarray(a.value_)
    dense = np.zeros((lp.num_row_, lp.num_col_))
    rowwise = a.format_ == highspy.MatrixFormat.kRowwise
    for k in range(lp.num_row_ if rowwise else lp.num_col_):
        for p in range(start[k], start[k + 1]):
            if rowwise:
                dense[k, index[p]] = value[p]
            else:
                dense[index[p], k] = value[p]
    return dense, np.asarray(lp.row_lower_), np.asarray(lp.row_upper_), np.asarray(lp.col_upper_)


def test_every_connected_split_in_the_band_satisfies_the_model_and_its_cuts() -> None:
    """The model's reductions are exact: on every neighbourhood of 3 sectors of the grid
    (bands 9 … 11 and 7 … 13), every split into connected sectors in the band, with any
    member of each sector as its median, satisfies every row of the model (the one-atom
    cuts over minimal separators), the columns fixed to 0 by the lightest path to the
    median's atom, and every contiguity cut separated from any support, connected or not
    (so no pruning removes a plan the search could reach)."""
    rng = np.random.default_rng(0)
    checked = cut_rows = fixed = 0
    for band in (0.1, 0.3):
        ms = _search(band)
        members = np.arange(ROWS * COLS)
        model = _Model(ms, members, K)
        dense, lower, upper, col_upper = _model_rows(model)
        fixed += int((col_upper[: model.n_x] == 0).sum())
        cuts = []
        for _ in range(40):  # the cuts of random supports, most of them disconnected
            support = rng.random((model.m, model.n_u)) < 0.3
            cuts.extend(model._cuts(support))
        cut_rows += len(cuts)
        xs = _splits(ms, model, members)
        assert (xs <= col_upper[:, None] + 1e-9).all()
        rows = dense @ xs
        assert (rows >= lower[:, None] - 1e-9).all() and (rows <= upper[:, None] + 1e-9).all()
        cut = np.zeros((len(cuts), model.n))
        for r, (cols, vals) in enumerate(cuts):
            cut[r, cols] = vals
        assert (cut @ xs <= 1e-9).all()
        checked += xs.shape[1]
    # not vacuous: many plans, columns fixed, separators shorter than the whole border
    assert checked > 100 and fixed > 0 and cut_rows > 100


def _splits(ms: MedianSearch, model: _Model, members: np.ndarray) -> np.ndarray:
    """Every split of ``members`` into K connected sectors in the band, with any member
    of each sector as its median, as the model's variables (one column per split)."""
    plans = []
    for labels in itertools.product(range(K), repeat=len(members)):
        sectors = [members[np.array(labels) == s] for s in range(K)]
        if any(
            not len(sec)
            or len(pieces(sec, ms.adj)) != 1
            or not ms.lo - 1e-9 <= ms.aw[sec].sum() <= ms.hi + 1e-9
            for sec in sectors
        ):
            continue
        for medians in itertools.product(*sectors):
            x = np.zeros(model.n)
            for sec, median in zip(sectors, medians, strict=True):
                j = int(np.flatnonzero(model.home == median)[0])
                x[model.grid[sec, j]] = 1.0
                x[model.n_x + j] = 1.0
            plans.append(x)
    return np.array(plans).T


def test_reduced_cost_fixing_keeps_every_split_below_the_cost() -> None:
    """Before its MIP, a model whose LP was left fractional fixes to 0 the variables its
    reduced costs rule out below ``upper``: for every ``upper`` between the LP's value
    and the dearest split (grid, band 7 … 13, the three sectors together), every split
    cheaper than ``upper`` keeps its variables free, and the MIP finds the cheapest."""
    ms = _search(0.3)
    members = np.arange(ROWS * COLS)
    xs = _splits(ms, _Model(ms, members, K), members)
    values = np.unique(np.round(_Model(ms, members, K).h.getLp().col_cost_ @ xs, 6))
    assert len(values) > 20
    fixed = 0
    for upper in values[1 :: max(1, len(values) // 12)].tolist():
        model = _Model(ms, members, K)
        assert model.solve(ms, upper, mip=False) is None  # fractional: left to the MIP
        assert model._relaxed is not None
        model._fix_by_reduced_costs(upper)
        fixed += model.fixed
        bound = np.asarray(model.h.getLp().col_upper_)
        cost = np.asarray(model.h.getLp().col_cost_)
        cheaper = xs[:, cost @ xs < upper - 1e-6]
        assert (cheaper <= bound[:, None] + 1e-9).all(), upper
        found = model.solve(ms, upper, mip=True)
        assert found is not None
        value = sum(
            float(ms.M[np.ix_(sec, sec)].sum(0).min())
            for s in range(K)
            if len(sec := members[found == s])
        )
        assert abs(value - values[0]) < 1e-6
    assert fixed > 0  # not vacuous
