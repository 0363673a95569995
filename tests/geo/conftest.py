"""Real Belfort data shared by the geo tests (read from the repository, no database)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.grid import PopulationGrid, cell_attributes, tessellate, workload
from geo.layers import prepare_layer
from geo.plan import UnitGraph
from geo.territory import read_communes

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
