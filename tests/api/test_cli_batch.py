"""``psq sectorize-all`` on real Belfort communes in PostGIS: worker processes, then a
Dask ``LocalCluster``; a ``links`` layer joins a territory in two parts."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from distributed import LocalCluster
from shapely.geometry import LineString
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.models import Csp, Plan
from psq.cli import app as cli

COMMUNES = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "communes_90.geojson"
NORTH = ["90010", "90099", "90075"]  # Belfort, Valdoie, Offemont
SOUTH = ["90033"]  # Delle, 13 km away


@pytest.fixture
def runner(
    factory: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    del factory
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def _notes(factory: sessionmaker[Session], csp: str) -> list[list[str]]:
    with factory() as session:
        csp_id = session.scalar(select(Csp.id).where(Csp.name == csp))
        return [list(n) for n in session.scalars(select(Plan.notes).where(Plan.csp_id == csp_id))]


def test_sectorize_all_designs_each_csp_and_reports_failures(
    runner: CliRunner, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # A territory in two parts, joined by a declared ferry-like link.
    codes = ",".join(NORTH + SOUTH)
    made = runner.invoke(
        cli, ["import-territory", str(COMMUNES), "--csp-name", "Deux rives", "--communes", codes]
    )
    assert made.exit_code == 0, made.output
    communes = gpd.read_file(COMMUNES).set_index("code_insee")
    a = communes.geometry["90010"].representative_point()
    b = communes.geometry["90033"].representative_point()
    link = tmp_path / "navette.geojson"
    gpd.GeoDataFrame({"nom": ["Navette test"]}, geometry=[LineString([a, b])], crs=4326).to_file(
        link
    )
    layer = runner.invoke(cli, ["import-layer", str(link), "--kind", "links", "--name", "navette"])
    assert layer.exit_code == 0, layer.output

    batch = tmp_path / "csp.json"
    batch.write_text(
        json.dumps(
            [
                {"name": "Lot Nord", "communes": NORTH, "k": 3, "tolerance": 0.1, "resolution": 8},
                {"name": "Deux rives", "k": 4, "tolerance": 0.15, "resolution": 8},
                {"name": "Lot Faux", "communes": ["99999"], "k": 2},
            ]
        )
    )
    result = runner.invoke(
        cli, ["sectorize-all", str(batch), "--communes-file", str(COMMUNES), "--workers", "2"]
    )
    out = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "ÉCHEC Lot Faux" in out and "99999" in out
    assert "Lot Nord : plan" in out and "Deux rives : plan" in out
    assert "Sectorisation de 3 CSP" in out and "1 CSP en échec sur 3" in out
    assert len(_notes(factory, "Lot Nord")) == 1
    # Each CSP keeps its own outline when another is defined after it.
    with factory() as session:
        areas = dict(
            session.execute(select(Csp.name, func.ST_Area(func.Geography(Csp.geom)))).all()
        )
    assert areas["Deux rives"] > areas["Lot Nord"] * 1.1
    (rives,) = _notes(factory, "Deux rives")
    assert any("« Navette test »" in note for note in rives), rives

    # The same batch on a Dask cluster (in-process workers: the path beyond one machine).
    batch.write_text(json.dumps([{"name": "Lot Nord", "k": 2, "resolution": 8}]))
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=1) as cluster:
        result = runner.invoke(
            cli, ["sectorize-all", str(batch), "--scheduler", cluster.scheduler_address]
        )
    assert result.exit_code == 0, result.output
    assert "[1/1] Lot Nord : plan" in result.output
    assert len(_notes(factory, "Lot Nord")) == 2
