"""Sector-design algorithms; each returns a :class:`geo.plan.SectorPlan`."""

from geo.sectorize.atoms import CutCosts
from geo.sectorize.base import Progress, Sectorizer
from geo.sectorize.communes import WholeCommunes
from geo.sectorize.growth import RegionGrowth

__all__ = ["CutCosts", "Progress", "RegionGrowth", "Sectorizer", "WholeCommunes"]
