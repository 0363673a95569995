"""Street blocks: hand-made streets, random networks and the real roads of Massy."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, box

from geo.blocks import street_blocks
from geo.crs import LAMBERT93, WGS84
from geo.errors import InvalidInputError
from geo.grid import adjacency, cell_attributes, tessellate, workload
from geo.layers import prepare_layer
from tests.geo.conftest import FIXTURES

# About 400 m by 400 m in Massy (1° of longitude ≈ 73.5 km, of latitude ≈ 111.2 km here).
X0, Y0, DX, DY = 2.280, 48.720, 0.00544, 0.0036
SQUARE = box(X0, Y0, X0 + DX, Y0 + DY)
XM, YM = X0 + DX / 2, Y0 + DY / 2


def streets(*lines: LineString, cls: str = "residential", **flags: list[bool]) -> gpd.GeoDataFrame:
    n = len(lines)
    return gpd.GeoDataFrame(
        {
            "class": [cls] * n,
            "bridge": flags.get("bridge", [False] * n),
            "tunnel": flags.get("tunnel", [False] * n),
        },
        geometry=list(lines),
        crs=WGS84,
    )


CROSS = (
    LineString([(XM, Y0 - 0.001), (XM, Y0 + DY + 0.001)]),
    LineString([(X0 - 0.001, YM), (X0 + DX + 0.001, YM)]),
)


def assert_partition(blocks: gpd.GeoDataFrame, territory: shapely.Geometry) -> None:
    """The blocks cover the territory exactly, without overlap, each valid and polygonal.

    Measured in WGS84 degrees: only ratios matter, and reprojecting would bend the
    outline's long straight edges differently from the blocks' shorter ones."""
    geoms = blocks.geometry.to_numpy()
    union = shapely.union_all(geoms)
    assert union.symmetric_difference(territory).area / territory.area < 1e-4
    assert abs(shapely.area(geoms).sum() - union.area) / territory.area < 1e-4
    left, right = blocks.sindex.query(blocks.geometry, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert overlaps.max(initial=0) / territory.area < 1e-8  # floating-point noise only
    assert blocks.is_valid.all()
    assert set(blocks.geom_type) == {"MultiPolygon"}
    assert blocks["h3"].is_unique and blocks["h3"].str.len().max() <= 16


def test_two_streets_make_four_blocks() -> None:
    blocks = street_blocks(SQUARE, streets(*CROSS))
    assert list(blocks.columns) == list(tessellate(SQUARE, 9).columns)
    assert blocks["h3"].tolist() == ["b000000", "b000001", "b000002", "b000003"]
    areas = blocks.to_crs(LAMBERT93).area
    assert areas.min() / areas.max() > 0.95  # four quarters
    assert blocks["clipped"].all()  # each one touches the outline
    assert_partition(blocks, SQUARE)


def test_a_dead_end_does_not_make_a_block() -> None:
    dead_end = LineString([(X0, Y0 + DY / 4), (XM - DX / 8, Y0 + DY / 4)])
    blocks = street_blocks(SQUARE, streets(*CROSS, dead_end))
    assert len(blocks) == 4
    assert_partition(blocks, SQUARE)


def test_slivers_are_merged() -> None:
    # A street 5 m inside the outline leaves a 5 m by 400 m strip (2 000 m² split in two).
    edge = LineString([(X0 + 0.000068, Y0 - 0.001), (X0 + 0.000068, Y0 + DY + 0.001)])
    blocks = street_blocks(SQUARE, streets(*CROSS, edge))
    assert len(blocks) == 4
    assert_partition(blocks, SQUARE)
    assert len(street_blocks(SQUARE, streets(*CROSS, edge), min_area_m2=0)) == 6


def test_bridges_tunnels_and_paths_do_not_cut() -> None:
    viaduct = streets(*CROSS, cls="motorway", bridge=[True, False])
    assert len(street_blocks(SQUARE, viaduct)) == 2
    tunnel = streets(*CROSS, cls="railway", tunnel=[True, True])
    assert len(street_blocks(SQUARE, tunnel)) == 1
    assert len(street_blocks(SQUARE, streets(*CROSS, cls="footway"))) == 1
    assert len(street_blocks(SQUARE, streets(*CROSS, cls="footway"), classes={"footway"})) == 4
    assert len(street_blocks(SQUARE, streets(*CROSS), classes={"railway"})) == 1


def test_big_blocks_are_split_by_h3_and_streets_stay_boundaries() -> None:
    big = box(X0, Y0, X0 + 10 * DX, Y0 + 10 * DY)  # 4 km by 4 km, one street across
    street = LineString([(X0 - 0.001, Y0 + 3 * DY), (X0 + 10 * DX + 0.001, Y0 + 3.3 * DY)])
    blocks = street_blocks(big, streets(street), resolution=9)
    assert_partition(blocks, big)
    cell = h3.average_hexagon_area(9, unit="m^2")
    areas = blocks.to_crs(LAMBERT93).area
    assert len(blocks) > 100 and areas.max() < 1.5 * cell
    # No block crosses the street: each one lies on one side.
    south = shapely.Polygon([*street.coords, (X0 + 10 * DX + 0.001, Y0 - 1), (X0 - 0.001, Y0 - 1)])
    share = shapely.area(shapely.intersection(blocks.geometry.to_numpy(), south)) / shapely.area(
        blocks.geometry.to_numpy()
    )
    assert ((share < 1e-3) | (share > 1 - 1e-3)).all()  # rounding of the street to 1e-7°
    assert 0 < (share > 0.5).sum() < len(blocks)
    # Coarser resolution, larger units.
    assert len(street_blocks(big, streets(street), resolution=8)) < len(blocks) / 3


def test_no_line_gives_the_h3_cells() -> None:
    big = box(X0, Y0, X0 + 5 * DX, Y0 + 5 * DY)
    cells = tessellate(big, 9)
    for lines in (None, streets()):
        blocks = street_blocks(big, lines, min_area_m2=0)
        assert len(blocks) == len(cells)
        # The same polygons, up to the 1e-7° rounding of the blocks' coordinates.
        c_idx, b_idx = blocks.sindex.query(
            cells.geometry.representative_point(), predicate="within"
        )
        assert sorted(b_idx) == list(range(len(blocks)))
        diff = shapely.area(
            shapely.symmetric_difference(
                cells.geometry.to_numpy()[c_idx], blocks.geometry.to_numpy()[b_idx]
            )
        )
        assert diff.max() / shapely.area(cells.geometry.to_numpy()).mean() < 1e-4
    # With the default minimum area, the outline's slivers join a neighbour.
    merged = street_blocks(big, None)
    assert len(merged) <= len(cells)
    assert_partition(merged, big)


def test_islands_holes_and_lines_outside() -> None:
    island = box(X0 + 2 * DX, Y0, X0 + 2.5 * DX, Y0 + DY / 2)
    holed = SQUARE.difference(box(XM + DX / 8, YM + DY / 8, XM + DX / 4, YM + DY / 4))
    territory = MultiPolygon([holed, island])
    far = LineString([(X0 + 5 * DX, Y0), (X0 + 6 * DX, Y0 + DY)])
    blocks = street_blocks(territory, streets(*CROSS, far))
    assert len(blocks) == 5
    assert_partition(blocks, territory)


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_keep_the_invariants(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # A random star-shaped polygon of about 1.5 km, with a hole, and random streets.
    angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
    radius = rng.uniform(0.4, 1.0, 12) * 0.012
    ring = np.c_[XM + radius * np.cos(angles) * 1.5, YM + radius * np.sin(angles)]
    outline = shapely.Polygon(ring).buffer(0)
    territory = outline.difference(shapely.Point(XM, YM).buffer(0.0008))
    lines = [
        LineString(rng.uniform([XM - 0.02, YM - 0.013], [XM + 0.02, YM + 0.013], size=(3, 2)))
        for _ in range(25)
    ]
    blocks = street_blocks(territory, streets(*lines), resolution=9)
    assert_partition(blocks, territory)
    # Same input in another order: same blocks, same ids.
    again = street_blocks(territory, streets(*lines[::-1]), resolution=9)
    assert again["h3"].tolist() == blocks["h3"].tolist()
    assert all(
        a.equals(b) for a, b in zip(again.geometry, blocks.geometry, strict=True)
    ) or np.allclose(again.to_crs(LAMBERT93).area, blocks.to_crs(LAMBERT93).area, rtol=1e-9)


def test_bad_parameters() -> None:
    with pytest.raises(InvalidInputError, match="resolution"):
        street_blocks(SQUARE, None, resolution=16)
    with pytest.raises(InvalidInputError, match="min_area_m2"):
        street_blocks(SQUARE, None, min_area_m2=-1)
    with pytest.raises(InvalidInputError, match="territory"):
        street_blocks(shapely.Polygon(), None)


@pytest.fixture(scope="module")
def massy() -> tuple[gpd.GeoDataFrame, shapely.Geometry, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    communes = gpd.read_file(FIXTURES / "communes_massy.geojson")
    massy = communes[communes["code_insee"] == "91377"].union_all()
    territory = communes.union_all()
    roads = prepare_layer(
        gpd.read_file(FIXTURES / "roads_osm_massy.geojson"), "barriers", territory=territory
    ).features
    rails = prepare_layer(
        gpd.read_file(FIXTURES / "railways_idfm_essonne.geojson"), "barriers", territory=territory
    ).features
    communes = communes.rename(columns={"code_insee": "code"})
    return communes, massy, roads, rails


def test_massy_blocks_cover_the_commune(
    massy: tuple[gpd.GeoDataFrame, shapely.Geometry, gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    communes, commune, roads, _ = massy
    blocks = street_blocks(commune, roads, resolution=9)
    assert_partition(blocks, commune)
    areas = blocks.to_crs(LAMBERT93).area
    assert areas.min() >= 2000
    assert areas.max() < 2.0 * h3.average_hexagon_area(9, unit="m^2")
    assert len(blocks) > 2 * len(tessellate(commune, 9))  # streets cut finer than cells
    # The grid's attribute and workload functions work on blocks unchanged.
    communes = communes.assign(population=pd.Series([50000, 0, 0, 0]))
    attrs = cell_attributes(blocks, communes)
    attrs["workload"] = workload(attrs)
    assert attrs["commune"].eq("91377").all()
    assert attrs["population"].sum() == pytest.approx(50000, rel=1e-5)


def test_massy_blocks_follow_the_railway(
    massy: tuple[gpd.GeoDataFrame, shapely.Geometry, gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    _, commune, roads, rails = massy
    lines = gpd.GeoDataFrame(pd.concat([roads, rails], ignore_index=True), crs=WGS84)
    blocks = street_blocks(commune, lines, resolution=9)
    assert_partition(blocks, commune)
    # With the railway alone (no crossing known), the blocks facing each other across it
    # are cut apart, along the track.
    graph = adjacency(blocks, rails)
    cut = graph.edges.loc[graph.edges["blocked"] & graph.edges["barrier"].eq("railway")]
    assert len(cut) > 5
    assert graph.edges["blocked"].sum() < len(graph.edges)
    metric = blocks.to_crs(LAMBERT93).geometry.to_numpy()
    shared = shapely.intersection(
        shapely.boundary(metric[cut["a"].to_numpy()]),
        shapely.boundary(metric[cut["b"].to_numpy()]),
    )
    track = rails.to_crs(LAMBERT93).union_all()
    near = shapely.length(shapely.intersection(shared, track.buffer(1.0)))
    along = near / shapely.length(shared) > 0.9  # the others: a street the track crosses
    assert along.sum() >= 3 and near[along].sum() > 1000
    # With the roads too, the same edges are crossed by the railway, and a bridge or a
    # level crossing on a block's edge reopens it (a block is reachable across it).
    full = adjacency(blocks, lines)
    railway = full.edges.loc[full.edges["barrier"].eq("railway")]
    assert len(railway) >= len(cut)
    assert railway["blocked"].sum() <= len(cut)
