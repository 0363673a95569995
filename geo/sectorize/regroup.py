"""Large-neighbourhood search for the distance objective: neighbouring sectors
re-partitioned exactly.

Where atoms are lumpy (communes kept whole), the in-band plans are few and far apart: a
better plan may differ by several whole communes moving across three or four sectors at
once, which no sequence of in-band shifts and swaps of
:class:`~geo.sectorize.median.MedianSearch` reaches. :func:`regroup` takes the atoms of
``t`` neighbouring sectors (``t`` = 2, 3, 4) and solves their p-median exactly with
HiGHS: ``x[a, c]`` atom ``a`` to the sector whose median is unit ``c``, ``y[c]`` unit
``c`` a median, ``t`` medians, each median's own atom with it, every sector in the band;
contiguity by cuts separated in a loop (Validi, Buchanan & Lykhovyd 2022): a piece ``C``
of a sector cut off from its median's atom gets ``x[a, c] ≤ Σ_{b ∈ N(C)} x[b, c]`` for
every ``a`` of ``C``; the cuts of one-atom pieces (``x[a, c] ≤ Σ_{b ∈ N(a)} x[b, c]``)
are in the model from the start. The candidate medians are each atom's :data:`PER_ATOM`
unit(s) nearest (weighted) to the neighbourhood.

**Pruning** (issue 25, part G), so that the search costs seconds, not tens of seconds:

* **the LP bound first**: the linear relaxation of a neighbourhood's model, with the
  contiguity cuts violated by its support, is a lower bound on every re-partition of its
  atoms; when it is not below the sectors' present cost the neighbourhood is rejected
  without branching, and an integral, connected LP solution is the optimum itself
  (measured on Belfort res 8, k = 8, communes whole: the LP is fractional on most
  neighbourhoods, it rejects about one in six, ``bench/RESULTS.md`` part G);
* **proven neighbourhoods are not solved again**: a model depends on its atoms only (its
  candidates, the band and the costs do not depend on the plan), so each bound proven on
  a set of atoms is kept for the whole search and a neighbourhood whose atoms have not
  changed since is rejected when its present cost is not above that bound: after an
  improvement, only the neighbourhoods touching the changed sectors are modelled again;
* **the most promising first, and few**: the neighbourhoods whose LP bound is below their
  present cost are branched on (HiGHS MIP, warm with the LP's cuts) in the order of that
  difference, the largest first, at most :data:`MIP_TRIES` per sweep (a heuristic cut:
  the last sweep, which would prove that none improves, is the costly one); a model
  given up after :data:`MODEL_ITERATIONS` simplex iterations is not solved again.

**Tight models** (issue 25, branch ``regroup25``), so that a model needs few rounds of
cuts (each MIP round is solved again from scratch: that was most of the search's time):

* a contiguity cut uses a **minimal separator**, not the whole border of the cut-off
  piece: only the border atoms touching the component (border removed) that holds the
  candidate median's atom (:meth:`_Model._separators`); a cut whose median's atom borders
  the piece is left out (``x[a, c] ≤ y[c]`` implies it);
* ``x[i, j] = 0`` where the **lightest path** of atoms from ``i`` to ``j``'s atom weighs
  more than the band's top (a sector holds such a path);
* the LPs run **without presolve** (small, re-solved warm after each round of cuts), and a
  MIP starts with the variables its LP's **reduced costs** rule out below the sectors'
  present cost fixed to 0.

Measured (``bench/RESULTS.md``, section ``regroup25``): the same plan costs on every seed
of the two rows the search runs on, its CPU about halved to a third.

**Fewer models, cheaper MIPs** (issue 25, branch ``regroup25``, second pass: 85 % of
the search was its ~100-360 LPs and a dozen MIPs):

* a group of 2 or 3 sectors held in a group of more that can be modelled is **left to
  the larger group** (:func:`_covered`): its re-partitions, the other sectors kept, are
  re-partitions of the larger group, whose LP gap is then at least as large (but for
  the candidate medians, chosen near each neighbourhood) and whose MIP finds them or a
  better one; about 40 % fewer LPs;
* :data:`MIP_TRIES` three, not six (the improving MIP of a sweep was always among its
  first three: the other three only lengthened the last sweep's proof);
* the MIPs **without HiGHS's restart** (presolving again the model its root reduced): a
  third less MIP time on the 14 km square, k = 12.

Measured (``bench/RESULTS.md``, section « regroup25, second pass »): the same plan costs
on every seed of the two rows.

A better re-partition replaces the sectors, the plan is descended again (shifts, swaps)
and the search goes on until no neighbourhood improves it or its work budget is spent:
each LP or MIP solve counts its model's variables times (1 + its simplex iterations / 10
+ its nodes) (:func:`_work`), a measure of operations, not seconds, so that a plan
depends on its seed only. Neighbourhoods holding a fixed atom, or more than
:data:`MAX_ATOMS` atoms, are skipped.

* Validi, H., Buchanan, A., Lykhovyd, E. (2022). Imposing contiguity constraints in
  political districting models. *Operations Research* 70(2), 867-892.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import highspy
import numpy as np

from geo.sectorize.atoms import pieces
from geo.sectorize.cuts import add_cuts
from geo.sectorize.median import MedianSearch

#: The most atoms in one neighbourhood's model (20 left two of five seeds of Belfort
#: res 8, k = 8, communes whole, at +5.3 %; 28 brings all five to the optimum).
MAX_ATOMS = 28
#: Candidate median units per atom (those nearest, weighted, to the neighbourhood): one
#: (two in part F) gives the same plans on Belfort res 8, k = 8, communes whole, smaller
#: models.
PER_ATOM = 1
#: Contiguity rounds per model before the neighbourhood is given up.
CUT_ROUNDS = 30
#: Branch-and-bound nodes of one MIP solve before the neighbourhood is given up.
MIP_NODES = 200
#: Simplex iterations of one model (its LP, MIP and cut rounds) before it is given up.
MODEL_ITERATIONS = 10_000
#: MIP solves per sweep: the neighbourhoods whose LP bound is furthest below their cost
#: (on the two regroup rows of ``bench/RESULTS.md`` the improving MIP of a sweep was
#: always among its first three; six only added to the last sweep's proof).
MIP_TRIES = 3
#: The work budget of one :func:`regroup`, in the search's operations (:func:`_work`):
#: Belfort res 8, k = 8, communes whole spends 0.55 to 2.8 million to reach its optimum
#: (1.5 million left one seed of five at 794.9 m).
REGROUP_WORK = 3_000_000
_REL = 1e-9
_INTEGRAL = 1e-6


@dataclass
class Proofs:
    """What is known of each neighbourhood's model, keyed by its atoms (sorted) and its
    number of sectors: a lower bound on every re-partition (its LP bound, or the cost it
    was proven not to beat), and whether the bound is exact (a MIP proof, or a model
    given up: not solved again)."""

    bound: dict[tuple[tuple[int, ...], int], float] = field(default_factory=dict)
    closed: set[tuple[tuple[int, ...], int]] = field(default_factory=set)
    #: The models whose LP (with its contiguity cuts) is fractional and below the
    #: present cost: the MIP starts from them.
    open: dict[tuple[tuple[int, ...], int], _Model] = field(default_factory=dict)
    models: int = 0
    mips: int = 0


def regroup(
    ms: MedianSearch,
    sector: np.ndarray,
    budget: int = REGROUP_WORK,
    sizes: tuple[int, ...] = (2, 3, 4),
    proofs: Proofs | None = None,
) -> np.ndarray:
    """``sector`` improved by exact re-partitions of ``t`` neighbouring sectors; the plan
    must be in the band, and stays in it."""
    proofs = Proofs() if proofs is None else proofs
    plan = ms.descend(np.asarray(sector, dtype=int))
    stop = ms.work + budget
    while ms.work < stop:
        tol = _REL * max(float(ms.cur.sum()), ms.total)
        promising: list[tuple[float, int, np.ndarray, tuple[int, ...]]] = []
        better: tuple[np.ndarray, tuple[int, ...], np.ndarray] | None = None
        covered = _covered(ms, plan, sizes)
        for group in (g for t in sizes for g in _groups(ms, plan, t)):
            if ms.work >= stop:
                return plan
            if group in covered:
                continue
            members = np.flatnonzero(np.isin(plan, group))
            if len(members) > MAX_ATOMS or (ms.fixed[members] >= 0).any():
                continue
            key = (tuple(members.tolist()), len(group))
            now = float(ms.cur[list(group)].sum())
            if proofs.bound.get(key, -np.inf) >= now - tol or key in proofs.closed:
                continue
            if key in proofs.bound:  # its LP is fractional and below: the MIP decides
                promising.append((proofs.bound[key] - now, len(promising), members, group))
                continue
            model = _Model(ms, members, len(group))
            proofs.models += 1
            found = model.solve(ms, now - tol, mip=False)
            proofs.bound[key] = max(proofs.bound.get(key, -np.inf), model.bound)
            if found is not None:
                better = (members, group, found)
                break
            if model.bound < now - tol and not model.given_up:
                proofs.open[key] = model
                promising.append((model.bound - now, len(promising), members, group))
            elif model.given_up:
                proofs.closed.add(key)
        if better is None:
            for _, _, members, group in sorted(promising, key=lambda p: p[:2])[:MIP_TRIES]:
                if ms.work >= stop:
                    return plan
                key = (tuple(members.tolist()), len(group))
                now = float(ms.cur[list(group)].sum())
                model = (
                    proofs.open.pop(key) if key in proofs.open else _Model(ms, members, len(group))
                )
                proofs.mips += 1
                found = model.solve(ms, now - tol, mip=True)
                if found is not None:
                    better = (members, group, found)
                    break
                proofs.bound[key] = max(proofs.bound[key], model.bound)
                if model.given_up:
                    proofs.closed.add(key)
        if better is None:
            return plan
        members, group, labels = better
        trial = plan.copy()
        trial[members] = np.asarray(group)[labels]
        plan = ms.descend(trial)
    return plan


def fits(ms: MedianSearch, plan: np.ndarray) -> bool:
    """Do two neighbouring sectors of ``plan`` hold at most :data:`MAX_ATOMS` atoms (so
    that some neighbourhood can be modelled)?"""
    size = np.bincount(plan, minlength=ms.k)
    sa, sb = plan[ms.ea], plan[ms.eb]
    apart = sa != sb
    return bool((size[sa[apart]] + size[sb[apart]] <= MAX_ATOMS).any())


def _covered(ms: MedianSearch, plan: np.ndarray, sizes: tuple[int, ...]) -> set[tuple[int, ...]]:
    """The groups of fewer sectors held in a group of more (of ``sizes``) that can be
    modelled (at most :data:`MAX_ATOMS` atoms, none fixed): any re-partition of the small
    group, the other sectors kept, is one of the large group's, so the large group's LP
    ranks it (its gap at least as large, but for the candidate medians, chosen near
    each neighbourhood) and its MIP finds it or a better one."""
    size = np.bincount(plan, minlength=ms.k)
    pinned = np.bincount(plan[ms.fixed >= 0], minlength=ms.k)
    out: set[tuple[int, ...]] = set()
    for t in sizes:
        for g in _groups(ms, plan, t):
            if size[list(g)].sum() <= MAX_ATOMS and not pinned[list(g)].any():
                out.update(sub for r in sizes if r < t for sub in itertools.combinations(g, r))
    return out


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


class _Model:
    """The p-median of ``members`` (atoms) into ``t`` connected sectors in the band."""

    def __init__(self, ms: MedianSearch, members: np.ndarray, t: int) -> None:
        m = len(members)
        self.m, self.t = m, t
        self.local = {int(a): i for i, a in enumerate(members.tolist())}
        # candidate medians: each atom's PER_ATOM units nearest (weighted) to the members
        near = ms.M[members].sum(0)
        units = np.concatenate(
            [(u := ms._atom_units[a])[np.argsort(near[u], kind="stable")[:PER_ATOM]]
             for a in members.tolist()]
        )  # fmt: skip
        n_u = self.n_u = len(units)
        order = np.argsort(members)
        self.home = order[np.searchsorted(members, ms.of[units], sorter=order)]
        n_x = self.n_x = m * n_u  # x[i, j] at i * n_u + j, then y[j] at n_x + j
        self.n = n = n_x + n_u
        cost = np.r_[ms.M[np.ix_(members, units)].ravel(), np.zeros(n_u)]
        w = ms.aw[members]
        grid = self.grid = np.arange(n_x).reshape(m, n_u)
        ys = n_x + np.arange(n_u)
        blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # rows, cols, vals
        lower: list[np.ndarray] = []
        upper: list[np.ndarray] = []
        r = 0
        # each atom in one sector
        blocks.append((np.repeat(np.arange(m), n_u), grid.ravel(), np.ones(n_x)))
        lower.append(np.ones(m))
        upper.append(np.ones(m))
        r += m
        # t medians
        blocks.append((np.full(n_u, r), ys, np.ones(n_u)))
        lower.append(np.array([float(t)]))
        upper.append(np.array([float(t)]))
        r += 1
        # x[i, j] ≤ y[j] (the median's own atom: x = y)
        pair = r + np.arange(n_x)
        blocks.append((np.r_[pair, pair], np.r_[grid.ravel(), np.tile(ys, m)],
                       np.r_[np.ones(n_x), -np.ones(n_x)]))  # fmt: skip
        own = np.zeros((m, n_u), dtype=bool)
        own[self.home, np.arange(n_u)] = True
        lower.append(np.where(own.ravel(), 0.0, -np.inf))
        upper.append(np.zeros(n_x))
        r += n_x
        # the band: lo·y[j] ≤ Σ_i w_i x[i, j] ≤ hi·y[j]
        for bound, lo, up in ((ms.lo, 0.0, np.inf), (ms.hi, -np.inf, 0.0)):
            rows = r + np.arange(n_u)
            blocks.append((np.r_[np.tile(rows, m), rows], np.r_[grid.ravel(), ys],
                           np.r_[np.repeat(w, n_u), np.full(n_u, -bound)]))  # fmt: skip
            lower.append(np.full(n_u, lo))
            upper.append(np.full(n_u, up))
            r += n_u
        self.adj = [[self.local[b] for b in ms.adj[a] if b in self.local] for a in members]
        # an atom away from a candidate's own atom reaches it through a neighbour:
        # x[i, j] ≤ Σ_{b ∈ S} x[b, j], S the neighbours of i on the side of j's own atom
        # (the cuts of one-atom pieces, given at once; none where j's own atom is a
        # neighbour of i: x[i, j] ≤ y[j] implies it)
        rows_: list[np.ndarray] = []
        cols_: list[np.ndarray] = []
        vals_: list[np.ndarray] = []
        for i in range(m):
            side, touching = self._sides({i})
            cand = np.flatnonzero(side[self.home] >= 0)  # the candidates cut for atom i
            if not len(cand):
                continue
            borders = [touching[label] for label in side[self.home[cand]].tolist()]
            size = np.array([len(b) for b in borders])
            # row k: +x[i, c_k], then -x[b, c_k] for each b of its border
            start = np.r_[0, np.cumsum(1 + size)[:-1]]
            cols = np.empty(int((1 + size).sum()), dtype=int)
            vals = np.full(len(cols), -1.0)
            head = np.zeros(len(cols), dtype=bool)
            head[start] = True
            cols[head] = grid[i, cand]
            cols[~head] = np.concatenate(borders) * n_u + np.repeat(cand, size)
            vals[head] = 1.0
            rows_.append(np.repeat(r + np.arange(len(cand)), 1 + size))
            cols_.append(cols)
            vals_.append(vals)
            r += len(cand)
        count = r - sum(len(x) for x in lower)
        blocks.append((np.concatenate(rows_), np.concatenate(cols_), np.concatenate(vals_)))
        lower.append(np.full(count, -np.inf))
        upper.append(np.zeros(count))
        # the matrix row by row (HiGHS takes it so, no sparse matrix built here)
        row_of = np.concatenate([b[0] for b in blocks])
        by_row = np.argsort(row_of, kind="stable")
        index = np.concatenate([b[1] for b in blocks])[by_row].astype(np.int32)
        value = np.concatenate([b[2] for b in blocks])[by_row]
        start = np.r_[0, np.cumsum(np.bincount(row_of, minlength=r))[:-1]].astype(np.int32)
        h = self.h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 1e-6)
        h.setOptionValue("mip_max_nodes", MIP_NODES)
        # no restart of the MIP after its root (presolving again the model its root
        # reduced): the MIPs of the 14 km square, k = 12, take about a third less
        # (bench/RESULTS.md, « regroup25, second pass »)
        h.setOptionValue("mip_allow_restart", False)
        # no "threads": one HiGHS scheduler per process (see geo.sectorize.hess)
        # a sector holding atom i and its median's atom holds a path between them: where
        # the lightest such path is above the band, x[i, j] = 0
        col_upper = np.ones(n)
        col_upper[:n_x] = (self._path_load(w)[:, self.home] <= ms.hi * (1 + 1e-9)).ravel()
        h.passModel(
            n, r, len(index), 2, 1, 0.0, cost, np.zeros(n), col_upper,
            np.concatenate(lower), np.concatenate(upper),
            start, index, value, np.ones(n, dtype=np.int32),
        )  # fmt: skip
        #: A lower bound on every connected re-partition (-inf until solved).
        self.bound = -np.inf
        #: The model was given up (cut rounds or nodes spent): its bound is all it says.
        self.given_up = False
        #: Simplex iterations spent on the model (LP and MIP solves, cut rounds).
        self.iterations = 0
        #: The value of the model's last LP when it was left fractional (its solution
        #: and reduced costs still in ``h``), else None.
        self._relaxed: float | None = None
        #: Variables fixed to 0 by their reduced costs (the model then only says what
        #: lies below the ``upper`` it was fixed for).
        self.fixed = 0

    def solve(self, ms: MedianSearch, upper: float, mip: bool) -> np.ndarray | None:
        """Each member's sector (0 … t-1) in a connected re-partition in the band cheaper
        than ``upper``, or None. Without ``mip`` only the LP relaxation is solved (its
        cut loop run on integral solutions): None also when it is fractional."""
        h = self.h
        h.setOptionValue("solve_relaxation", not mip)
        # the LPs are small and re-solved warm after each round of cuts: presolve costs
        # more than it saves there (measured: about a third of the LPs' time on the
        # 14 km square, k = 12); the MIP keeps it
        h.setOptionValue("presolve", "choose" if mip else "off")
        # no better plan than ``upper``: stop the branching early
        h.setOptionValue("objective_bound", upper if mip else np.inf)
        if mip and self._relaxed is not None:
            self._fix_by_reduced_costs(upper)
        for _ in range(CUT_ROUNDS):
            h.run()
            info = h.getInfo()
            ms.work += _work(self.n, info, mip)
            self.iterations += int(info.simplex_iteration_count)
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                if status == highspy.HighsModelStatus.kInfeasible or (
                    mip and status == highspy.HighsModelStatus.kObjectiveBound
                ):
                    self.bound = max(self.bound, upper)  # none in the band, or none better
                else:
                    self.given_up = True
                return None
            value = float(info.objective_function_value)
            if mip:
                value = max(value, float(info.mip_dual_bound))
                if self.fixed:  # the bound holds below ``upper`` only
                    value = min(value, upper)
            self.bound = max(self.bound, value)
            if value >= upper:
                return None  # cuts only raise it
            x = np.asarray(h.getSolution().col_value)
            if mip:
                x = np.round(x)
            support = x[: self.n_x].reshape(self.m, self.n_u) > _INTEGRAL
            cuts = self._cuts(support)
            if cuts and self.iterations > MODEL_ITERATIONS:
                self.given_up = True
                return None
            if not cuts:
                if (np.abs(x - np.round(x)) > _INTEGRAL).any():
                    self._relaxed = value  # the MIP's reduced-cost fixing reads this LP
                    return None  # fractional and connected: the MIP decides
                medians = np.flatnonzero(x[self.n_x :] > 0.5)
                assign = x[: self.n_x].reshape(self.m, self.n_u).argmax(1)
                return np.searchsorted(medians, assign)
            add_cuts(h, [c for c, _ in cuts], [v for _, v in cuts])
        self.given_up = True
        return None

    def _fix_by_reduced_costs(self, upper: float) -> None:
        """Fix to 0 the variables at 0 in the last LP whose reduced cost lifts the LP's
        value to ``upper`` or more: no solution below ``upper`` uses them (HiGHS does the
        same after its root LP, but only once it has presolved and solved the whole model
        again)."""
        assert self._relaxed is not None
        solution = self.h.getSolution()
        reduced = np.asarray(solution.col_dual)
        x = np.asarray(solution.col_value)
        margin = 1e-7 * max(abs(upper), 1.0)
        drop = np.flatnonzero((self._relaxed + reduced >= upper + margin) & (x <= _INTEGRAL))
        self._relaxed = None
        if len(drop):
            zeros = np.zeros(len(drop))
            self.h.changeColsBounds(len(drop), drop.astype(np.int32), zeros, zeros)
            self.fixed += len(drop)

    def _cuts(self, support: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """The contiguity cuts violated by a solution whose atoms go to each candidate
        median's sector where ``support[i, j]``: each piece ``C`` of that support cut off
        from the median's own atom gets ``x[a, j'] ≤ Σ_{b ∈ N(C)} x[b, j']`` for every
        ``a`` of ``C`` and every candidate ``j'`` whose own atom is not in ``C`` (a sector
        of ``j'`` holding ``a`` reaches its own atom through the border ``N(C)``); for
        ``j`` itself the border is out of the support, so that cut is violated."""
        cuts: list[tuple[np.ndarray, np.ndarray]] = []
        seen: set[tuple[int, ...]] = set()
        for j in np.flatnonzero(support.any(0)).tolist():
            for piece in pieces(np.flatnonzero(support[:, j]), self.adj):
                if self.home[j] in piece or tuple(sorted(piece)) in seen:
                    continue
                seen.add(tuple(sorted(piece)))
                for c, border in self._separators(piece):
                    for a in sorted(piece):
                        cols = np.r_[self.grid[a, c], self.grid[border, c]].astype(np.int32)
                        cuts.append((cols, np.r_[1.0, -np.ones(len(border))]))
        return cuts

    def _separators(self, piece: set[int]) -> list[tuple[int, np.ndarray]]:
        """For each candidate ``c`` whose own atom is neither in ``piece`` nor next to it,
        the atoms ``S`` next to ``piece`` through which a sector of ``c`` holding an atom
        of ``piece`` must pass: those of the piece's border that touch the component of
        the rest (border removed) holding ``c``'s own atom (a minimal separator, Validi,
        Buchanan & Lykhovyd 2022: the cut ``x[a, c] ≤ Σ_{b ∈ S} x[b, c]`` is tighter than
        with the whole border, and valid since every path from the piece to that atom
        enters its component from ``S``)."""
        side, touching = self._sides(piece)
        return [
            (c, touching[side[self.home[c]]]) for c in range(self.n_u) if side[self.home[c]] >= 0
        ]

    def _sides(self, piece: set[int]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The components of the members off ``piece`` and its border (each atom's
        component, -1 for those of the piece and the border) and, for each, the atoms
        of the border it touches (sorted)."""
        adj = self.adj
        border = {b for a in piece for b in adj[a] if b not in piece}
        side = np.full(self.m, -1)
        touching: list[np.ndarray] = []
        for start in range(self.m):
            if side[start] >= 0 or start in piece or start in border:
                continue
            label = len(touching)
            side[start] = label
            stack, near = [start], set()
            while stack:
                a = stack.pop()
                for b in adj[a]:
                    if b in border:
                        near.add(b)
                    elif side[b] < 0:
                        side[b] = label
                        stack.append(b)
            touching.append(np.array(sorted(near), dtype=int))
        return side, touching

    def _path_load(self, w: np.ndarray) -> np.ndarray:
        """The lightest workload of a path of atoms between each two members (both
        ends included): Floyd-Warshall on the members' graph."""
        m = self.m
        d = np.full((m, m), np.inf)
        for a in range(m):
            d[a, self.adj[a]] = w[a] + w[self.adj[a]]
        np.fill_diagonal(d, w)
        for v in range(m):
            d = np.minimum(d, d[:, v : v + 1] + d[v : v + 1, :] - w[v])
        return d


def _work(n: int, info: highspy.HighsInfo, mip: bool) -> int:
    """The operations counted for one solve: the model's variables, once per simplex
    iteration's ten (and per branch-and-bound node)."""
    iterations = int(info.simplex_iteration_count)
    nodes = int(info.mip_node_count) if mip else 0
    return n * (1 + iterations // 10 + nodes)
