"""Prices of the p-median search (:mod:`geo.sectorize.median`) computed in batches.

The swap round under the oscillation's penalty, every pair of sectors at once:

:meth:`MedianSearch._swap_round <geo.sectorize.median.MedianSearch._swap_round>` prices,
for each pair of neighbouring sectors ``a``, ``b``, every swap of a border atom ``x`` of
``a`` with a border atom ``y`` of ``b``: ``P_a[x, y] + P_b[y, x]`` minus the sectors'
present costs, where ``P_s[out, into] = min_u (S_s[u] - M[out, u] + M[into, u])`` over the
units ``u`` of ``s`` (not those of ``out``). Under the oscillation's penalty ``rho`` it
adds ``rho`` times the change of the distance to the band and keeps each pair's least.
Done pair by pair that is some twenty small numpy calls a pair; here each sector's costs
are one gather for all its pairs (:func:`pair_costs`) and the penalties of every pair
one vector (:func:`penalised`): the same additions on the same numbers, so the same
values to the last bit, and each pair's least the first in the pair's row-major order,
as ``np.argmin`` gives it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: One side of a pair: the sector, the atoms leaving it, those joining it, and whether
#: the costs are wanted with the joining atoms first (``P_b[y, x]`` in the pair's
#: ``(x, y)`` order).
Side = tuple[int, np.ndarray, np.ndarray, bool]


def pair_cost(
    M: np.ndarray,
    col: np.ndarray,
    units: np.ndarray,
    unit_atom: np.ndarray,
    out: np.ndarray,
    into: np.ndarray,
    probe: int = 0,
) -> np.ndarray:
    """``P_s[out[i], into[j]]`` as a matrix (``col``, ``units``, ``unit_atom``: as for
    :func:`pair_costs`). With ``probe``, the units that cannot be the minimum of any
    pair are dropped first (exact): each pair's cost is at most its minimum over the
    ``probe`` units of least ``floor``, and a unit's value for any pair at least its
    ``floor``; rounding is monotone, so a unit whose floor exceeds every pair's ceiling
    is never the minimum."""
    leave = col - M.take(out, 0).take(units, 1)
    leave[unit_atom[None, :] == out[:, None]] = np.inf
    join = M.take(into, 0).take(units, 1)
    if probe:
        floor = leave.min(0) + join.min(0)
        near = np.argsort(floor, kind="stable")[:probe]
        ceiling = float((leave[:, None, near] + join[None, :, near]).min(2).max())
        keep = np.flatnonzero(floor <= ceiling)
        if len(keep) < len(units):
            leave, join = leave[:, keep], join[:, keep]
    return (leave[:, None, :] + join[None, :, :]).min(2)


def pair_costs(
    M: np.ndarray,
    col: np.ndarray,
    unit_atom: np.ndarray,
    units_of: Callable[[int], np.ndarray],
    sides: list[Side],
) -> list[np.ndarray]:
    """``P_s[out[i], into[j]]`` for each side ``(s, out, into, transposed)``, flat: ``i``
    major (``j`` major when transposed). ``col`` holds every ``S_s``, ``unit_atom`` the
    units' atoms, ``units_of(s)`` the units of ``s``. Every side at once: each leaving
    atom's ``S_s - M[out]`` and each joining atom's ``M[into]`` gathered once on the
    units of its sector (:class:`Spans`), then summed and minimised per swap.

    >>> M = np.arange(24.0).reshape(4, 6) % 7  # atoms 0 and 1 (units 0 to 3) in s = 0
    >>> units, unit_atom = np.arange(4), np.array([0, 0, 1, 1, 2, 3])
    >>> col, out, into = np.array([M[0] + M[1]]), np.array([0, 1]), np.array([2, 3])
    >>> sides = [(0, out, into, False), (0, out, into, True)]
    >>> flat, flip = pair_costs(M, col, unit_atom, lambda s: units, sides)
    >>> whole = pair_cost(M, col[0, units], units, unit_atom[units], out, into)
    >>> whole.tolist(), bool((flat.reshape(2, 2) == whole).all())
    ([[1.0, 2.0], [5.0, 4.0]], True)
    >>> bool((flip.reshape(2, 2) == whole.T).all())
    True
    """
    sectors = sorted({side[0] for side in sides})
    units = Spans([units_of(s) for s in sectors])
    place = dict(zip(sectors, range(len(sectors)), strict=True))
    n = len(M)
    leaving, joining, sizes = [], [], []
    for s, out, into, transposed in sides:
        key = place[s] * n
        if transposed:
            leaving.append(np.tile(out, len(into)) + key)
            joining.append(np.repeat(into, len(out)) + key)
        else:
            leaving.append(np.repeat(out, len(into)) + key)
            joining.append(np.tile(into, len(out)) + key)
        sizes.append(len(out) * len(into))
    keys, leave = np.unique(np.concatenate(leaving), return_inverse=True)
    span, atom = np.divmod(keys, n)
    row, unit, leave_at = units.rows(span)
    price = col.take(np.asarray(sectors)[span][row] * M.shape[1] + unit)
    price -= M.take(atom[row] * M.shape[1] + unit)
    price[unit_atom[unit] == atom[row]] = np.inf
    keys, join = np.unique(np.concatenate(joining), return_inverse=True)
    span, atom = np.divmod(keys, n)
    row, unit, join_at = units.rows(span)
    joined = M.take(atom[row] * M.shape[1] + unit)
    # each swap: its leaving row and its joining row, unit by unit (the same units)
    length = units.size[span[join]]
    start = np.concatenate(([0], np.cumsum(length)[:-1]))
    step = np.arange(int(length.sum())) - np.repeat(start, length)
    both = price.take(np.repeat(leave_at[leave], length) + step)
    both += joined.take(np.repeat(join_at[join], length) + step)
    costs = np.minimum.reduceat(both, start)
    ends = np.cumsum(sizes).tolist()
    return [costs[i:j] for i, j in zip([0, *ends[:-1]], ends, strict=True)]


def shift_prices(
    M: np.ndarray,
    col: np.ndarray,
    unit_atom: np.ndarray,
    cur: np.ndarray,
    units_of: Callable[[int], np.ndarray],
    out: np.ndarray,
    out_sector: np.ndarray,
    into: np.ndarray,
    into_sector: np.ndarray,
    large: int = 40,
) -> tuple[np.ndarray, np.ndarray]:
    """The shift prices of the p-median search: each ``out[i]`` leaving its sector
    ``out_sector[i]``, ``min_u (S_s[u] - M[x, u]) - cost_s`` over the sector's units but
    the atom's own, and each ``into[i]`` joining ``into_sector[i]``, ``min_u (S_s[u] +
    M[x, u]) - cost_s``; ``col`` holds every ``S_s``, ``cur`` every ``cost_s``,
    ``units_of(s)`` the units of ``s``. Sectors of ``large`` units or more one at
    a time (two contiguous takes of ``M`` beat gathering cell by cell there), the
    others all at once, laid out by :class:`Spans`: the same values either way.

    >>> M = np.array([[1.0, 2.0, 9.0], [4.0, 1.0, 9.0], [9.0, 8.0, 1.0]])
    >>> col = np.array([M[0] + M[1], M[2]])  # atoms 0, 1 (units 0, 1) and 2 (unit 2)
    >>> units = [np.array([0, 1]), np.array([2])]
    >>> cur = np.array([col[0, :2].min(), col[1, 2]])
    >>> zero, one = np.array([0]), np.array([1])  # atom 0 leaving sector 0, joining 1
    >>> shift_prices(M, col, np.arange(3), cur, units.__getitem__, zero, zero, zero, one)
    (array([-2.]), array([9.]))
    """
    sectors = np.union1d(out_sector, into_sector)
    big = np.array([len(units_of(s)) >= large for s in sectors.tolist()], dtype=bool)
    big_out = big[np.searchsorted(sectors, out_sector)]
    big_in = big[np.searchsorted(sectors, into_sector)]
    leaving, joining = np.empty(len(out)), np.empty(len(into))
    if not (big_out.all() and big_in.all()):
        small = (out[~big_out], out_sector[~big_out], into[~big_in], into_sector[~big_in])
        leaving[~big_out], joining[~big_in] = _together(M, col, unit_atom, cur, units_of, *small)
    for s in sectors[big].tolist():
        units, mine, theirs = units_of(s), out_sector == s, into_sector == s
        leave, join = out[mine], into[theirs]
        sums, block = col[s, units], M.take(np.concatenate((leave, join)), 0).take(units, 1)
        if len(leave):
            prices = sums - block[: len(leave)]
            prices[unit_atom[units][None, :] == leave[:, None]] = np.inf
            leaving[mine] = prices.min(1) - cur[s]
        if len(join):
            joining[theirs] = (sums + block[len(leave) :]).min(1) - cur[s]
    return leaving, joining


def _together(
    M: np.ndarray,
    col: np.ndarray,
    unit_atom: np.ndarray,
    cur: np.ndarray,
    units_of: Callable[[int], np.ndarray],
    out: np.ndarray,
    out_sector: np.ndarray,
    into: np.ndarray,
    into_sector: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shift_prices` of every sector at once."""
    sectors = np.union1d(out_sector, into_sector).tolist()
    units, n = Spans([units_of(s) for s in sectors]), M.shape[1]
    leaving, joining = np.zeros(len(out)), np.zeros(len(into))
    if len(out):
        row, unit, start = units.rows(np.searchsorted(sectors, out_sector))
        prices = col.take(out_sector[row] * n + unit) - M.take(out[row] * n + unit)
        prices[unit_atom[unit] == out[row]] = np.inf
        leaving = np.minimum.reduceat(prices, start) - cur[out_sector]
    if len(into):
        row, unit, start = units.rows(np.searchsorted(sectors, into_sector))
        prices = col.take(into_sector[row] * n + unit) + M.take(into[row] * n + unit)
        joining = np.minimum.reduceat(prices, start) - cur[into_sector]
    return leaving, joining


