"""Execute every notebook of ``notebooks/`` and check what the sector-design one reports.

Each notebook runs in a fresh ``python3`` kernel of this environment (the test checks the
kernel's ``sys.prefix``), with its working directory set to ``notebooks/`` and
matplotlib's non-interactive Agg backend. Notebooks are committed without outputs.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SECTOR_DESIGN = NOTEBOOK_DIR / "01_sector_design.ipynb"
CELL_TIMEOUT = 300  # seconds per cell
KERNEL_PROBE = "import sys\nprint('kernel prefix:', sys.prefix)"


@cache
def executed(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` after running it, with a last cell printing the kernel's
    ``sys.prefix``; executed once per test session."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(KERNEL_PROBE))
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MPLBACKEND", "Agg")  # the kernel inherits the environment
        try:
            client.execute()
        except CellExecutionError as exc:
            pytest.fail(f"{path.name}: a cell failed\n{exc}")
    return nb


def stream_text(nb: nbformat.NotebookNode) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream"
    )


def test_the_sector_design_notebook_exists() -> None:
    assert SECTOR_DESIGN in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_without_error(path: Path) -> None:
    nb = executed(path)
    errors = [
        f"cell {i}: {out.ename}: {out.evalue}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, f"{path.name}: " + "; ".join(errors)
    assert f"kernel prefix: {sys.prefix}\n" in stream_text(nb), "kernel of another environment"


def test_sector_design_notebook_reports_a_balanced_proposal() -> None:
    nb = executed(SECTOR_DESIGN)
    text = stream_text(nb)

    proposal = re.search(r"^Proposal max deviation: ([0-9.]+) % \(tolerance ±5%\)$", text, re.M)
    baseline = re.search(r"^Baseline max deviation: ([0-9.]+) % ", text, re.M)
    assert proposal and baseline, text
    assert 0 <= float(proposal.group(1)) < 5.0
    assert float(baseline.group(1)) > 100.0  # Belfort alone is most of the workload
    assert "Proposal violations:\n  none\n" in text
    assert re.search(r"^Proposal communes split: 1 \{'Belfort': \d\}$", text, re.M)
    assert re.search(r"^20 seeds: .*, 0 run\(s\) with violations\.$", text, re.M)

    figures = sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert figures >= 6, f"expected the notebook's maps inline, got {figures} figure(s)"


def test_hotspots_notebook_reports_mass_gi_and_prediction() -> None:
    nb = executed(NOTEBOOK_DIR / "02_hotspots.ipynb")
    text = stream_text(nb)
    mass = re.search(r"^KDE mass: ([0-9.]+) \(problems: (\d+)\)$", text, re.M)
    assert mass and abs(float(mass.group(1)) - int(mass.group(2))) < 1e-3
    assert re.search(r"^Point chaud \(99 %\)\s+\d+$", text, re.M), text
    pai = re.search(r"^PAI ([0-9.]+), PEI ([0-9.]+)$", text, re.M)
    chance = re.search(r"^random maps of the same size: mean PAI ([0-9.]+)$", text, re.M)
    assert pai and chance
    assert float(pai.group(1)) > 3 * float(chance.group(1))  # far better than chance
    assert 0 < float(pai.group(2)) <= 1
    assert 0.7 < float(chance.group(1)) < 1.3
