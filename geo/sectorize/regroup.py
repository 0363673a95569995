"""Large-neighbourhood search for the distance objective: neighbouring sectors
re-partitioned exactly.

Where atoms are lumpy (communes kept whole), the in-band plans are few and far apart: a
better plan may differ by several whole communes moving across three or four sectors at
once, which no sequence of in-band shifts and swaps of
:class:`~geo.sectorize.median.MedianSearch` reaches. :func:`regroup` takes the atoms of
``t`` neighbouring sectors (``t`` = 2, 3, then 4) and solves their p-median exactly with
HiGHS: ``x[a, c]`` atom ``a`` to the sector whose median is unit ``c``, ``y[c]`` unit
``c`` a median, ``t`` medians, each median's own atom with it, every sector in the band;
contiguity by cuts separated in a loop (Validi, Buchanan & Lykhovyd 2022): a piece ``C``
of a sector cut off from its median's atom gets ``x[a, c] ≤ Σ_{b ∈ N(C)} x[b, c]`` for
every ``a`` of ``C``. A better re-partition replaces the sectors, the plan is descended
again and the search goes on until no neighbourhood improves it or its work budget (in
the search's counted operations, not seconds) is spent.

Neighbourhoods holding a fixed atom, or more than :data:`MAX_ATOMS` atoms, are skipped.

* Validi, H., Buchanan, A., Lykhovyd, E. (2022). Imposing contiguity constraints in
  political districting models. *Operations Research* 70(2), 867-892.
"""

from __future__ import annotations

import highspy
import numpy as np
from scipy.sparse import coo_matrix

from geo.sectorize.atoms import pieces
from geo.sectorize.median import MedianSearch

#: The most atoms in one neighbourhood's model (20 left two of five seeds of Belfort
#: res 8, k = 8, communes whole, at +5.3 %; 28 brings all five to the optimum).
MAX_ATOMS = 28
#: Candidate median units per atom (those nearest, weighted, to the neighbourhood).
PER_ATOM = 2
#: Contiguity rounds per model before the neighbourhood is given up.
CUT_ROUNDS = 30
#: The work budget of one :func:`regroup`, in the search's operations (a model counts
#: its variables per solve).
REGROUP_WORK = 400_000
_REL = 1e-9


def regroup(
    ms: MedianSearch,
    sector: np.ndarray,
    budget: int = REGROUP_WORK,
    sizes: tuple[int, ...] = (2, 3, 4),
) -> np.ndarray:
    """``sector`` improved by exact re-partitions of ``t`` neighbouring sectors; the plan
    must be in the band, and stays in it."""
    plan = ms.descend(np.asarray(sector, dtype=int))
    stop = ms.work + budget
    tol = _REL * ms.total * max(float(ms.cur.sum()) / ms.total, 1.0)
    improved = True
    while improved and ms.work < stop:
        improved = False
        for t in sizes:
            for group in _groups(ms, plan, t):
                if ms.work >= stop:
                    return plan
                members = np.flatnonzero(np.isin(plan, group))
                if len(members) > MAX_ATOMS or (ms.fixed[members] >= 0).any():
                    continue
                now = float(ms.cur[list(group)].sum())
                found = _solve(ms, members, len(group), now - tol)
                if found is None:
                    continue
                value, labels = found
                if value >= now - tol:
                    continue
                trial = plan.copy()
                trial[members] = np.asarray(group)[labels]
                plan = ms.descend(trial)
                improved = True
                break
            if improved:
                break
    return plan


def _groups(ms: MedianSearch, plan: np.ndarray, t: int) -> list[tuple[int, ...]]:
    """Every set of ``t`` sectors connected in the plan's sector adjacency, sorted."""
    sa, sb = plan[ms.ea], plan[ms.eb]
    near: dict[int, set[int]] = {s: set() for s in range(ms.k)}
    for a, b in zip(sa.tolist(), sb.tolist(), strict=True):
        if a != b:
            near[a].add(b)
    frontier: set[tuple[int, ...]] = {(s,) for s in range(ms.k)}
    for _ in range(t - 1):
        grown: set[tuple[int, ...]] = set()
        for g in frontier:
            for s in g:
                for b in near[s]:
                    if b not in g:
                        grown.add(tuple(sorted((*g, b))))
        frontier = grown
    return sorted(frontier)


