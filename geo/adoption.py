"""Adopting a sector plan: which GPO each new sector continues.

A GPO keeps its history (meetings, minutes, problems, partners, chief) across plans: each
sector of the plan being adopted continues the sector GPO whose current territory (its
sector in the adopted plan) overlaps it most. The matching is one-to-one and greedy: the
pairs are taken by decreasing shared area, each GPO and each new sector at most once. A
new sector left without a GPO gets a new one; a GPO left without a sector is deactivated
(its history kept). A thematic GPO spans the new sectors continued by the GPOs of the
sectors it spanned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def match_by_overlap(overlaps: Iterable[tuple[int, int, float]]) -> dict[int, int]:
    """The GPO each new sector continues, from ``(gpo, new sector, shared area)``: greedy
    one-to-one by decreasing shared area (ties by GPO, then sector); pairs sharing no area
    are never matched.

    >>> match_by_overlap([(7, 0, 5.0), (7, 1, 6.0), (8, 1, 4.0), (8, 0, 3.0)])
    {1: 7, 0: 8}
    >>> match_by_overlap([(7, 0, 5.0), (8, 0, 1.0), (9, 1, 0.0)])
    {0: 7}
    """
    continued: dict[int, int] = {}
    taken: set[int] = set()
    for gpo, sector, area in sorted(overlaps, key=lambda o: (-o[2], o[0], o[1])):
        if area <= 0 or gpo in taken or sector in continued:
            continue
        continued[sector] = gpo
        taken.add(gpo)
    return continued


def remap_sectors(
    sectors: Iterable[int], gpo_of_old: Mapping[int, int], continued: Mapping[int, int]
) -> list[int]:
    """The new sectors a thematic GPO spans: those continued by the GPOs of the ``sectors``
    it spanned (``gpo_of_old``: old sector -> its GPO; ``continued``: new sector -> the GPO
    it continues).

    >>> remap_sectors([0, 2], {0: 10, 1: 11, 2: 12}, {0: 12, 1: 11, 2: 10})
    [0, 2]
    >>> remap_sectors([1], {0: 10, 1: 11}, {0: 10})
    []
    """
    spanned = {gpo_of_old[s] for s in sectors if s in gpo_of_old}
    return sorted(s for s, gpo in continued.items() if gpo in spanned)
