"""``psq sectorize`` and ``psq score`` against the demo territory in PostGIS."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from psq.cli import app as cli


@pytest.fixture
def runner(
    demo: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    del demo
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def test_sectorize_writes_sectors_and_metrics_then_score_reads_them_back(
    runner: CliRunner, tmp_path: Path
) -> None:
    out, metrics = tmp_path / "secteurs.geojson", tmp_path / "m.json"
    result = runner.invoke(
        cli,
        ["sectorize", "--csp", "Belfort", "--k", "5", "--seed", "4", "--out", str(out),
         "--metrics-json", str(metrics)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Plan enregistré en brouillon" in result.output
    sectors = gpd.read_file(out)
    assert len(sectors) == 5
    assert {"workload", "deviation", "polsby_popper", "components"} <= set(sectors.columns)
    report = json.loads(metrics.read_text())
    assert report["k"] == 5 and report["max_deviation"] <= 0.05 and report["contiguous"]
    assert report["violations"] == []

    rescored = tmp_path / "m2.json"
    result = runner.invoke(
        cli, ["score", "--csp", "Belfort", "--plan", str(out), "--metrics-json", str(rescored)]
    )
    assert result.exit_code == 0, result.output
    again = json.loads(rescored.read_text())
    assert again["max_deviation"] == pytest.approx(report["max_deviation"], abs=1e-4)
    assert again["split_communes"] == report["split_communes"]


def test_sectorize_takes_the_objective_in_french(runner: CliRunner, tmp_path: Path) -> None:
    metrics = tmp_path / "m.json"
    result = runner.invoke(
        cli,
        ["sectorize", "--csp", "Belfort", "--k", "3", "--objective", "mixte",
         "--objective-weight", "0.7", "--metrics-json", str(metrics),
         "--weight", "population=0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Distance moyenne au centre (p-médian)" in result.output
    # every workload at 0: the sectors are balanced by area, and the CLI says so
    assert "Note : charge nulle sur tout le territoire" in " ".join(result.output.split())
    report = json.loads(metrics.read_text())
    assert report["pmedian_distance_m"] > 0 and report["cut_length_m"] > 0
    result = runner.invoke(
        cli, ["sectorize", "--csp", "Belfort", "--k", "3", "--objective", "vitesse"]
    )
    assert result.exit_code == 2 and "--objective : « vitesse » inconnu" in result.output
    result = runner.invoke(
        cli, ["sectorize", "--csp", "Belfort", "--k", "3", "--objective-weight", "2"]
    )
    assert result.exit_code == 2 and "--objective-weight" in result.output


def test_sectorize_refuses_bad_requests_with_exit_code_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["sectorize", "--csp", "Belfort"])
    assert result.exit_code == 2 and "soit le nombre de secteurs" in result.output
    result = runner.invoke(cli, ["sectorize", "--csp", "Nulle-part", "--k", "3"])
    assert result.exit_code == 2 and "CSP inconnue" in result.output
    result = runner.invoke(cli, ["sectorize", "--csp", "Belfort", "--k", "3", "--out", "x.shp"])
    assert result.exit_code == 2 and ".shp" in result.output
