"""The coverage matrix: which candidate sites cover which demand points, within a radius
in metres (metric coordinates), and the checks of those inputs that every solver step
shares.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from geo.errors import InvalidValueError


def checked_points(name: str, xy: object) -> np.ndarray:
    """``xy`` as a finite float (n, 2) array, or an error naming ``name``."""
    array = np.asarray(xy, dtype=float)
    if array.size == 0:
        return np.zeros((0, 2))
    if array.ndim != 2 or array.shape[1] != 2:
        raise InvalidValueError(
            "parameter_expected",
            name=name,
            expected="un tableau (n, 2) de coordonnées en mètres",
            got=array.shape,
        )
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            "parameter_expected",
            name=f"{name}[{row}]",
            expected="deux coordonnées finies",
            got=array[row].tolist(),
        )
    return array


def checked_radius(radius: float) -> float:
    """``radius`` as a float if it is a positive, finite number of metres; else an error."""
    if isinstance(radius, bool) or not (
        isinstance(radius, int | float | np.number) and radius > 0 and math.isfinite(radius)
    ):
        raise InvalidValueError(
            "parameter_expected", name="radius", expected="un nombre de mètres positif", got=radius
        )
    return float(radius)


def coverage_matrix(demand_xy: np.ndarray, site_xy: np.ndarray, radius: float) -> sparse.csr_matrix:
    """Which sites cover which demand points: a boolean sparse ``n x m`` matrix, True where
    the distance is at most ``radius`` (metric coordinates).

    Pairs are found with two KD-trees; memory is proportional to the number of covering
    pairs, never to ``n x m``.

    Examples
    --------
    >>> import numpy as np
    >>> m = coverage_matrix(np.array([[0, 0], [50, 0]]), np.array([[0, 0], [120, 0]]), 70)
    >>> m.toarray().tolist()
    [[True, False], [True, True]]
    """
    demand = checked_points("demand_xy", demand_xy)
    sites = checked_points("site_xy", site_xy)
    radius = checked_radius(radius)
    n, m = len(demand), len(sites)
    if n == 0 or m == 0:
        return sparse.csr_matrix((n, m), dtype=bool)
    pairs = cKDTree(demand).sparse_distance_matrix(cKDTree(sites), radius, output_type="ndarray")
    matrix = sparse.csr_matrix(
        (np.ones(len(pairs), dtype=bool), (pairs["i"], pairs["j"])), shape=(n, m)
    )
    matrix.sort_indices()
    return matrix


def checked_weights(weights: object, n: int) -> np.ndarray:
    """``weights`` as ``n`` finite floats >= 0, or an error naming the first bad one."""
    array = np.asarray(weights, dtype=float).reshape(-1)
    if len(array) != n:
        raise InvalidValueError("lengths_differ", first=len(array), second=n, what="point")
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            "parameter_expected",
            name=f"weights[{i}]",
            expected="un nombre positif ou nul",
            got=float(array[i]),
        )
    return array


def site_scores(
    demand_xy: np.ndarray, weights: np.ndarray, site_xy: np.ndarray, radius: float
) -> np.ndarray:
    """Weight that each site would cover on its own.

    Examples
    --------
    >>> import numpy as np
    >>> site_scores(np.array([[0, 0], [50, 0]]), np.array([1.0, 2.0]),
    ...             np.array([[0, 0], [120, 0]]), 70).tolist()
    [3.0, 2.0]
    """
    demand = checked_points("demand_xy", demand_xy)
    w = checked_weights(weights, len(demand))
    matrix = coverage_matrix(demand, site_xy, radius)
    return np.asarray(matrix.T.astype(float) @ w).reshape(-1)
