"""H3 tessellation, areal interpolation and barrier-aware adjacency (no database)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo.crs import LAMBERT93, WGS84
from geo.errors import InvalidInputError
from geo.grid import (
    PopulationGrid,
    adjacency,
    cell_attributes,
    check_cell_budget,
    estimate_cell_count,
    interpolate,
    tessellate,
    workload,
)
from geo.layers import prepare_layer
from tests.geo.conftest import BELFORT_CSP, FIXTURES


def metric_area(geoms: gpd.GeoSeries) -> float:
    """Area in m²; long WGS84 edges are densified first so that reprojection keeps them."""
    return float(geoms.segmentize(0.0005).to_crs(LAMBERT93).area.sum())


def assert_partition(cells: gpd.GeoDataFrame, territory: shapely.Geometry) -> None:
    """The cells cover the territory exactly: same area, no overlap, no gap."""
    t_area = metric_area(gpd.GeoSeries([territory], crs=WGS84))
    c_area = metric_area(cells.geometry)
    assert abs(c_area - t_area) / t_area < 1e-4  # under 0.01 %
    union = cells.geometry.union_all()
    gap = metric_area(gpd.GeoSeries([shapely.difference(territory, union)], crs=WGS84))
    assert gap / t_area < 1e-6
    # No overlap: the union's area equals the sum of the areas.
    assert abs(metric_area(gpd.GeoSeries([union], crs=WGS84)) - c_area) / t_area < 1e-6
    assert cells["h3"].is_unique
    assert cells.geometry.is_valid.all()


@pytest.mark.parametrize("res", [9, 10])
def test_belfort_cells_are_the_csp(
    belfort: tuple[gpd.GeoDataFrame, shapely.Geometry], res: int
) -> None:
    _, csp = belfort
    cells = tessellate(csp, res)
    assert_partition(cells, csp)
    assert cells["clipped"].any() and not cells["clipped"].all()
    assert (cells.loc[~cells["clipped"]].geometry.geom_type == "MultiPolygon").all()


def test_islands_and_multipolygons_are_covered() -> None:
    mainland = box(6.80, 47.60, 6.86, 47.64)
    # An island far smaller than a res-8 cell, and one between cell centres.
    islet = Point(6.90, 47.62).buffer(0.0005)
    island = box(6.95, 47.60, 6.97, 47.61)
    territory = MultiPolygon([mainland, islet, island])
    cells = tessellate(territory, 8)
    assert_partition(cells, territory)
    graph = adjacency(cells)
    assert graph.n_components == 3  # the mainland and two islands
    islet_cells = cells.index[cells.intersects(islet)]
    assert len(set(graph.component[islet_cells])) == 1


def test_bad_resolution() -> None:
    with pytest.raises(InvalidInputError, match="reçu 16"):
        tessellate(box(6.8, 47.6, 6.9, 47.7), 16)


def test_a_grid_past_the_cell_budget_is_refused_before_any_cell_is_made() -> None:
    territory = box(6.8, 47.6, 6.9, 47.7)  # about 83 km²: 99 million cells at resolution 15
    # the clipped cells along the outline are left out: an estimate of the order of size
    assert estimate_cell_count(territory, 9) == pytest.approx(len(tessellate(territory, 9)), 0.2)
    with pytest.raises(
        InvalidInputError, match=r"^Grille : .* environ 99\u202f\d{3}\u202f\d{3} cel"
    ):
        tessellate(territory, 15)
    assert check_cell_budget(territory, 12, budget=300_000) > 200_000


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=3, max_size=12, unique=True),
    st.integers(8, 9),
)
def test_random_polygons_are_partitioned(points: list[tuple[float, float]], res: int) -> None:
    """Any polygon (concave, thin, with holes after repair) is covered exactly."""
    coords = [(6.80 + 0.04 * x, 47.60 + 0.03 * y) for x, y in points]
    poly = shapely.make_valid(Polygon(coords)) if len(coords) >= 3 else None
    poly = shapely.union_all(
        [g for g in getattr(poly, "geoms", [poly]) if isinstance(g, Polygon | MultiPolygon)]
    )
    area = metric_area(gpd.GeoSeries([poly], crs=WGS84))
    assume(area >= 1_000)  # degenerate: nothing to tessellate
    cells = tessellate(poly, res)
    assert_partition(cells, poly)


def test_interpolation_preserves_totals(
    belfort: tuple[gpd.GeoDataFrame, shapely.Geometry], filosofi: PopulationGrid
) -> None:
    _, csp = belfort
    cells = tessellate(csp, 9)
    got = interpolate(cells, filosofi.squares, ["population", "poor_households"])
    # Expected: each square's value times the share of its area inside the CSP.
    squares = filosofi.squares.to_crs(LAMBERT93)
    inside = squares.intersection(gpd.GeoSeries([csp], crs=WGS84).to_crs(LAMBERT93).iloc[0])
    share = inside.area / squares.area
    for col in ("population", "poor_households"):
        expected = float((squares[col] * share).sum())
        assert got[col].sum() == pytest.approx(expected, rel=1e-3)


def test_commune_population_fills_what_the_grid_does_not_cover(
    belfort: tuple[gpd.GeoDataFrame, shapely.Geometry], filosofi: PopulationGrid
) -> None:
    communes, csp = belfort
    cells = cell_attributes(tessellate(csp, 9), communes, filosofi)
    assert set(cells["source"]) <= {"grid", "commune", "grid+commune", "none"}
    assert (cells["source"] == "commune").any() and (cells["source"] == "grid").any()
    # Andelnans lies wholly outside the Filosofi extract: all its people come from the commune.
    andelnans = cells[cells["commune"] == "90001"]
    assert set(andelnans["source"]) == {"commune"}
    pop = int(communes.set_index("code").loc["90001", "population"])
    # Border cells mix Andelnans with its neighbours' spread population: a few percent.
    assert andelnans["population"].sum() == pytest.approx(pop, rel=0.05)
    # Cells take the commune that holds most of their area.
    assert cells["commune"].notna().all()
    assert set(cells["commune"]) == set(BELFORT_CSP)


def test_without_grid_every_commune_is_spread(
    belfort: tuple[gpd.GeoDataFrame, shapely.Geometry],
) -> None:
    communes, csp = belfort
    cells = cell_attributes(tessellate(csp, 9), communes)
    assert cells["population"].sum() == pytest.approx(communes["population"].sum(), rel=1e-3)
    assert set(cells["source"]) == {"commune"}


def test_workload_weights() -> None:
    import pandas as pd

    cells = pd.DataFrame({"population": [10.0, 0.0], "social_housing": [1.0, 4.0]})
    assert workload(cells, {"population": 1, "social_housing": 2}).tolist() == [12.0, 8.0]
    with pytest.raises(InvalidInputError, match=r"variable\(s\) de charge inconnue\(s\) : crime"):
        workload(cells, {"crime": 1})


# -- barriers -----------------------------------------------------------------------------
def river_fixture(bridge_at: float | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A square cut north-south by a river, with a road bridge at latitude ``bridge_at``."""
    territory = box(6.80, 47.60, 6.84, 47.63)
    river = LineString([(6.8201, 47.59), (6.8201, 47.64)])
    lines = [("river", False, False, river)]
    if bridge_at is not None:
        road = LineString([(6.81, bridge_at), (6.83, bridge_at)])
        lines.append(("secondary", True, False, road))
    barriers = gpd.GeoDataFrame(
        {
            "class": [c for c, *_ in lines],
            "bridge": [b for _, b, _, _ in lines],
            "tunnel": [t for _, _, t, _ in lines],
        },
        geometry=[g for *_, g in lines],
        crs=WGS84,
    )
    return tessellate(territory, 9), barriers


