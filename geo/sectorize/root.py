"""The root of the exact model (:mod:`geo.sectorize.exact`): before any branching, its
linear relaxation is solved in sweeps; each sweep fixes columns by reduced costs
(:func:`~geo.sectorize.separation.reduced_cost_fixing`) and by the Lagrangian at the
relaxation's duals (:func:`~geo.sectorize.fixing.fix_at_duals`), and adds the separators
(:mod:`geo.sectorize.separation`) and covers (:mod:`geo.sectorize.covers`) it violates;
when none is violated, the candidate centres are probed (:mod:`geo.sectorize.probing`),
and the sweeps go on while the probing fixes some. Then :func:`centres_first` may branch
on the centres alone for a share of the time (off by default): a lower bound above the
root's."""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Protocol

import highspy
import numpy as np

from geo.sectorize.covers import cover_cuts
from geo.sectorize.fixing import fix_at_duals
from geo.sectorize.probing import probe_centres, probe_pairs
from geo.sectorize.separation import fractional_separators, reduced_cost_fixing

if TYPE_CHECKING:
    from geo.sectorize.bound import Instance

log = logging.getLogger(__name__)


class _Solver(Protocol):
    """What the root needs of :class:`geo.sectorize.exact._Solver`."""

    inst: Instance
    best: tuple[np.ndarray, float] | None
    lower: float
    time_limit: float
    started: float
    fixed_stats: dict[str, int]
    centres: np.ndarray
    var: np.ndarray
    home: np.ndarray
    pair_atom: np.ndarray
    pair_centre: np.ndarray
    incumbent: np.ndarray
    fixable: np.ndarray

    def _vector(self, atom_sector: np.ndarray) -> np.ndarray | None: ...
    def _remaining(self) -> float: ...
    def _check(self) -> bool: ...
    def _add_rows(
        self, h: highspy.Highs, rows: list[list[int]], coefs: list[list[float]]
    ) -> None: ...


#: Rounds of fractional separation at the root, within this share of the time limit.
ROOT_SWEEPS = 20
ROOT_SHARE = 0.4
#: Passes of probing of the centres at the root (:mod:`geo.sectorize.probing`).
ROOT_PROBES = 1
#: The share of the time left that the round with the centres alone integer may take: 0,
#: off. On the 14 km square, k = 12, with 40 % its bound (1 200.7 m) was no better than the
#: whole model's in the same CPU (1 201.0 m), and it cost Belfort res 8, k = 8 1.7 s of
#: CPU (bench/RESULTS.md part G).
CENTRES_SHARE = 0.0


def root_cuts(s: _Solver, h: highspy.Highs) -> None:
    """Separator cuts of the linear relaxation, added before any branching
    (:mod:`geo.sectorize.separation`), for at most :data:`ROOT_SHARE` of the time; the
    relaxation's value is a lower bound on every plan better than the best known."""
    n_x = h.getNumCol()
    columns = np.arange(n_x, dtype=np.int32)
    s.incumbent = np.zeros(n_x, dtype=bool)
    if s.best is not None and (x := s._vector(s.best[0])) is not None:
        s.incumbent = x > 0.5  # the best plan known stays in the model
    s.fixable = ~s.incumbent
    h.changeColsIntegrality(n_x, columns, np.zeros(n_x, dtype=np.uint8))
    until = time.monotonic() + ROOT_SHARE * s.time_limit
    upper = s.best[1] if s.best is not None else math.inf
    probes = 0
    for _ in range(ROOT_SWEEPS):
        remaining = min(s._remaining(), until - time.monotonic())
        if remaining <= 0.05 or not s._check():
            break
        h.setOptionValue("time_limit", remaining)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        value = h.getInfo().objective_function_value
        s.lower = max(s.lower, min(value, upper))
        solution = h.getSolution()
        fixed = reduced_cost_fixing(h, value, upper, solution, s.fixable)
        s.fixed_stats["reduced_cost"] = s.fixed_stats.get("reduced_cost", 0) + fixed
        pairs = (s.pair_atom, s.centres[s.pair_centre])
        duals = np.asarray(solution.row_dual)
        fixed, lag = fix_at_duals(h, s.inst, pairs, duals, upper, s.fixable, s.incumbent)
        s.lower = max(s.lower, min(lag, upper))
        s.fixed_stats["lp_duals"] = s.fixed_stats.get("lp_duals", 0) + fixed
        dense = np.zeros(s.var.shape)
        dense[s.pair_atom, s.pair_centre] = np.asarray(solution.col_value)
        rows, coefs = fractional_separators(s.inst, s.var, s.home, dense)
        live = s.fixable | s.incumbent  # covers: geo.sectorize.covers
        more = cover_cuts(s.inst, s.var, s.home, dense, live)
        rows, coefs = rows + more[0], coefs + more[1]
        log.debug(
            "root LP %.1f, %d cuts (%d covers), fixed %s at %.1f s",
            value,
            len(rows),
            len(more[0]),
            s.fixed_stats,
            time.monotonic() - s.started,
        )
        if not rows:
            if probes >= ROOT_PROBES or not _probe(s, h, until, upper):
                break
            probes += 1
            continue
        s._add_rows(h, rows, coefs)
    h.changeColsIntegrality(n_x, columns, np.ones(n_x, dtype=np.uint8))


