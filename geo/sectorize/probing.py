"""Probing at the root of the exact model (:mod:`geo.sectorize.exact`): centres, assignments.

The relaxation with its cuts (separators and covers) is a lower bound on every plan of the
model. For a centre ``c`` (column ``y = x[home(c), c]``) it is solved twice more, with
``y`` fixed at 1 and at 0 (Savelsbergh 1994, probing; the « small enumeration of the
centres » of branching on ``y`` first, done once at the root for every candidate):

* when the relaxation with ``y = 1`` is infeasible or worth more than ``upper``, the value
  of the best plan known, no plan better than it opens ``c``: ``y`` and every ``x[a, c]``
  are fixed to 0;
* when the relaxation with ``y = 0`` is infeasible or worth more than ``upper``, every plan
  better than it opens ``c``: ``y`` is fixed to 1;
* an assignment ``x[a, c]`` at 0 whose reduced cost brings the relaxation near ``upper``
  is probed at 1 the same way, and fixed to 0 when the relaxation then exceeds ``upper``
  (:func:`probe_pairs`): on Belfort res 8, k = 8, 116 of 156 probed, and HiGHS then proves
  the optimum in one round (``bench/RESULTS.md``, part E).

Both keep every plan better than the best known, and the best known itself (the relaxation
with its value fixed as it is in the best plan is worth at most ``upper``; its columns are
never fixed anyway). The fixings shrink the model that HiGHS branches on and lift the
relaxation of the next sweep of cuts.

References
----------
* Savelsbergh, M. W. P. (1994). Preprocessing and probing techniques for mixed integer
  programming problems. *ORSA Journal on Computing* 6(4), 445-454.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import highspy
import numpy as np

log = logging.getLogger(__name__)

#: A centre is probed at 1 when its relaxation's ``y`` is under this, at 0 when above
#: ``1 -`` it (probing a value the relaxation already takes changes nothing).
EPS = 1e-6
#: Probing stops after this many centres in a row fixed nothing.
MISSES = 12
#: Assignments are probed when their reduced cost brings the relaxation within this share
#: of the best plan known.
NEAR = 0.04
#: Sweeps of cuts within the probe of a centre, of an assignment.
SWEEPS = 3
PAIR_SWEEPS = 3
#: The most assignments probed in a pass (each probe is up to four relaxations).
MAX_PAIR_PROBES = 200
#: Adds the cuts that the relaxation's solution in ``h`` violates; how many.
Cuts = Callable[[highspy.Highs], int]


def _worth_more(h: highspy.Highs, upper: float, cuts: Cuts | None, sweeps: int = 3) -> bool:
    """Solve the relaxation: True when it is infeasible or worth more than ``upper``,
    after at most ``sweeps`` sweeps of ``cuts`` (valid for every plan, kept)."""
    for sweep in range(sweeps + 1):
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return True
        if status != highspy.HighsModelStatus.kOptimal:
            return False  # time out or trouble: nothing proven
        if h.getInfo().objective_function_value > upper * (1 + 1e-6) + 1e-6:
            return True
        if cuts is None or sweep == sweeps or not cuts(h):
            return False
    return False


def probe_centres(
    h: highspy.Highs,
    y: np.ndarray,
    columns_of: list[np.ndarray],
    upper: float,
    fixable: np.ndarray,
    deadline: float,
    cuts: Cuts | None = None,
) -> tuple[int, int]:
    """Probe the centres whose ``y`` columns are ``y`` (``columns_of[j]``: the model's
    columns ``x[a, c]`` of centre ``j``) in ``h``, a linear relaxation solved last; fix
    what the module docstring says, only ``fixable`` columns to 0 (updated), until
    ``deadline`` (``time.monotonic()``); ``cuts`` separates within each probe (the cuts
    hold for every plan: they stay). Returns how many centres were closed and opened."""
    if not math.isfinite(upper) or h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return 0, 0
    solution = h.getSolution()
    value = np.asarray(solution.col_value)[y]
    reduced = np.asarray(solution.col_dual)[y]
    lp = h.getLp()
    low = np.asarray(lp.col_lower_)[y]
    high = np.asarray(lp.col_upper_)[y]
    closed = opened = 0
    misses = 0
    for j in np.argsort(-reduced, kind="stable").tolist():  # the likeliest to close first
        col = int(y[j])
        if time.monotonic() >= deadline or misses >= MISSES:
            break
        if low[j] == high[j]:
            continue
        misses += 1
        h.setOptionValue("time_limit", max(0.05, deadline - time.monotonic()))
        if value[j] < 1 - EPS and fixable[col]:
            h.changeColBounds(col, 1.0, 1.0)
            close = _worth_more(h, upper, cuts, SWEEPS)
            h.changeColBounds(col, 0.0, 1.0)
            if close:
                cols = columns_of[j][fixable[columns_of[j]]].astype(np.int32)
                h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.zeros(len(cols)))
                fixable[cols] = False
                closed += 1
                misses = 0
                continue
        if value[j] > EPS:
            h.changeColBounds(col, 0.0, 0.0)
            open_ = _worth_more(h, upper, cuts, SWEEPS)
            h.changeColBounds(col, 1.0 if open_ else 0.0, 1.0)
            if open_:
                fixable[col] = False
                opened += 1
                misses = 0
    return closed, opened


def probe_pairs(
    h: highspy.Highs,
    upper: float,
    fixable: np.ndarray,
    deadline: float,
    cuts: Cuts | None = None,
    *,
    near: float = NEAR,
) -> int:
    """Probe the assignments ``x[a, c]`` at 1 (the ``fixable`` columns at 0 in the last
    relaxation of ``h``, whose reduced cost brings it within ``near`` of ``upper``: the
    likeliest to be worth more than it): fix to 0 those whose relaxation with ``x = 1``
    is infeasible or worth more than ``upper``. Returns how many."""
    if not math.isfinite(upper) or h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return 0
    solution = h.getSolution()
    value = h.getInfo().objective_function_value
    x = np.asarray(solution.col_value)
    reduced = np.asarray(solution.col_dual)
    high = np.asarray(h.getLp().col_upper_)
    candidates = np.flatnonzero(
        fixable & (x < EPS) & (high > 0.5) & (value + reduced > upper * (1 - near))
    )
    candidates = candidates[np.argsort(-reduced[candidates], kind="stable")][:MAX_PAIR_PROBES]
    log.debug("%d assignments to probe", len(candidates))
    fixed = misses = 0
    for col in candidates.tolist():
        if time.monotonic() >= deadline or misses >= MISSES:
            break
        h.setOptionValue("time_limit", max(0.05, deadline - time.monotonic()))
        h.changeColBounds(col, 1.0, 1.0)
        worse = _worth_more(h, upper, cuts, PAIR_SWEEPS)
        h.changeColBounds(col, 0.0, 0.0 if worse else 1.0)
        if worse:
            fixable[col] = False
            fixed += 1
            misses = 0
        else:
            misses += 1
    return fixed
