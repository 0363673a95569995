"""Sector-design algorithms; each returns a :class:`geo.plan.SectorPlan`.

:class:`DesignParameters` (:mod:`geo.sectorize.design`) holds what a proposal asks for,
and :func:`make_sectorizer` gives the algorithm that draws it.
"""

from geo.sectorize.atoms import CutCosts
from geo.sectorize.base import Progress, Sectorizer
from geo.sectorize.communes import WholeCommunes
from geo.sectorize.design import DesignParameters, make_sectorizer
from geo.sectorize.growth import RegionGrowth

__all__ = [
    "CutCosts",
    "DesignParameters",
    "Progress",
    "RegionGrowth",
    "Sectorizer",
    "WholeCommunes",
    "make_sectorizer",
]
