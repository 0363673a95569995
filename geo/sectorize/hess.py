"""The Hess model of :mod:`geo.sectorize.exact` in HiGHS, and the contiguity checks of its
solutions (see that module's docstring for the model and its references)."""

from __future__ import annotations

import highspy
import numpy as np
from scipy.sparse import coo_matrix

from geo.sectorize.bound import Instance


def components(inst: Instance, members: np.ndarray) -> list[list[int]]:
    """The pieces of a set of atoms over the atom graph (open edges and island links)."""
    inside = set(members.tolist())
    seen: set[int] = set()
    parts: list[list[int]] = []
    for a in members.tolist():
        if a in seen:
            continue
        part, stack = [a], [a]
        seen.add(a)
        while stack:
            v = stack.pop()
            for b in inst.atoms.adj[v]:
                if b in inside and b not in seen:
                    seen.add(b)
                    part.append(b)
                    stack.append(b)
        parts.append(part)
    return parts


def contiguous(inst: Instance, atom_sector: np.ndarray) -> bool:
    """Whether every sector of the atoms' assignment is of one piece."""
    return all(
        len(components(inst, np.flatnonzero(atom_sector == s))) == 1 for s in np.unique(atom_sector)
    )


def repair(inst: Instance, group: np.ndarray) -> np.ndarray | None:
    """A plan of one piece near ``group`` (each atom's sector ``0 … k-1``), or None.

    In each sector in pieces, the piece holding most workload stays; every other piece
    joins the lightest neighbouring sector that stays within the band while the sector
    it leaves does too. Pieces holding fixed atoms (seeds, locks) never move."""
    group = group.copy()
    weight = inst.atoms.weight
    load = np.bincount(group, weights=weight, minlength=inst.k)
    for _ in range(3):
        moved = False
        for s in range(inst.k):
            parts = components(inst, np.flatnonzero(group == s))
            if len(parts) < 2:
                continue
            parts.sort(key=lambda p: -float(weight[p].sum()))
            for part in parts[1:]:
                if (inst.fixed[part] >= 0).any():
                    return None
                w = float(weight[part].sum())
                if load[s] - w < inst.lo - 1e-9:
                    continue
                near = {int(group[b]) for a in part for b in inst.atoms.adj[a]} - {s}
                fits = [t for t in near if load[t] + w <= inst.hi + 1e-9]
                if not fits:
                    continue
                t = min(fits, key=lambda t: load[t])
                group[part] = t
                load[s] -= w
                load[t] += w
                moved = True
        if not moved:
            break
    if not contiguous(inst, group):
        return None
    if (load < inst.lo - 1e-9).any() or (load > inst.hi + 1e-9).any():
        return None
    return group


