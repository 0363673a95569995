"""Prices of the p-median search (:mod:`geo.sectorize.median`) computed in batches.

The swap round under the oscillation's penalty, every pair of sectors at once:

:meth:`MedianSearch._swap_round <geo.sectorize.median.MedianSearch._swap_round>` prices,
for each pair of neighbouring sectors ``a``, ``b``, every swap of a border atom ``x`` of
``a`` with a border atom ``y`` of ``b``: ``P_a[x, y] + P_b[y, x]`` minus the sectors'
present costs, where ``P_s[out, into] = min_u (S_s[u] - M[out, u] + M[into, u])`` over the
units ``u`` of ``s`` (not those of ``out``). Under the oscillation's penalty ``rho`` it
adds ``rho`` times the change of the distance to the band and keeps each pair's least.
Done pair by pair that is some twenty small numpy calls a pair; here the costs of every
pair but the largest are a few calls for all (:func:`side_costs`), the largest pair by pair
with the units that cannot be a minimum pruned first (:func:`pair_cost`), and the penalties
of every pair one vector (:func:`penalised`): the same additions on the same numbers, so
the same values to the last bit, and each pair's least the first in the pair's row-major
order, as ``np.argmin`` gives it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: One side of a pair: the sector, the atoms leaving it, those joining it, and whether
#: the costs are wanted with the joining atoms first (``P_b[y, x]`` in the pair's
#: ``(x, y)`` order).
Side = tuple[int, np.ndarray, np.ndarray, bool]
#: The widths (units) of the blocks :func:`side_costs` minimises the swaps of small
#: sectors on, narrower than the widest sector's (Belfort res 9: 10 to 130 units a sector).
WIDTHS = (16, 32, 64)


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


def side_costs(
    M: np.ndarray,
    col: np.ndarray,
    unit_atom: np.ndarray,
    units_of: Callable[[int], np.ndarray],
    sides: list[Side],
    widths: tuple[int, ...] = WIDTHS,
) -> list[np.ndarray]:
    """``P_s[out[i], into[j]]`` for each side ``(s, out, into, transposed)``, flat: ``i``
    major (``j`` major when transposed). ``col`` holds every ``S_s``, ``unit_atom`` the
    units' atoms, ``units_of(s)`` the units of ``s``. Every side at once, in a few numpy
    calls whatever their number: each leaving atom's ``S_s - M[out]`` and each joining
    atom's ``M[into]`` gathered once as a row over the units of its sector (padded with
    ``inf`` to the widest), then each swap's two rows summed and minimised, the swaps
    of sectors of at most ``widths[0]``, ``widths[1]``… units on as many columns only.

    >>> M = np.arange(24.0).reshape(4, 6) % 7  # atoms 0 and 1 (units 0 to 3) in s = 0
    >>> units, unit_atom = np.arange(4), np.array([0, 0, 1, 1, 2, 3])
    >>> col, out, into = np.array([M[0] + M[1]]), np.array([0, 1]), np.array([2, 3])
    >>> sides = [(0, out, into, False), (0, out, into, True)]
    >>> flat, flip = side_costs(M, col, unit_atom, lambda s: units, sides)
    >>> whole = pair_cost(M, col[0, units], units, unit_atom[units], out, into)
    >>> whole.tolist(), bool((flat.reshape(2, 2) == whole).all())
    ([[1.0, 2.0], [5.0, 4.0]], True)
    >>> bool((flip.reshape(2, 2) == whole.T).all())
    True
    """
    if not sides:
        return []
    n_out = np.array([len(side[1]) for side in sides])
    n_into = np.array([len(side[2]) for side in sides])
    flip = np.array([side[3] for side in sides], dtype=bool)
    # every swap of every side: its side, its leaving and its joining atom
    size = n_out * n_into
    start = np.concatenate(([0], np.cumsum(size)[:-1]))
    of_side = np.repeat(np.arange(len(sides)), size)
    at = np.arange(int(size.sum())) - start[of_side]
    minor = np.where(flip, n_out, n_into)[of_side]
    major = at // minor
    rest = at - major * minor
    turned = flip[of_side]
    first_out = np.concatenate(([0], np.cumsum(n_out)[:-1]))
    first_into = np.concatenate(([0], np.cumsum(n_into)[:-1]))
    leaving = np.concatenate([side[1] for side in sides])
    leaving = leaving[first_out[of_side] + np.where(turned, rest, major)]
    joining = np.concatenate([side[2] for side in sides])
    joining = joining[first_into[of_side] + np.where(turned, major, rest)]
    # each sector's units, padded: one row per sector
    sectors = np.unique([side[0] for side in sides])
    lists = [units_of(s) for s in sectors.tolist()]
    unit, sums = _padded(lists, col, sectors)
    count = np.array([len(units) for units in lists])
    place = np.searchsorted(sectors, np.asarray([side[0] for side in sides])[of_side])
    n, n_units = M.shape
    flat_M = M.ravel()
    # each (sector, leaving atom)'s row S_s - M[x] (inf on x's own units and the padding)
    keys, leave_row = _ranks(place * n + leaving, len(sectors) * n)
    row_place, atom = np.divmod(keys, n)
    cells = unit[row_place]
    leave = sums[row_place]
    leave -= flat_M.take(cells + (atom * n_units)[:, None])
    leave[unit_atom.take(cells) == atom[:, None]] = np.inf
    # each (sector, joining atom)'s row M[y]
    keys, join_row = _ranks(place * n + joining, len(sectors) * n)
    row_place, atom = np.divmod(keys, n)
    join = flat_M.take(unit[row_place] + (atom * n_units)[:, None])
    costs = np.empty(len(leaving))
    group = np.searchsorted(np.asarray(widths), count)[place]
    for g in np.unique(group).tolist():
        mine = np.flatnonzero(group == g)
        width = int(count[place[mine]].max())
        both = leave[:, :width].take(leave_row[mine], 0)
        both += join[:, :width].take(join_row[mine], 0)
        costs[mine] = both.min(1)
    ends = np.cumsum(size).tolist()
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
) -> tuple[np.ndarray, np.ndarray]:
    """The shift prices of the p-median search: each ``out[i]`` leaving its sector
    ``out_sector[i]``, ``min_u (S_s[u] - M[x, u]) - cost_s`` over the sector's units but
    the atom's own, and each ``into[i]`` joining ``into_sector[i]``, ``min_u (S_s[u] +
    M[x, u]) - cost_s``; ``col`` holds every ``S_s``, ``cur`` every ``cost_s``,
    ``units_of(s)`` the units of ``s``. Every sector at once: one row per price over the
    units of its sector, padded with ``inf`` to the widest, gathered by flat takes.

    >>> M = np.array([[1.0, 2.0, 9.0], [4.0, 1.0, 9.0], [9.0, 8.0, 1.0]])
    >>> col = np.array([M[0] + M[1], M[2]])  # atoms 0, 1 (units 0, 1) and 2 (unit 2)
    >>> units = [np.array([0, 1]), np.array([2])]
    >>> cur = np.array([col[0, :2].min(), col[1, 2]])
    >>> zero, one = np.array([0]), np.array([1])  # atom 0 leaving sector 0, joining 1
    >>> shift_prices(M, col, np.arange(3), cur, units.__getitem__, zero, zero, zero, one)
    (array([-2.]), array([9.]))
    """
    present = np.zeros(len(col), dtype=bool)
    present[out_sector] = present[into_sector] = True
    sectors = np.flatnonzero(present)
    place_of = np.cumsum(present) - 1  # each present sector's row
    unit, sums = _padded([units_of(s) for s in sectors.tolist()], col, sectors)
    n_units = M.shape[1]
    flat_M = M.ravel()
    leaving, joining = np.empty(len(out)), np.empty(len(into))
    if len(out):
        place = place_of[out_sector]
        cells = unit[place]
        prices = sums[place]
        prices -= flat_M.take(cells + (out * n_units)[:, None])
        prices[unit_atom.take(cells) == out[:, None]] = np.inf
        leaving = prices.min(1) - cur[out_sector]
    if len(into):
        place = place_of[into_sector]
        prices = sums[place]
        prices += flat_M.take(unit[place] + (into * n_units)[:, None])
        joining = prices.min(1) - cur[into_sector]
    return leaving, joining


def _padded(
    lists: list[np.ndarray], col: np.ndarray, sectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The units of ``sectors`` (``lists``) as the rows of a matrix padded with unit 0 to
    the longest, and each sector's sums ``col[s]`` on them (``inf`` on the padding: a
    price read there is never a minimum).

    >>> col = np.array([[5.0, 6, 7], [8, 9, 4]])
    >>> unit, row = _padded([np.array([2, 0]), np.array([1])], col, np.array([0, 1]))
    >>> unit.tolist(), row.tolist()
    ([[2, 0], [1, 0]], [[7.0, 5.0], [9.0, inf]])
    """
    count = np.array([len(units) for units in lists])
    mine = np.arange(int(count.max()))[None, :] < count[:, None]
    unit = np.zeros(mine.shape, dtype=np.intp)
    unit[mine] = np.concatenate(lists)
    row = col.ravel().take(unit + (sectors * col.shape[1])[:, None])
    row[~mine] = np.inf
    return unit, row


def _ranks(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` of keys in ``[0, bound)``, by marking
    them (no sort).

    >>> first, rank = _ranks(np.array([5, 2, 5, 0]), 6)
    >>> first.tolist(), rank.tolist()
    ([0, 2, 5], [2, 1, 2, 0])
    """
    mark = np.zeros(bound, dtype=bool)
    mark[keys] = True
    return np.flatnonzero(mark), (np.cumsum(mark) - 1)[keys]


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
