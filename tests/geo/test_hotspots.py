"""Hotspot analysis: Gi* against a hand computation, kernel density mass and shape,
Silverman's rule, period comparison, PAI/PEI on a known layout."""

from __future__ import annotations

import math

import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS
from scipy.stats import norm

from geo.density import MIN_BANDWIDTH_M, kde, silverman_bandwidth
from geo.errors import InvalidInputError
from geo.hotspots import (
    analyse_area,
    compare_periods,
    fdr_threshold,
    getis_ord,
    gi_star_weights,
    gi_star_z,
    h3_counts,
    h3_neighbours,
    metric_xy,
    prediction_indices,
    study_cells,
)

L93 = CRS.from_epsg(2154)
CENTRE = h3.latlng_to_cell(47.64, 6.86, 9)
RING1 = sorted(h3.grid_ring(CENTRE, 1))
RING2 = sorted(h3.grid_ring(CENTRE, 2))
DISK = [CENTRE, *RING1, *RING2]  # 19 cells


def test_gi_star_z_is_esdas_to_the_bit() -> None:
    # The z-scores computed from the kept weights (issue 22: the weights are built once
    # per set of cells) are esda's G_Local's, number for number, on random counts.
    from esda import G_Local
    from libpysal.weights import W

    cells = sorted(h3.grid_disk(CENTRE, 6))  # 127 cells
    rng = np.random.default_rng(22)
    weights, order = gi_star_weights(tuple(cells))
    for _ in range(3):
        y = rng.poisson(3, len(cells)).astype(float)
        w = W(h3_neighbours(pd.Index(cells)), silence_warnings=True)
        assert list(order) == list(w.id_order)
        expected = G_Local(y, w, transform="B", star=1.0, permutations=0).Zs
        assert np.array_equal(gi_star_z(weights, y), expected)


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")  # on purpose
def test_gi_star_weights_are_esdas_prepared_weights() -> None:
    # The weights built from the rings at once (issue 22) are the matrix libpysal's W and
    # esda's preparation gave, entry for entry, over cells with gaps and islands.
    from esda import G_Local
    from libpysal.weights import W

    disk = sorted(h3.grid_disk(CENTRE, 8))
    rng = np.random.default_rng(5)
    cells = sorted(c for c in disk if rng.random() < 0.6)  # holes, lone cells
    cells.append(h3.latlng_to_cell(48.85, 2.35, 9))  # an island far away
    weights, order = gi_star_weights(tuple(cells))
    w = W(h3_neighbours(pd.Index(cells)), silence_warnings=True)
    prepared = G_Local(
        np.arange(len(cells), dtype=float), w, transform="B", star=1.0, permutations=0
    ).w
    assert list(order) == list(prepared.id_order) == cells
    assert (weights != prepared.sparse.tocsr()).nnz == 0
    assert weights.diagonal().tolist() == [1.0] * len(cells)


def test_fdr_threshold_is_esdas() -> None:
    from esda import fdr

    rng = np.random.default_rng(3)
    for n in (1, 7, 500):
        for scale in (1.0, 0.01):
            p = rng.random(n) * scale
            for rate in (0.01, 0.05, 0.1):
                assert fdr_threshold(p, rate) == fdr(p, rate)