def test_a_river_without_bridge_cuts_every_edge_it_crosses() -> None:
    cells, barriers = river_fixture(None)
    graph = adjacency(cells, barriers)
    crossed = graph.edges[graph.edges["barrier"] == "river"]
    assert len(crossed) > 5 and crossed["blocked"].all()
    # Exactly the edges the river crosses are cut.
    shared = shapely.intersection(
        cells.geometry.boundary.to_numpy()[graph.edges["a"]],
        cells.geometry.boundary.to_numpy()[graph.edges["b"]],
    )
    river = barriers.geometry.iloc[0]
    assert (shapely.intersects(shared, river) == graph.edges["blocked"].to_numpy()).all()
    # Cells straddling the river are atomic units: they still join both banks (street
    # blocks, not H3 cells, are the units that follow barriers exactly).
    assert len(graph.neighbours()) == len(graph.edges) - len(crossed)


def test_one_bridge_reconnects_only_near_it() -> None:
    cells, barriers = river_fixture(47.615)
    graph = adjacency(cells, barriers, crossing_distance=100)
    assert graph.n_components == 1
    crossed = graph.edges[graph.edges["barrier"] == "river"]
    open_edges = crossed[~crossed["blocked"]]
    assert 1 <= len(open_edges) < len(crossed) / 3
    # The open edges lie near the bridge.
    centroids = cells.to_crs(LAMBERT93).geometry.centroid
    bridge = gpd.GeoSeries([Point(6.8201, 47.615)], crs=WGS84).to_crs(LAMBERT93).iloc[0]
    for a in open_edges["a"]:
        assert centroids.iloc[a].distance(bridge) < 400