def hess_model(
    inst: Instance, centres: np.ndarray, allowed: np.ndarray | None = None
) -> tuple[highspy.Highs, np.ndarray, np.ndarray]:
    """The model over the candidate ``centres`` (unit positions) and the pairs ``allowed``
    (atoms x centres, every pair when None; see :mod:`geo.sectorize.fixing`): the solver,
    the column of ``x[a, j]`` as ``var[a, j]`` (-1 for a pair left out), and each centre's
    own atom ``home[j]``."""
    n_a, m = inst.atoms.n, len(centres)
    home = inst.home[centres]
    if allowed is None:
        allowed = np.ones((n_a, m), dtype=bool)
    allowed = allowed.copy()
    allowed[home, np.arange(m)] = True
    n_x = int(allowed.sum())
    var = np.full((n_a, m), -1)
    var[allowed] = np.arange(n_x)
    a_of, j_of = np.nonzero(allowed)  # row-major: the order of the columns
    y = var[home, np.arange(m)]
    own = a_of == home[j_of]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    count = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray, lo: np.ndarray, up: np.ndarray) -> None:
        nonlocal count
        rows.append(r + count)
        cols.append(c)
        vals.append(v)
        lower.append(lo)
        upper.append(up)
        count += len(lo)

    ones = np.ones(n_x)
    # each atom has one centre
    add(a_of, np.arange(n_x), ones, np.ones(n_a), np.ones(n_a))
    # k centres
    add(np.zeros(m, dtype=int), y, np.ones(m), np.array([inst.k]), np.array([inst.k]))
    # x[a, c] ≤ y_c
    free = np.flatnonzero(~own)
    r = np.arange(len(free))
    add(
        np.r_[r, r],
        np.r_[free, y[j_of[free]]],
        np.r_[np.ones(len(r)), -np.ones(len(r))],
        np.full(len(r), -np.inf),
        np.zeros(len(r)),
    )
    # balance: lo·y ≤ Σ W_a x[a, c] ≤ hi·y
    w = inst.atoms.weight
    for bound, lo_up in ((inst.hi, "up"), (inst.lo, "lo")):
        coef = w[a_of].astype(float).copy()
        coef[own] -= bound
        inf = np.full(m, np.inf)
        add(
            j_of,
            np.arange(n_x),
            coef,
            -inf if lo_up == "up" else np.zeros(m),
            np.zeros(m) if lo_up == "up" else inf,
        )
    # neighbourhood separators (a not next to atom(c)): x[a, c] ≤ Σ_{b ∈ N(a)} x[b, c]
    adj = inst.atoms.adj
    rr: list[int] = []
    cc: list[int] = []
    vv: list[float] = []
    n_rows = 0
    for a, j in zip(a_of.tolist(), j_of.tolist(), strict=True):
        h = int(home[j])
        if a == h or h in adj[a]:
            continue
        near = [int(var[b, j]) for b in adj[a] if var[b, j] >= 0]
        rr += [n_rows] * (1 + len(near))
        cc += [int(var[a, j]), *near]
        vv += [1.0] + [-1.0] * len(near)
        n_rows += 1
        # and the ring around the centre: x[a, c] ≤ Σ_{b ∈ N(atom(c))} x[b, c]
        ring = [int(var[b, j]) for b in adj[h] if var[b, j] >= 0]
        rr += [n_rows] * (1 + len(ring))
        cc += [int(var[a, j]), *ring]
        vv += [1.0] + [-1.0] * len(ring)
        n_rows += 1
    add(
        np.array(rr, dtype=int),
        np.array(cc, dtype=int),
        np.array(vv),
        np.full(n_rows, -np.inf),
        np.zeros(n_rows),
    )
    # fixed sectors: atoms of one sector share their centre, atoms of two sectors never do
    groups = [np.flatnonzero(inst.fixed == s) for s in range(inst.k)]
    groups = [g for g in groups if len(g)]

    def pair(a: int, b: int, sign: float, lo: float, up: float) -> None:
        js = np.arange(m)
        ra, rb = var[a], var[b]
        both = (ra >= 0) | (rb >= 0)
        js = js[both]
        r_a = np.flatnonzero(ra[js] >= 0)
        r_b = np.flatnonzero(rb[js] >= 0)
        add(
            np.r_[r_a, r_b],
            np.r_[ra[js][r_a], rb[js][r_b]],
            np.r_[np.ones(len(r_a)), sign * np.ones(len(r_b))],
            np.full(len(js), lo),
            np.full(len(js), up),
        )

    for g in groups:
        for a in g[1:]:
            pair(int(a), int(g[0]), -1.0, 0.0, 0.0)
    for i, g in enumerate(groups):
        for h2 in groups[i + 1 :]:
            pair(int(g[0]), int(h2[0]), 1.0, -np.inf, 1.0)
    matrix = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(count, n_x),
    ).tocsc()
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("mip_rel_gap", 1e-4)
    # No "threads" option: HiGHS runs one task scheduler per process, made by the first
    # solve with its thread count; a later model asking for another count is refused
    # (the camera-site cover of geo/coverage solves with the default).
    solver.passModel(
        n_x,
        count,
        matrix.nnz,
        1,  # column-wise
        1,  # minimise
        0.0,
        inst.cost[:, centres][allowed],
        np.zeros(n_x),
        np.ones(n_x),
        np.concatenate(lower),
        np.concatenate(upper),
        matrix.indptr,
        matrix.indices,
        matrix.data,
        np.ones(n_x, dtype=np.int32),
    )
    return solver, var, home