def previous_getis_ord(counts: pd.Series) -> pd.DataFrame:
    """Gi* as computed before issue 22: esda's G_Local over libpysal's W, esda's fdr."""
    from esda import G_Local, fdr
    from libpysal.weights import W

    w = W(h3_neighbours(counts.index), silence_warnings=True)
    y = counts.reindex(w.id_order).to_numpy(dtype=float)
    z = pd.Series(G_Local(y, w, transform="B", star=1.0, permutations=0).Zs, index=w.id_order)
    frame = pd.DataFrame({"count": counts.astype(int), "z": z.reindex(counts.index).fillna(0.0)})
    frame["p"] = 2 * norm.sf(frame["z"].abs())
    p, levels = frame["p"].to_numpy(), np.zeros(len(frame), dtype=np.int64)
    for level, rate in ((1, 0.10), (2, 0.05), (3, 0.01)):
        significant = p <= fdr(p, rate)
        levels[significant] = level * np.sign(frame["z"].to_numpy()[significant]).astype(int)
    levels[(levels > 0) & (frame["count"].to_numpy() == 0)] = 0
    frame["level"] = levels
    return frame


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")  # on purpose
def test_getis_ord_is_the_previous_computation() -> None:
    # A planted cluster and noise over cells with holes and an island: every column the
    # same to the bit as esda's pipeline gave.
    rng = np.random.default_rng(22)
    cells = sorted(c for c in h3.grid_disk(CENTRE, 10) if rng.random() < 0.8)
    cells.append(h3.latlng_to_cell(48.85, 2.35, 9))
    counts = pd.Series(rng.poisson(1.5, len(cells)), index=pd.Index(cells, name="h3"))
    counts[[c for c in h3.grid_disk(CENTRE, 2) if c in counts.index]] += 9
    got = getis_ord(counts)
    expected = previous_getis_ord(counts)
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    assert (got["level"] == 3).any()  # the cluster found


def test_a_point_is_projected_alone_as_in_a_batch() -> None:
    # A map kept by appending projects only the new problems: their metres must be those
    # a projection of every problem at once gives.
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(6.8, 6.9, 500), rng.uniform(47.6, 47.7, 500)
    batch = metric_xy(lon, lat, L93)
    alone = np.vstack([metric_xy(lon[i : i + 1], lat[i : i + 1], L93) for i in range(500)])
    assert np.array_equal(batch, alone)


def test_gi_star_matches_a_hand_computation() -> None:
    # 19 cells: 10 problems in the centre, 4 in each cell of its ring, none beyond.
    counts = pd.Series([10] + [4] * 6 + [0] * 12, index=DISK)
    # By hand, with binary weights and the cell itself in its neighbourhood (Gi*):
    # n = 19, sum x = 34, mean = 34/19, sum x² = 100 + 6·16 = 196,
    # S = sqrt(196/19 - (34/19)²) = 2.667128.
    # Centre: 7 neighbours (itself and its ring), all the non-zero cells, sum w·x = 34,
    #   z = (34 - 7·34/19) / (S · sqrt((19·7 - 7²) / 18)) = 21.473684 / 5.761655 = 3.72700
    # A ring cell: itself, the centre, two ring cells and three of the outer ring:
    #   sum w·x = 4 + 10 + 8 = 22, z = (22 - 7·34/19) / 5.761655 = 1.64426
    # An outer corner cell (4 cells inside the disk: itself, one ring cell, two outer
    #   ones; sum w·x = 4, w = 4): z = (4 - 4·34/19) / (S·sqrt((19·4 - 16)/18)) = -0.64851
    s = math.sqrt(196 / 19 - (34 / 19) ** 2)
    assert s == pytest.approx(2.667128, abs=1e-6)
    gi = getis_ord(counts)
    assert gi.loc[CENTRE, "z"] == pytest.approx(3.72700, abs=1e-5)
    assert gi.loc[RING1, "z"].to_numpy() == pytest.approx([1.64426] * 6, abs=1e-5)
    corner = next(c for c in RING2 if len(set(h3.grid_disk(c, 1)) & set(DISK)) == 4)
    assert gi.loc[corner, "z"] == pytest.approx(-0.64851, abs=1e-5)
    # Two-sided p of z = 3.727 is 0.000194; after the FDR correction over 19 cells the
    # centre stays a 99 % hot spot and nothing else is significant at 90 %.
    assert gi.loc[CENTRE, "p"] == pytest.approx(0.000194, abs=1e-6)
    assert gi.loc[CENTRE, "level"] == 3
    assert (gi.drop(index=CENTRE)["level"] == 0).all()


def test_gi_star_finds_cold_spots_and_nothing_in_a_flat_field() -> None:
    flat = getis_ord(pd.Series(5, index=DISK))
    assert (flat["level"] == 0).all() and (flat["z"] == 0).all()
    cells = sorted(h3.grid_disk(CENTRE, 6))
    counts = pd.Series(8, index=cells)
    counts[list(h3.grid_disk(CENTRE, 1))] = 0  # a hole in an evenly busy area
    gi = getis_ord(counts)
    assert gi.loc[CENTRE, "level"] < 0
    assert gi["level"].max() == 0


