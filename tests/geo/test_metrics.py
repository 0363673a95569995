"""Plan metrics against values computed by hand on a row of four 100 m squares."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.crs import LAMBERT93
from geo.grid import adjacency
from geo.metrics import constraint_violations
from geo.plan import SectorPlan, UnitGraph

X0, Y0 = 990_000.0, 6_730_000.0  # Lambert-93, near Belfort


@pytest.fixture
def plan() -> SectorPlan:
    units = gpd.GeoDataFrame(
        {
            "unit": ["a", "b", "c", "d"],
            "commune": ["90001", "90001", "90001", "90002"],
            "workload": [1.0, 2.0, 3.0, 4.0],
        },
        geometry=[box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100) for i in range(4)],
        crs=LAMBERT93,
    )
    graph_edges = adjacency(units).edges.copy()
    graph_edges.loc[(graph_edges["a"] == 0) & (graph_edges["b"] == 1), "barrier"] = "railway"
    edges = pd.DataFrame(graph_edges)
    graph = UnitGraph(units=units, edges=edges)
    return SectorPlan(graph=graph, assignment=np.array([0, 0, 1, 1]))


def test_hand_computed_metrics(plan: SectorPlan) -> None:
    m = plan.metrics
    assert m.k == 2
    assert [s.workload for s in m.sectors] == [3.0, 7.0]
    assert m.mean_workload == 5.0
    assert m.max_deviation == pytest.approx(0.4)  # |3 - 5| / 5
    # A 200 m x 100 m rectangle: 4π · 20 000 / 600².
    assert m.sectors[0].polsby_popper == pytest.approx(4 * math.pi * 20_000 / 600**2)
    assert m.mean_polsby_popper == pytest.approx(4 * math.pi * 20_000 / 600**2)
    assert m.sectors[0].hull_ratio == pytest.approx(1.0)
    assert m.sectors[0].area_km2 == pytest.approx(0.02)
    assert m.contiguous
    assert m.cut_edges == 1 and m.cut_length_m == pytest.approx(100.0)
    assert m.barrier_edges_inside == 1 and m.barrier_edges_by_class == {"railway": 1}
    assert m.communes_split == 1 and m.split_communes == {"90001": 2}
    # Sector 0: weighted centroid x = (50·1 + 150·2) / 3; distances 66.7 and 33.3 m.
    assert m.sectors[0].mean_distance_m == pytest.approx((200 / 3 * 1 + 100 / 3 * 2) / 3)


def test_non_contiguous_sector_is_counted(plan: SectorPlan) -> None:
    split = plan.with_assignment(np.array([0, 1, 0, 1]))
    assert not split.metrics.contiguous
    assert [s.components for s in split.metrics.sectors] == [2, 2]


def test_sectors_dissolve_to_the_territory(plan: SectorPlan) -> None:
    sectors = plan.sectors
    assert list(sectors["unit_count"]) == [2, 2]
    assert sectors.geometry.area.sum() == pytest.approx(40_000)
    assert sectors.union_all().equals(box(X0, Y0, X0 + 400, Y0 + 100))


def test_metrics_are_json_ready(plan: SectorPlan) -> None:
    out = plan.metrics.as_dict()
    assert out["sectors"][1]["name"] == "Secteur 2"
    assert out["split_communes"] == {"90001": 2}


def test_a_deviation_past_the_tolerance_reads_past_it() -> None:
    """-5,004 % is outside ±5 %: never « -5,0 % hors de la tolérance de ±5,0 % »."""
    found = constraint_violations(
        names=["Secteur 1", "Secteur 2"],
        workloads=np.array([94.996, 105.004]),
        pieces=np.array([1, 1]),
        split={},
        tolerance=0.05,
    )
    assert [v.message for v in found] == [
        "Secteur 1 : charge 95, à -5,004\u202f% de la moyenne, hors de la tolérance de ±5\u202f%",
        "Secteur 2 : charge 105, à +5,004\u202f% de la moyenne, hors de la tolérance de ±5\u202f%",
    ]
