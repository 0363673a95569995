"""Cuts added to a HiGHS model between two solves: the one way the exact mode
(:mod:`geo.sectorize.exact`), its polish (:mod:`geo.sectorize.lns`) and the regroup move
(:mod:`geo.sectorize.regroup`) add their separators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import highspy
import numpy as np


def add_cuts(h: highspy.Highs, rows: Sequence[Any], coefs: Sequence[Any]) -> None:
    """Add to ``h`` the cuts ``Σ coef·x ≤ 0``: ``rows[i]`` the columns of cut ``i``,
    ``coefs[i]`` their coefficients.

    >>> h = highspy.Highs()
    >>> h.setOptionValue("output_flag", False)
    <HighsStatus.kOk: 0>
    >>> _ = h.addVars(2, np.zeros(2), np.ones(2))
    >>> add_cuts(h, [[0, 1]], [[1.0, -1.0]])
    >>> h.getNumRow()
    1
    """
    flat = np.concatenate([np.asarray(r) for r in rows]).astype(np.int32)
    h.addRows(
        len(rows),
        np.full(len(rows), -np.inf),
        np.zeros(len(rows)),
        len(flat),
        np.cumsum([0] + [len(r) for r in rows[:-1]]).astype(np.int32),
        flat,
        np.concatenate([np.asarray(c, dtype=float) for c in coefs]),
    )