class Spans:
    """Non-empty lists of units end to end: :meth:`rows` lays out rows of them, without
    padding, for minima by ``np.minimum.reduceat``.

    >>> row, unit, start = Spans([np.array([4, 5, 6]), np.array([7])]).rows(np.array([1, 0]))
    >>> row.tolist(), unit.tolist(), start.tolist()
    ([0, 1, 1, 1], [7, 4, 5, 6], [0, 1])
    """

    def __init__(self, lists: list[np.ndarray]) -> None:
        self.size = np.array([len(a) for a in lists])
        self.flat = np.concatenate(lists)
        self.first = np.concatenate(([0], np.cumsum(self.size)[:-1]))

    def rows(self, which: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For rows of the lists ``which``: each element's row, its unit, and each
        row's first element."""
        length = self.size[which]
        start = np.concatenate(([0], np.cumsum(length)[:-1]))
        row = np.repeat(np.arange(len(which)), length)
        at = self.first[which][row] + np.arange(len(row)) - start[row]
        return row, self.flat[at], start


def penalised(
    prices: list[np.ndarray],
    xs: list[np.ndarray],
    ys: list[np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    load: np.ndarray,
    weight: np.ndarray,
    lo: float,
    hi: float,
    rho: float,
    eps: float,
) -> list[tuple[int, float, int, int]]:
    """The pairs whose least penalised swap price is under ``-eps``: ``(pair, price, x, y)``,
    the price of each swap being ``prices[p][i, j] + rho · (gap_a' + gap_b' - gap_a -
    gap_b)`` (gaps to the band ``[lo, hi]`` after and before), the pair's first least.

    >>> prices = [np.array([[-1.0, -2.5]])]  # atom 0 of sector 0 with atom 1 or 2 of 1
    >>> load, weight = np.array([10.0, 10.0]), np.array([1.0, 1.0, 3.0])
    >>> pair = (np.array([0]), np.array([1]))
    >>> penalised(prices, [np.array([0])], [np.array([1, 2])], *pair, load, weight, 9.0, 11.0,
    ...           1.0, 1e-7)  # atom 2 takes both sectors 1 out of the band: -2.5 + 2
    [(0, -1.0, 0, 1)]
    """
    nx = np.array([len(x) for x in xs])
    ny = np.array([len(y) for y in ys])
    size = nx * ny
    start = np.concatenate(([0], np.cumsum(size)[:-1]))
    pair = np.repeat(np.arange(len(prices)), size)
    at = np.arange(int(size.sum())) - start[pair]
    width = ny[pair]
    i = at // width
    first_x = np.concatenate(([0], np.cumsum(nx)[:-1]))
    first_y = np.concatenate(([0], np.cumsum(ny)[:-1]))
    ix = np.concatenate(xs)[first_x[pair] + i]
    iy = np.concatenate(ys)[first_y[pair] + at - i * width]
    wx, wy = weight[ix], weight[iy]
    la, lb = load[a][pair], load[b][pair]
    ga, gb = gaps(la - wx + wy, lo, hi), gaps(lb + wx - wy, lo, hi)
    now = gaps(load, lo, hi)
    delta = np.concatenate([p.ravel() for p in prices]) + rho * (
        ga + gb - now[a][pair] - now[b][pair]
    )
    least = np.minimum.reduceat(delta, start)
    found = []
    for p in np.flatnonzero(least < -eps).tolist():
        segment = delta[start[p] : start[p] + size[p]]
        k = int(np.argmin(segment))
        r, c = divmod(k, int(ny[p]))
        found.append((p, float(segment[k]), int(xs[p][r]), int(ys[p][c])))
    return found


def gaps(load: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Each load's distance to the band ``[lo, hi]`` (0 inside)."""
    return np.maximum(np.maximum(lo - load, load - hi), 0.0)
