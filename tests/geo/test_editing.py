"""PlanEditor: incremental metrics equal a full score after any sequence of edits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from geo.editing import PlanEditor
from geo.errors import InvalidInputError
from geo.metrics import components_per_sector, score
from geo.plan import SectorPlan, UnitGraph
from geo.sectorize.growth import RegionGrowth
from tests.plan_checks import check_partition


@pytest.fixture(scope="module")
def plan(belfort_graph: UnitGraph) -> SectorPlan:
    return RegionGrowth(k=6).solve(belfort_graph, rng=np.random.default_rng(3))


def assert_close(mine: Any, theirs: Any, where: str = "") -> None:
    if isinstance(theirs, dict):
        assert set(mine) == set(theirs), where
        for key in theirs:
            assert_close(mine[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list | tuple):
        assert len(mine) == len(theirs), where
        for i, (m, t) in enumerate(zip(mine, theirs, strict=True)):
            assert_close(m, t, f"{where}[{i}]")
    elif isinstance(theirs, float):
        assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-6), where
    else:
        assert mine == theirs, where


def assert_same_metrics(editor: PlanEditor, plan: SectorPlan) -> None:
    """The editor's figures are those of a full score (dissolved polygons)."""
    full = score(plan.with_assignment(editor.assignment.copy()))
    assert_close(editor.metrics().as_dict(), full.as_dict())


def test_incremental_metrics_equal_a_full_score(plan: SectorPlan) -> None:
    editor = PlanEditor(plan)
    assert_same_metrics(editor, plan)
    a = plan.graph.edges["a"].to_numpy()
    b = plan.graph.edges["b"].to_numpy()
    rng = np.random.default_rng(7)
    for _ in range(25):  # boundary moves, a few units at a time, some breaking contiguity
        cut = np.flatnonzero(editor.assignment[a] != editor.assignment[b])
        picks = rng.choice(cut, size=int(rng.integers(1, 6)))
        changes = {int(a[e]): int(editor.assignment[b[e]]) for e in picks}
        editor.apply(changes)
    assert_same_metrics(editor, plan)
    full = plan.with_assignment(editor.assignment.copy())
    assert editor.metrics().contiguous == bool((components_per_sector(full) == 1).all())
    # On the ground (tests/plan_checks.py): a plan the editor calls contiguous is in one
    # piece per sector; one it calls torn is torn on the ground too, unless a barrier
    # (a blocked edge, which the ground does not see) is what cuts it.
    ground = check_partition(full)
    if editor.metrics().contiguous:
        ground.assert_valid()
    else:
        assert not ground.contiguous or bool(plan.graph.edges["blocked"].any())


def test_an_edit_is_undone_by_its_previous_sectors(plan: SectorPlan) -> None:
    editor = PlanEditor(plan)
    before = editor.metrics().as_dict()
    a, b = plan.graph.edges["a"].to_numpy(), plan.graph.edges["b"].to_numpy()
    e = int(np.flatnonzero(plan.assignment[a] != plan.assignment[b])[0])
    done = editor.apply({int(a[e]): int(plan.assignment[b[e]])})
    assert done.previous == {int(a[e]): int(plan.assignment[a[e]])}
    assert done.sectors == tuple(sorted({int(plan.assignment[a[e]]), int(plan.assignment[b[e]])}))
    editor.apply(done.previous)
    assert_close(editor.metrics().as_dict(), before)
    assert (editor.assignment == plan.assignment).all()


def test_detached_units_are_the_cut_off_ones(plan: SectorPlan) -> None:
    editor = PlanEditor(plan)
    csr = plan.graph.csr
    inner = next(  # a unit whose neighbours and their neighbours share its sector
        u
        for u in range(plan.graph.n)
        if all(
            plan.assignment[v] == plan.assignment[u]
            for w in csr[u].indices
            for v in [w, *csr[w].indices]
        )
    )
    other = (int(plan.assignment[inner]) + 1) % plan.k
    editor.apply({inner: other})
    assert editor.detached().tolist() == [inner]
    assert any(v.constraint == "contiguity" for v in editor.violations())


def test_invalid_edits_change_nothing(plan: SectorPlan) -> None:
    editor = PlanEditor(plan, locked=[1])
    before = editor.assignment.copy()
    in_1 = int(np.flatnonzero(plan.assignment == 1)[0])
    in_0 = int(np.flatnonzero(plan.assignment == 0)[0])
    with pytest.raises(InvalidInputError, match="verrouillé"):
        editor.apply({in_0: 2, in_1: 0})
    with pytest.raises(InvalidInputError, match="n'existe pas"):
        editor.apply({in_0: plan.k})
    with pytest.raises(InvalidInputError, match=r"unité\(s\) absente\(s\) du plan : 661"):
        editor.apply({plan.graph.n: 0})
    with pytest.raises(InvalidInputError, match="sans aucune unité"):
        editor.apply({int(u): 0 for u in np.flatnonzero(plan.assignment == 2)})
    with pytest.raises(InvalidInputError, match=r"unité\(s\) absente\(s\) du plan"):
        editor.positions(["nope"])
    with pytest.raises(InvalidInputError, match="secteur 9"):
        editor.set_locked([9])
    assert (editor.assignment == before).all()
    assert_same_metrics(editor, plan)