def test_kde_conserves_mass() -> None:
    rng = np.random.default_rng(1)
    xy = rng.normal([990_000, 6_740_000], [800, 500], size=(2_000, 2))
    surface = kde(xy, crs=L93)
    assert surface.mass == pytest.approx(2_000, rel=1e-9)
    weights = rng.uniform(0.5, 2, size=len(xy))
    weighted = kde(xy, crs=L93, bandwidth=300, weights=weights)
    assert weighted.mass == pytest.approx(weights.sum(), rel=1e-9)
    assert weighted.bandwidth == 300


def test_kde_of_one_point_is_the_quartic_kernel() -> None:
    h = 400.0
    surface = kde(np.array([[1_000_000.0, 6_700_000.0]]), crs=L93, bandwidth=h, cell_size=10)
    peak = surface.density.max() / 1e6  # per m²
    assert peak == pytest.approx(3 / (math.pi * h**2), rel=0.02)
    # Zero beyond the bandwidth: the support is a disc of radius h.
    support = (surface.density > 0).sum() * surface.cell_size**2
    assert support == pytest.approx(math.pi * h**2, rel=0.03)


def test_silverman_bandwidth() -> None:
    square = np.array([[0, 0], [1000, 0], [0, 1000], [1000, 1000]], dtype=float)
    # SD = sqrt(250000 + 250000) = 707.1; Dm = 707.1; min(707.1, 1.2011·707.1) = 707.1;
    # h = 0.9 · 707.1 · 4^-0.2 = 484.6 … with n^-0.2 = 0.757858: 482.3
    assert silverman_bandwidth(square) == pytest.approx(0.9 * 707.1068 * 4**-0.2, rel=1e-5)
    assert silverman_bandwidth(np.zeros((5, 2))) == MIN_BANDWIDTH_M
    with pytest.raises(InvalidInputError):
        silverman_bandwidth(np.empty((0, 2)))


def test_counts_keep_empty_cells() -> None:
    lat, lon = h3.cell_to_latlng(CENTRE)
    counts = h3_counts(np.array([lon, lon, 0.0]), np.array([lat, lat, 0.0]), DISK)
    assert counts[CENTRE] == 2 and counts.sum() == 2 and len(counts) == 19


def test_study_cells_cover_the_area() -> None:
    area = shapely.box(6.84, 47.63, 6.88, 47.65)
    cells = study_cells(area, 9)
    union = shapely.union_all(
        [shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(c)]) for c in cells]
    )
    assert union.buffer(1e-9).covers(area)


def test_period_comparison_classes() -> None:
    # Six cells far apart: each neighbourhood holds its cell's problems only.
    cells = [h3.latlng_to_cell(47.0 + i / 10, 6.8, 9) for i in range(6)]
    a, b, c, d, e, f = cells
    before = pd.DataFrame(
        {"count": [10, 10, 10, 10, 0, 0], "level": [2, 2, 2, 2, 0, 1]}, index=cells
    )
    after = pd.DataFrame({"count": [10, 20, 8, 3, 9, 0], "level": [2, 3, 1, 0, 2, 1]}, index=cells)
    trend = compare_periods(before, after, days_before=30, days_after=30)
    assert trend.to_dict() == {
        a: "persistent",
        b: "intensifying",  # x 2
        c: "diminishing",  # 10 -> 8: divided by 1.25
        d: "diminishing",  # no longer hot
        e: "new",
        f: "persistent",  # hot in both through its neighbours, none in the cell itself
    }
    # Rates are per day: the same count over twice the days is a halving.
    longer = compare_periods(before, before, days_before=30, days_after=60)
    assert longer[[a, b, c, d]].eq("diminishing").all() and longer[f] == "persistent"
    # Rates are over the neighbourhood Gi* judged: a cell's neighbour counts.
    ring = sorted(h3.grid_ring(a, 1))
    near = pd.DataFrame({"count": [0, 12], "level": [2, 0]}, index=[a, ring[0]])
    was = pd.DataFrame({"count": [0, 4], "level": [2, 0]}, index=[a, ring[0]])
    assert compare_periods(was, near, days_before=10, days_after=10)[a] == "intensifying"


