"""``psq import-layer`` against the demo territory in PostGIS."""

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


def test_import_layer_with_a_declared_crs(runner: CliRunner, tmp_path: Path) -> None:
    """A railway in Lambert-93 in a GeoJSON that declares no CRS (read as WGS84)."""
    line = gpd.GeoDataFrame(
        geometry=gpd.GeoSeries.from_wkt(["LINESTRING (6.83 47.62, 6.87 47.66)"]), crs=4326
    ).to_crs(2154)
    data = json.loads(line.to_json())
    data.pop("crs", None)
    path = tmp_path / "rail.geojson"
    path.write_text(json.dumps(data))
    args = ["import-layer", str(path), "--kind", "barriers", "--name", "Rail", "--class", "railway"]

    refused = runner.invoke(cli, args)
    assert refused.exit_code == 2
    assert "le système de coordonnées déclaré est-il le bon" in " ".join(refused.output.split())
    result = runner.invoke(cli, [*args, "--crs", "2154"])
    assert result.exit_code == 0, result.output
    assert "Couche « Rail »" in result.output and "1 objet(s)" in result.output
    said = " ".join(result.output.split())
    assert "déclaré EPSG:2154 utilisé à la place de celui du fichier (EPSG:4326)" in said
