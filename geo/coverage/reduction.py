"""Reductions of the maximal covering model, which keep every optimum's value.

1. drop demand of weight zero (including demand covered by a fixed site) and demand
   no candidate covers: no choice of sites changes its contribution;
2. merge demand points covered by the same set of sites into one point weighing their
   sum (rows of the sparse coverage matrix hashed, then compared exactly): they are
   covered together or not at all, so the objective is unchanged;
3. drop candidates that cover no remaining demand, and keep one of several candidates
   covering exactly the same demand (a second copy never adds anything).

On clustered problems and a dense grid of candidates this typically shrinks the
model several times over (the benchmark reports the sizes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class ReducedInstance:
    """The model after the reductions: ``matrix`` (rows: merged demand, columns: kept
    sites, CSR, bool), ``weights`` per row and ``sites`` (original index of each column)."""

    matrix: sparse.csr_matrix
    weights: np.ndarray
    sites: np.ndarray


def _group_rows(matrix: sparse.csr_matrix) -> np.ndarray:
    """Label of each row such that rows with the same label have the same columns.

    Each row is hashed (a sum of random 64-bit keys of its columns, plus its length),
    then every row is compared with its group's first row; on a hash collision (odds
    about 2^-64 per pair) the exact, slower grouping by bytes is used instead.
    """
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    indptr, indices = matrix.indptr, matrix.indices
    keys = np.random.default_rng(0).integers(0, 2**63, size=matrix.shape[1], dtype=np.uint64)
    lengths = np.diff(indptr)
    row_of = np.repeat(np.arange(n), lengths)
    hashed = np.zeros(n, dtype=np.uint64)
    np.add.at(hashed, row_of, keys[indices])
    _, first, labels = np.unique(
        np.stack([hashed, lengths.astype(np.uint64)], axis=1),
        axis=0,
        return_index=True,
        return_inverse=True,
    )
    labels = labels.reshape(-1)
    representative = first[labels]
    offset = np.arange(len(indices)) - indptr[row_of]
    same = indices == indices[indptr[representative[row_of]] + offset]
    if same.all():
        return labels
    exact: dict[bytes, int] = {}
    return np.array(
        [
            exact.setdefault(indices[indptr[r] : indptr[r + 1]].tobytes(), len(exact))
            for r in range(n)
        ]
    )


def _dominated(matrix: sparse.csr_matrix, limit: int) -> np.ndarray:
    """Mask of the columns whose rows are a strict subset of another column's rows (all
    columns distinct), from the overlap counts ``AᵀA``; none when ``AᵀA`` would have more
    than ``limit`` entries to compute."""
    m = matrix.shape[1]
    work = int((np.diff(matrix.indptr).astype(np.int64) ** 2).sum())
    if work > limit or m < 2:
        return np.zeros(m, dtype=bool)
    counts = matrix.astype(np.int32)
    overlap = (counts.T @ counts).tocoo()
    size = np.asarray(counts.sum(axis=0)).reshape(-1)
    j, k = overlap.row, overlap.col
    inside = (j != k) & (overlap.data == size[j]) & (size[k] > size[j])
    dominated = np.zeros(m, dtype=bool)
    dominated[j[inside]] = True
    return dominated


def reduce_instance(
    matrix: sparse.csr_matrix,
    weights: np.ndarray,
    *,
    dominance: bool = True,
    dominance_limit: int = 50_000_000,
) -> ReducedInstance:
    """Apply the reductions of the module docstring to a coverage ``matrix`` (n x m, bool)
    with demand ``weights``; the reduced model has the same optimal covered weight for
    every ``p``.

    ``dominance`` also drops the candidates whose demand is a strict subset of another
    candidate's (when ``AᵀA`` has at most ``dominance_limit`` terms to add up), then
    merges the demand rows this makes identical.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> a = sparse.csr_matrix(np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 1]], bool))
    >>> r = reduce_instance(a, np.array([1.0, 2.0, 9.0, 0.0]))
    >>> r.matrix.toarray().tolist(), r.weights.tolist(), r.sites.tolist()
    ([[True]], [3.0], [0])
    """
    matrix = sparse.csr_matrix(matrix, dtype=bool)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    useful = (weights > 0) & (matrix.getnnz(axis=1) > 0)
    rows, row_weights = matrix[useful], np.asarray(weights, dtype=float)[useful]
    sites = np.arange(matrix.shape[1])
    for round_ in range(2):
        # Rows covered by the same sites: one row of their summed weight.
        labels = _group_rows(rows)
        groups = int(labels.max()) + 1 if len(labels) else 0
        row_weights = np.bincount(labels, weights=row_weights, minlength=groups)
        _, first = np.unique(labels, return_index=True)
        rows = rows[first]
        if round_ == 1:
            break
        # Columns: drop empty ones, keep the first of identical ones, drop dominated ones.
        columns = rows.T.tocsr()
        columns.sort_indices()
        kept = np.flatnonzero(columns.getnnz(axis=1) > 0)
        column_labels = _group_rows(columns[kept])
        _, first_column = np.unique(column_labels, return_index=True)
        kept = kept[np.sort(first_column)]
        rows = rows[:, kept].tocsr()
        rows.sort_indices()
        if dominance:
            kept_here = ~_dominated(rows, dominance_limit)
            kept, rows = kept[kept_here], rows[:, kept_here].tocsr()
            rows.sort_indices()
        sites = sites[kept]
    return ReducedInstance(matrix=rows, weights=row_weights, sites=sites)