def _cuts(s: _Solver, h: highspy.Highs) -> int:
    """Add the separators and covers that the relaxation's solution violates."""
    dense = np.zeros(s.var.shape)
    dense[s.pair_atom, s.pair_centre] = np.asarray(h.getSolution().col_value)
    rows, coefs = fractional_separators(s.inst, s.var, s.home, dense)
    more = cover_cuts(s.inst, s.var, s.home, dense, s.fixable | s.incumbent)
    rows, coefs = rows + more[0], coefs + more[1]
    if rows:
        s._add_rows(h, rows, coefs)
    return len(rows)


def _probe(s: _Solver, h: highspy.Highs, until: float, upper: float) -> bool:
    """Probe the centres (:mod:`geo.sectorize.probing`): whether any was fixed."""
    m = len(s.centres)
    y = s.var[s.home, np.arange(m)]
    columns_of = [s.var[:, j][s.var[:, j] >= 0] for j in range(m)]
    closed, opened = probe_centres(
        h, y, columns_of, upper, s.fixable, until, lambda model: _cuts(s, model)
    )
    h.run()  # the relaxation again, with the centres fixed
    pairs = probe_pairs(h, upper, s.fixable, until, lambda model: _cuts(s, model))
    s.fixed_stats["pairs_probed"] = s.fixed_stats.get("pairs_probed", 0) + pairs
    s.fixed_stats["closed"] = s.fixed_stats.get("closed", 0) + closed
    s.fixed_stats["opened"] = s.fixed_stats.get("opened", 0) + opened
    log.debug("probing: %d centres closed, %d opened, %d pairs", closed, opened, pairs)
    return closed + opened + pairs > 0


def centres_first(s: _Solver, h: highspy.Highs) -> None:
    """A first round with the centres ``y`` alone integer, the assignments continuous
    (when :data:`CENTRES_SHARE` is not 0): HiGHS then branches on the centres only. It is
    a relaxation of the model (fewer integer columns), so its bound is a lower bound on
    every plan, and above the root LP's (18 of the 23 centres that the 14 km square's root
    LP opens, k = 12, are open in part; ``bench/RESULTS.md`` part G). Its solutions are
    not plans (assignments in part) and are not kept. At most :data:`CENTRES_SHARE` of
    the time left; the columns are integer again afterwards."""
    n_x = h.getNumCol()
    columns = np.arange(n_x, dtype=np.int32)
    y = s.var[s.home, np.arange(len(s.centres))]
    integer = np.zeros(n_x, dtype=np.uint8)
    integer[y] = 1
    remaining = CENTRES_SHARE * s._remaining()
    if remaining <= 0.05:
        return
    h.changeColsIntegrality(n_x, columns, integer)
    if s.best is not None and (x := s._vector(s.best[0])) is not None:
        h.setSolution(len(x), columns, x)
    h.setOptionValue("time_limit", remaining)
    h.run()
    status = h.getModelStatus()
    bound = float(h.getInfo().mip_dual_bound)
    ended = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit)
    if status in ended and math.isfinite(bound):
        upper = s.best[1] if s.best is not None else math.inf
        s.lower = max(s.lower, min(bound, upper))
    log.debug(
        "centres first: %s, bound %.1f at %.1f s", status, bound, time.monotonic() - s.started
    )
    h.changeColsIntegrality(n_x, columns, np.ones(n_x, dtype=np.uint8))
