"""Phase 1 of :mod:`geo.sectorize.growth`: one seed atom per sector.

Fixed seeds (police stations, bureaux de police) and locked units anchor their sectors;
the other sectors get the free atoms nearest to the centres of a workload-weighted
k-means (k-means++ start, Lloyd iterations with the anchored centres pinned).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from geo.errors import InfeasibleDesignError
from geo.sectorize.atoms import Atoms


def seed_atoms(
    atoms: Atoms,
    k: int,
    fixed: np.ndarray,
    rng: np.random.Generator,
    anchors: Mapping[int, int] | None = None,
) -> list[int]:
    """One atom per sector: a fixed atom where the sector has one, else the free atom
    nearest a centre of a workload-weighted k-means with the fixed centres pinned."""
    xy, w = atoms.xy, atoms.weight + 1e-9 * (atoms.weight.sum() + 1)
    pinned = {s: int(np.flatnonzero(fixed == s)[0]) for s in range(k) if (fixed == s).any()}
    pinned.update(anchors or {})  # a sector's seed (its police station) is its centre
    centres = np.zeros((k, 2))
    for s, atom in pinned.items():
        centres[s] = xy[atom]
    free_sectors = [s for s in range(k) if s not in pinned]
    # k-means++ start; the squared distance to the nearest chosen centre is kept up to
    # date one centre at a time (O(n·k), not O(n·k²)).
    d2 = np.full(len(xy), np.inf)
    for s in pinned:
        d2 = np.minimum(d2, ((xy - centres[s]) ** 2).sum(-1))
    for s in free_sectors:
        p = w * d2 if np.isfinite(d2).all() else w.copy()
        p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1 / len(p))
        centres[s] = xy[rng.choice(len(xy), p=p)]
        d2 = np.minimum(d2, ((xy - centres[s]) ** 2).sum(-1))
    for _ in range(8):  # Lloyd iterations; pinned centres stay
        nearest = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for s in free_sectors:
            members = nearest == s
            if members.any():
                centres[s] = np.average(xy[members], axis=0, weights=w[members])
    seeds = [-1] * k
    taken = set(pinned.values())
    for s, atom in pinned.items():
        seeds[s] = atom
    free = np.flatnonzero(fixed == -1)
    for s in free_sectors:
        order = free[np.argsort(((xy[free] - centres[s]) ** 2).sum(-1), kind="stable")]
        atom = next((int(a) for a in order if int(a) not in taken), -1)
        if atom < 0:
            raise InfeasibleDesignError(
                "locked_too_many", field="locked", free=len(free), sectors=len(free_sectors)
            )
        seeds[s] = atom
        taken.add(atom)
    return seeds
