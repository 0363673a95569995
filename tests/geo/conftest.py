"""Real Belfort data shared by the geo tests (read from the repository, no database)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.grid import PopulationGrid, cell_attributes, tessellate, workload
from geo.layers import prepare_layer
from geo.plan import UnitGraph
from geo.sectorize import RegionGrowth
from geo.sectorize.atoms import Atoms
from geo.territory import read_communes
from tests.geo.test_sectorize import square_grid

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "boundaries"
FIXTURES = ROOT / "tests" / "fixtures"
BELFORT_CSP = [line.split(",")[0] for line in (DEMO / "csp_belfort.csv").read_text().split()[1:]]


@pytest.fixture(scope="session")
def belfort() -> tuple[gpd.GeoDataFrame, shapely.Geometry]:
    communes = read_communes(DEMO / "communes_90.geojson").communes
    members = communes[communes["code"].isin(BELFORT_CSP)].reset_index(drop=True)
    return members, members.union_all()


@pytest.fixture(scope="session")
def filosofi(belfort: tuple[gpd.GeoDataFrame, shapely.Geometry]) -> PopulationGrid:
    raw = gpd.read_file(DEMO / "filosofi2019_carreaux200m_belfort.geojson")
    layer = prepare_layer(raw, "population_grid", territory=belfort[1], source="filosofi")
    assert layer.extent is not None
    return PopulationGrid(layer.features, layer.extent)


@pytest.fixture(scope="session")
def belfort_graph(
    belfort: tuple[gpd.GeoDataFrame, shapely.Geometry], filosofi: PopulationGrid
) -> UnitGraph:
    """The Belfort CSP's H3 res-9 cells with default workloads."""
    communes, csp = belfort
    cells = cell_attributes(tessellate(csp, 9), communes, filosofi)
    cells["workload"] = workload(cells)
    return UnitGraph.from_cells(cells)


#: The side of :func:`uneven_grid` and the sectors the p-median search's tests draw on it.
SIDE, K = 7, 4


@pytest.fixture(scope="session")
def uneven_grid() -> tuple[UnitGraph, Atoms]:
    """A 7 x 7 grid, uneven workloads, every unit its own atom."""
    y, x = np.divmod(np.arange(SIDE * SIDE), SIDE)
    graph = square_grid(SIDE, SIDE, 1.0 + (3 * x + y) % 7)
    _, _, _, atoms = RegionGrowth(K, tolerance=0.05).feasible_atoms(graph)
    return graph, atoms
