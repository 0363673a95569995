"""The Hess model of :mod:`geo.sectorize.exact` in HiGHS, and the contiguity checks of its
solutions (see that module's docstring for the model and its references)."""

from __future__ import annotations

import math
import time

import highspy
import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import shortest_path

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


def sector_labels(inst: Instance, atom_sector: np.ndarray) -> np.ndarray:
    """Sector numbers for the solver's groups: a group holding fixed atoms takes their
    sector, the others the remaining numbers in the order of their first atom."""
    labels = np.full(int(atom_sector.max()) + 1, -1)
    for atom in np.flatnonzero(inst.fixed >= 0):
        labels[atom_sector[atom]] = inst.fixed[atom]
    free = iter(sorted(set(range(inst.k)) - set(labels[labels >= 0].tolist())))
    for group in dict.fromkeys(atom_sector.tolist()):
        if labels[group] < 0:
            labels[group] = next(free)
    return labels


#: The rings of separators around each atom, and around each centre's own atom, that the
#: model starts with (r = 1 is the neighbourhood of Validi et al.).
RINGS = 3
RINGS_AROUND_CENTRE = 2


def hop_distances(inst: Instance) -> np.ndarray:
    """The number of edges between every two atoms of the atom graph (``inf`` apart)."""
    n = inst.atoms.n
    src = [a for a in range(n) for _ in inst.atoms.adj[a]]
    dst = [b for a in range(n) for b in inst.atoms.adj[a]]
    graph = csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    return np.asarray(shortest_path(graph, unweighted=True))


class OutOfTime(Exception):
    """The model was not built by its deadline."""


def hess_model(
    inst: Instance,
    centres: np.ndarray,
    allowed: np.ndarray | None = None,
    deadline: float = math.inf,
) -> tuple[highspy.Highs, np.ndarray, np.ndarray]:
    """The model over the candidate ``centres`` (unit positions) and the pairs ``allowed``
    (atoms x centres, every pair when None; see :mod:`geo.sectorize.fixing`): the solver,
    the column of ``x[a, j]`` as ``var[a, j]`` (-1 for a pair left out), and each centre's
    own atom ``home[j]``. :class:`OutOfTime` past ``deadline`` (``time.monotonic()``)."""
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
    # ring separators: the atoms at r hops from a (or from atom(c)) separate a from
    # atom(c) when atom(c) is farther: x[a, c] ≤ Σ_{b: hops(a, b) = r} x[b, c], r < hops
    hops = hop_distances(inst)
    rings = [[np.flatnonzero(hops[a] == r) for r in range(1, RINGS + 1)] for a in range(n_a)]
    rr: list[int] = []
    cc: list[int] = []
    vv: list[float] = []
    n_rows = 0
    for i, (a, j) in enumerate(zip(a_of.tolist(), j_of.tolist(), strict=True)):
        if i % 4096 == 0 and time.monotonic() > deadline:
            raise OutOfTime
        h = int(home[j])
        for centre, depth in ((a, RINGS), (h, RINGS_AROUND_CENTRE)):
            for hop in range(1, int(min(depth + 1, hops[a, h]))):
                ring = rings[centre][hop - 1]
                col = var[ring, j]
                col = col[col >= 0]
                rr += [n_rows] * (1 + len(col))
                cc += [int(var[a, j]), *col.tolist()]
                vv += [1.0] + [-1.0] * len(col)
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
