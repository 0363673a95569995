"""Sectors balanced by area when the workload is zero everywhere.

A territory whose units all carry a workload of 0 (no population grid and no problem
counted, or every workload weight at 0) gives the band nothing to hold: every plan is
« balanced », and the engine drew sectors of any size (the Belfort CSP's 112 units with no
population, k = 4: 56, 0.7, 0.5 and 0.1 km², ``bench/battery_methods.py``'s
``no-population``, ``bench/RESULTS.md`` twopart25). The design is then made with each
unit's area in hectares as its workload (:func:`area_graph`), and the plan, on the
territory's own units (their workload of 0), says so first in its notes
(:data:`AREA_NOTE`): the plans page, the A4 sheet, the API and the CLI show them.

>>> from shapely.geometry import box
>>> import geopandas as gpd
>>> from geo.grid import adjacency
>>> units = gpd.GeoDataFrame({"unit": ["a", "b"], "commune": ["X", "X"],
...     "workload": [0.0, 0.0]}, geometry=[box(2.0, 48.0, 2.01, 48.01),
...     box(2.01, 48.0, 2.03, 48.01)], crs=4326)
>>> graph = UnitGraph.build(units, adjacency(units))
>>> [round(a) for a in area_graph(graph).workload]
[83, 166]
>>> area_graph(area_graph(graph)) is None
True
"""

from __future__ import annotations

import dataclasses
import math

from geo.plan import SectorPlan
from geo.unit_graph import UnitGraph

AREA_NOTE = (
    "charge nulle sur tout le territoire (ni population ni problème compté) : les secteurs "
    "sont équilibrés selon leur surface, pas selon la charge"
)
#: Added to :data:`AREA_NOTE` when no commune's population is known either.
NO_POPULATION_NOTE = " ; sans population connue, aucune commune n'est gardée entière d'office"
M2_PER_HECTARE = 10_000.0


def area_graph(graph: UnitGraph) -> UnitGraph | None:
    """``graph`` with each unit's area (hectares) as its workload when every workload is
    0, else None."""
    if graph.n == 0 or graph.workload.sum() > 0:
        return None
    units = graph.units.copy()
    units["workload"] = graph.metric.geometry.area.to_numpy() / M2_PER_HECTARE
    if "population" in units.columns and not units["population"].fillna(0).to_numpy().any():
        # no population known: no commune is taken as small (kept whole), as with no
        # population column (a commune of 2 000 ha kept whole would not fit a sector)
        units = units.drop(columns="population")
    return UnitGraph(units=units, edges=graph.edges, links=graph.links)


def on_workload(plan: SectorPlan, graph: UnitGraph, threshold: float) -> SectorPlan:
    """A plan designed on :func:`area_graph`, back on ``graph``'s units, :data:`AREA_NOTE`
    first in its notes (and :data:`NO_POPULATION_NOTE` when the communes under
    ``threshold`` inhabitants were not kept whole for want of a population)."""
    note = AREA_NOTE
    dropped = "population" in graph.units.columns and "population" not in plan.graph.units
    if dropped and 0 < threshold < math.inf:
        note += NO_POPULATION_NOTE
    return dataclasses.replace(plan, graph=graph, notes=(note, *plan.notes))
