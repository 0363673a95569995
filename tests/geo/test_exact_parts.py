"""The exact mode on a territory in two parts whose split of k misses the band
(:mod:`geo.sectorize.exact_parts`), and sectors balanced by area when the workload is 0
everywhere (:mod:`geo.sectorize.by_area`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo.errors import PsqError
from geo.grid import adjacency
from geo.plan import UnitGraph
from geo.pmedian import pmedian_distance
from geo.sectorize import DesignParameters, make_sectorizer
from geo.sectorize.by_area import AREA_NOTE
from geo.sectorize.exact_parts import ExactParts
from tests.geo.test_sectorize import STEP, square_grid
from tests.plan_checks import check_partition


def two_blocks() -> UnitGraph:
    """Block A, 5 x 2 units of workload 3 (30), and block B, 4 x 3 units of workload 1
    (12), ten units apart: one proximity link joins them. For k = 3 at ±10 % (sectors
    of 12.6 to 15.4), the split 2 + 1 gives part B a sector of 12 (-14 %), and no plan
    is balanced: B's units all lie in the one sector holding the link, 12 + 3 = 15, and
    A's 27 left cannot make two sectors of 15."""
    cells, loads = [], []
    for x0, nx, ny, load in ((0, 5, 2, 3.0), (15, 4, 3, 1.0)):
        for y in range(ny):
            for x in range(nx):
                i = x0 + x  # the corners as square_grid computes them: shared exactly
                square = box(6.8 + i * STEP, 47.6 + y * STEP, 6.8 + (i + 1) * STEP,
                             47.6 + (y + 1) * STEP)  # fmt: skip
                cells.append((f"{i}-{y}", square))
                loads.append(load)
    units = gpd.GeoDataFrame(
        {"unit": [c[0] for c in cells], "commune": "90010", "workload": loads},
        geometry=[c[1] for c in cells],
        crs=4326,
    )
    return UnitGraph.build(units, adjacency(units))


@pytest.fixture(scope="module")
def blocks() -> UnitGraph:
    return two_blocks()


def test_two_parts_that_cannot_balance_get_the_exact_plan_of_each_part(
    blocks: UnitGraph,
) -> None:
    """Each part solved exactly, warm-started from the heuristic's plan of it, at the
    smallest time limit: the plan, its bound for that split, and the notes and the balance
    violation that say so, in French (the whole territory's model, with what the parts
    left, proves nothing on this one: HiGHS does not in 20 s)."""
    params = DesignParameters(
        method="exact", k=3, tolerance=0.1, whole_commune_population=0, time_limit=1
    )
    design = make_sectorizer(params)
    assert isinstance(design, ExactParts)
    plan = design.solve(blocks, rng=params.rng())
    check_partition(plan).assert_valid()
    in_a = np.asarray(blocks.workload == 3.0)
    loads = np.bincount(plan.assignment, weights=blocks.workload, minlength=3)
    # part A's two sectors of 15 (its band: 14.6 to 15.4 around its mean), B's one of 12
    assert len(set(plan.assignment[in_a])) == 2 and len(set(plan.assignment[~in_a])) == 1
    assert sorted(loads.tolist()) == [12.0, 15.0, 15.0]
    assert any(n.startswith("mode exact partie par partie (2 + 1 secteurs)") for n in plan.notes)
    bound = plan.bound
    assert bound is not None and bound.status in {"optimal", "gap"}
    assert bound.reason == "pour la répartition 2 + 1 des parties"
    assert bound.sentence().endswith(", pour la répartition 2 + 1 des parties)")
    objective = pmedian_distance(blocks.centroids, blocks.workload, plan.assignment, 3)
    assert bound.objective_m == pytest.approx(objective)
    (said,) = [n for n in plan.notes if n.startswith("équilibre")]
    (balance,) = [v for v in plan.violations if v.constraint == "balance"]
    if "preuve du solveur" in said:
        assert balance.message.endswith("; infaisabilité prouvée")
    else:
        assert said.endswith("(infaisabilité non prouvée)"), said
        assert balance.message.endswith("; infaisabilité non prouvée")


def test_the_whole_territory_s_model_proves_it_cannot_balance(blocks: UnitGraph) -> None:
    """Block B a small commune kept whole: the whole territory's model (one centre per
    atom) proves within the time the parts left that no plan holds the band."""
    units = blocks.units.assign(
        commune=np.where(blocks.workload == 1.0, "B", "A"),
        population=np.where(blocks.workload == 1.0, 10.0, 3000.0),
    )
    graph = UnitGraph(units=units, edges=blocks.edges, links=blocks.links)
    params = DesignParameters(
        method="exact", k=3, tolerance=0.1, whole_commune_population=1000, time_limit=8
    )
    plan = make_sectorizer(params).solve(graph, rng=params.rng())
    assert sorted(np.bincount(plan.assignment, weights=graph.workload).tolist()) == [12, 15, 15]
    assert (
        "équilibre impossible sur tout le territoire : aucun découpage en 3 secteurs d'un "
        "seul tenant, les communes de moins de 1\u202f000 habitants entières, ne tient "
        "l'équilibre de ±10,0\u202f% : preuve du solveur"
    ) in plan.notes, plan.notes
    (balance,) = [v for v in plan.violations if v.constraint == "balance"]
    assert balance.message.endswith("; infaisabilité prouvée")


@pytest.mark.parametrize("reports", [1, 4])
def test_a_cancelled_run_keeps_the_plan_of_the_parts(blocks: UnitGraph, reports: int) -> None:
    """The job cancelled (its progress raises) during the first part: the plan of the
    parts is kept, the heuristic's for what was not solved, and the notes say so."""
    calls: list[float] = []

    def progress(fraction: float, stage: str) -> None:
        del stage
        calls.append(fraction)
        if len(calls) > reports:
            raise PsqError("annulée à la demande")

    params = DesignParameters(
        method="exact", k=3, tolerance=0.1, whole_commune_population=0, time_limit=4
    )
    plan = make_sectorizer(params).solve(blocks, rng=params.rng(), progress=progress)
    check_partition(plan).assert_valid()
    assert plan.k == 3
    assert any("recherche arrêtée (annulée à la demande)" in n for n in plan.notes), plan.notes
    assert any(v.constraint == "balance" for v in plan.violations)


def test_a_zero_workload_is_balanced_by_area_and_said_so() -> None:
    """No workload anywhere: every plan used to be « balanced » (sectors of 1 and 20
    units); the sectors are now balanced by area, the plan's first note says so, and the
    plan stays on the territory's own units (workload 0)."""
    graph = square_grid(8, 6, loads=np.zeros(48))
    for method in ("engine", "exact"):
        params = DesignParameters(
            method=method,  # type: ignore[arg-type]
            k=4,
            tolerance=0.1,
            whole_commune_population=0,
            time_limit=3,
        )
        plan = make_sectorizer(params).solve(graph, rng=params.rng())
        area = graph.metric.geometry.area.to_numpy()
        sizes = np.bincount(plan.assignment, weights=area, minlength=4)
        assert np.abs(sizes / sizes.mean() - 1).max() <= 0.1 + 1e-9, (method, sizes)
        assert plan.notes[0] == AREA_NOTE
        assert plan.graph is graph and plan.workloads.sum() == 0
        assert not plan.violations