def test_a_bridged_or_tunnelled_barrier_does_not_cut() -> None:
    cells, barriers = river_fixture(None)
    barriers["class"] = "railway"
    barriers["tunnel"] = True
    graph = adjacency(cells, barriers)
    assert graph.n_components == 1 and not graph.edges["blocked"].any()


def test_shared_lengths() -> None:
    cells = tessellate(box(6.80, 47.60, 6.84, 47.63), 9)
    graph = adjacency(cells)
    inner = graph.edges[~cells["clipped"].to_numpy()[graph.edges["a"]]]
    # H3 res 9 edges are about 174 m long.
    assert inner["shared_m"].median() == pytest.approx(174, rel=0.1)
    assert (graph.edges["a"] < graph.edges["b"]).all()
    assert not graph.edges.duplicated(["a", "b"]).any()


def test_massy_real_barriers() -> None:
    """Massy: the A 10, the N 20 and RER B/C lines, with their real bridges and tunnels."""
    communes = gpd.read_file(FIXTURES / "communes_massy.geojson")
    massy = communes[communes["code_insee"] == "91377"].union_all()
    territory = communes.union_all()
    rails = prepare_layer(
        gpd.read_file(FIXTURES / "railways_idfm_essonne.geojson"), "barriers", territory=territory
    ).features
    roads = prepare_layer(
        gpd.read_file(FIXTURES / "roads_osm_massy.geojson"), "barriers", territory=territory
    ).features
    lines = gpd.GeoDataFrame(
        np.concatenate([rails.to_numpy(), roads.to_numpy()]),
        columns=rails.columns,
        geometry="geometry",
        crs=WGS84,
    )
    cells = tessellate(massy, 10)
    free = adjacency(cells)
    cut = adjacency(cells, lines)
    crossed = cut.edges.dropna(subset=["barrier"])
    assert {"railway", "motorway"} <= set(crossed["barrier"])
    assert crossed["blocked"].sum() > 10  # barriers do cut
    assert (~crossed["blocked"]).sum() > 10  # and bridges, tunnels, level crossings reopen
    assert len(cut.neighbours()) < len(free.neighbours())
    # Only crossings right on an edge count: more edges stay cut.
    strict = adjacency(cells, lines, crossing_distance=0)
    assert strict.edges["blocked"].sum() > cut.edges["blocked"].sum()