def _solve(
    ms: MedianSearch, members: np.ndarray, t: int, upper: float
) -> tuple[float, np.ndarray] | None:
    """The p-median of ``members`` (atoms) into ``t`` connected sectors in the band: its
    cost (sum of weighted distances) and each member's sector (0 … t-1), or None."""
    m = len(members)
    local = {int(a): i for i, a in enumerate(members.tolist())}
    # candidate medians: each atom's PER_ATOM units nearest (weighted) to the members
    units = np.concatenate(
        [(u := np.flatnonzero(ms.of == a))[np.argsort(ms.M[members][:, u].sum(0))[:PER_ATOM]]
         for a in members.tolist()]
    )  # fmt: skip
    n_u = len(units)
    home = np.array([local[int(ms.of[u])] for u in units])
    n_x = m * n_u  # x[i, j] at i * n_u + j, then y[j] at n_x + j
    n = n_x + n_u
    cost = np.r_[ms.M[np.ix_(members, units)].ravel(), np.zeros(n_u)]
    w = ms.aw[members]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lower: list[float] = []
    upper_b: list[float] = []
    r = 0

    def add(c: np.ndarray, v: np.ndarray, lo: float, up: float) -> None:
        nonlocal r
        rows.append(np.full(len(c), r))
        cols.append(c)
        vals.append(v)
        lower.append(lo)
        upper_b.append(up)
        r += 1

    grid = np.arange(n_x).reshape(m, n_u)
    for i in range(m):  # each atom in one sector
        add(grid[i], np.ones(n_u), 1.0, 1.0)
    add(n_x + np.arange(n_u), np.ones(n_u), t, t)  # t medians
    for j in range(n_u):
        y = n_x + j
        for i in range(m):  # x ≤ y
            add(np.array([grid[i, j], y]), np.array([1.0, -1.0]), -np.inf, 0.0)
        # the median's own atom with it
        add(np.array([grid[home[j], j], y]), np.array([1.0, -1.0]), 0.0, 0.0)
        # the band
        add(np.r_[grid[:, j], y], np.r_[w, -ms.lo], 0.0, np.inf)
        add(np.r_[grid[:, j], y], np.r_[w, -ms.hi], -np.inf, 0.0)
    matrix = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n)
    ).tocsc()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.setOptionValue("objective_bound", upper)  # no better plan: stop early
    # no "threads": one HiGHS scheduler per process (see geo.sectorize.hess)
    h.passModel(
        n, r, matrix.nnz, 1, 1, 0.0, cost, np.zeros(n), np.ones(n),
        np.array(lower), np.array(upper_b),
        matrix.indptr, matrix.indices, matrix.data, np.ones(n, dtype=np.int32),
    )  # fmt: skip
    adj = [[local[b] for b in ms.adj[a] if b in local] for a in members.tolist()]
    for _ in range(CUT_ROUNDS):
        ms.work += n
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        value = float(h.getInfo().objective_function_value)
        if value >= upper:
            return None  # cuts only raise it
        x = np.asarray(h.getSolution().col_value)
        assign = x[:n_x].reshape(m, n_u).argmax(1)
        medians = np.flatnonzero(x[n_x:] > 0.5)
        cuts: list[tuple[np.ndarray, np.ndarray]] = []
        for j in medians.tolist():
            group = np.flatnonzero(assign == j)
            for piece in pieces(group, adj):
                if home[j] in piece:
                    continue
                inside = set(piece)
                border = sorted({b for a in piece for b in adj[a] if b not in inside})
                for a in sorted(piece):
                    c = np.r_[grid[a, j], grid[border, j]].astype(np.int32)
                    cuts.append((c, np.r_[1.0, -np.ones(len(border))]))
        if not cuts:
            labels = np.searchsorted(medians, assign)
            return value, labels
        starts = np.cumsum([0] + [len(c) for c, _ in cuts[:-1]]).astype(np.int32)
        h.addRows(
            len(cuts),
            np.full(len(cuts), -np.inf),
            np.zeros(len(cuts)),
            sum(len(c) for c, _ in cuts),
            starts,
            np.concatenate([c for c, _ in cuts]),
            np.concatenate([v for _, v in cuts]),
        )
    return None