def test_pai_and_pei_on_a_known_layout() -> None:
    # 19 nearly equal cells; the hotspot map names 2 of them. The later period has 20
    # problems: 6 and 4 in the hotspot cells, 10 in another cell.
    later = pd.Series(0, index=DISK)
    later[RING1[0]], later[RING1[1]], later[RING2[0]] = 6, 4, 10
    indices = prediction_indices([RING1[0], RING1[1]], later)
    assert indices.hits == 10 and indices.problems == 20
    assert indices.hit_rate == pytest.approx(0.5)
    assert indices.area_share == pytest.approx(2 / 19, rel=0.01)
    assert indices.pai == pytest.approx(0.5 / (2 / 19), rel=0.01)  # 4.75
    # The best 2 cells would have caught 10 + 6 = 16.
    assert indices.best_hits == 16
    assert indices.pei == pytest.approx(10 / 16)
    none = prediction_indices([], later)
    assert none.pai is None and none.pei is None


def test_analyse_area_finds_a_planted_cluster() -> None:
    rng = np.random.default_rng(2)
    area = shapely.box(6.80, 47.60, 6.90, 47.66)
    lon = np.r_[rng.uniform(6.80, 6.90, 1500), rng.normal(6.85, 0.0015, 500)]
    lat = np.r_[rng.uniform(47.60, 47.66, 1500), rng.normal(47.63, 0.001, 500)]
    result = analyse_area(lon, lat, area)
    assert result.surface is not None and result.surface.mass == pytest.approx(2000)
    hot = result.cells[result.cells["level"] > 0]
    assert h3.latlng_to_cell(47.63, 6.85, 9) in hot.index
    centres = np.array([h3.cell_to_latlng(c) for c in hot.index])
    assert np.abs(centres - [47.63, 6.85]).max() < 0.01  # every hot cell near the cluster
    peak_row, peak_col = np.unravel_index(
        result.surface.density.argmax(), result.surface.density.shape
    )
    assert result.surface.density[peak_row, peak_col] > 10 * np.median(result.surface.density)
    bands = result.surface.bands()
    assert bands.is_valid.all() and bands["share"].nunique() == 6
    projected = bands.to_crs(2154)
    assert projected.area.sum() == pytest.approx(projected.union_all().area, rel=1e-6)
    empty = analyse_area(np.array([]), np.array([]), area)
    assert empty.surface is None and (empty.cells["count"] == 0).all()


def test_gi_star_needs_a_minimum_of_problems() -> None:
    """29 problems (centre 10, its ring 4, 4, 3, 3, 3, 2): by hand the centre's
    z = (29 - 7·29/19) / (2.5 · sqrt((19·7 - 49)/18)) = 3.392 (S = sqrt(163/19 - (29/19)²)
    = 2.5), p = 0.0007 < 0.05/19, a 95 % hot spot; but 29 is below MIN_HOTSPOT_PROBLEMS,
    so nothing is called hot. One more problem in the outer ring (30): z = 3.353, p =
    0.0008, and the centre is a 95 % hot spot."""
    from geo.hotspots import MIN_HOTSPOT_PROBLEMS

    assert MIN_HOTSPOT_PROBLEMS == 30
    counts = pd.Series([10, 4, 4, 3, 3, 3, 2] + [0] * 12, index=DISK)
    assert counts.sum() == 29
    assert (getis_ord(counts)["level"] == 0).all()
    counts[RING2[0]] = 1
    gi = getis_ord(counts)
    assert gi.loc[CENTRE, "z"] == pytest.approx(3.353, abs=1e-3)
    assert gi.loc[CENTRE, "level"] == 2
    assert (gi.loc[gi["count"] == 0, "level"] <= 0).all()  # no hot cell without a problem
