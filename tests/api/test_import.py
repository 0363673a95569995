"""Territory import against the real PostGIS: results, idempotence, all-or-nothing."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.services.context import Context
from api.services.demo import read_demo_manifest
from api.services.territory import import_territory
from geo.errors import PsqError, UnknownCommunesError
from geo.territory import prepare_communes, read_communes
from psq.cli import app as cli
from tests.conftest import DEMO_DIR

DEMO_FILE = DEMO_DIR / "communes_90.geojson"
BELFORT = read_demo_manifest(DEMO_DIR).csps[0]


def snapshot(engine: Engine) -> tuple[object, ...]:
    """Every row of the territory tables, geometry included, as one comparable value."""
    digest = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
    with engine.connect() as conn:
        return tuple(
            conn.execute(text(digest.format(t))).scalar_one()
            for t in ("commune", "csp", "csp_commune")
        )


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("commune", "csp", "csp_commune")
        }


@pytest.mark.usefixtures("demo")
def test_demo_import(engine: Engine) -> None:
    assert counts(engine) == {"commune": 101, "csp": 1, "csp_commune": 10}
    with engine.connect() as conn:
        row = conn.execute(
            text(
                """SELECT ST_IsValid(c.geom), GeometryType(c.geom), ST_SRID(c.geom),
                          ST_Area(c.geom::geography),
                          (SELECT sum(ST_Area(m.geom::geography)) FROM commune m
                            JOIN csp_commune l ON l.commune_code = m.code WHERE l.csp_id = c.id)
                   FROM csp c"""
            )
        ).one()
    valid, kind, srid, union_area, sum_area = row
    assert valid and kind == "MULTIPOLYGON" and srid == 4326
    # The communes do not overlap: the outline's area is the sum of theirs.
    assert union_area == pytest.approx(sum_area, rel=1e-4)


def test_importing_twice_does_not_duplicate(demo: sessionmaker[Session], engine: Engine) -> None:
    before = snapshot(engine)
    report = import_territory(
        Context(demo),
        layer=read_communes(DEMO_FILE),
        csp_name=BELFORT.name,
        csp_code=BELFORT.code,
        commune_codes=BELFORT.commune_codes,
    )
    assert (report.communes_inserted, report.communes_updated) == (0, 101)
    assert not report.csp_created
    assert counts(engine) == {"commune": 101, "csp": 1, "csp_commune": 10}
    assert snapshot(engine)[0] == before[0]  # communes unchanged


def test_csp_defaults_to_every_commune_of_the_file(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    report = import_territory(
        Context(factory), layer=read_communes(DEMO_FILE), csp_name="Tout le 90"
    )
    assert report.csp_code == "tout-le-90"
    assert report.csp_commune_count == 101
    assert counts(engine) == {"commune": 101, "csp": 1, "csp_commune": 101}


def test_changing_a_commune_refreshes_every_csp_outline(
    demo: sessionmaker[Session], engine: Engine
) -> None:
    """Re-importing a commune through another CSP updates the outline of the demo CSP."""

    def belfort_area() -> float:
        with engine.connect() as conn:
            sql = text("SELECT ST_Area(geom::geography) FROM csp WHERE name = 'Belfort'")
            return float(conn.execute(sql).scalar_one())

    before = belfort_area()
    layer = read_communes(DEMO_FILE)
    gdf = layer.communes
    # Belfort (about 17 km²) becomes a disc of about 0.02 km².
    gdf.loc[gdf["code"] == "90010", "geometry"] = gpd.GeoSeries(
        [Point(6.86, 47.64).buffer(0.001)], crs=4326
    ).values
    import_territory(
        Context(demo), layer=prepare_communes(gdf), csp_name="Autre", commune_codes=["90001"]
    )
    assert belfort_area() == pytest.approx(before - 17.2e6, rel=0.02)


def test_unknown_commune_codes_write_nothing(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    with pytest.raises(UnknownCommunesError, match="99999"):
        import_territory(
            Context(factory),
            layer=read_communes(DEMO_FILE),
            csp_name="Belfort",
            commune_codes=["90010", "99999"],
        )
    assert counts(engine) == {"commune": 0, "csp": 0, "csp_commune": 0}


# -- bad files leave the database exactly as it was ------------------------------------
def _write(tmp_path: Path, name: str, gdf: gpd.GeoDataFrame) -> Path:
    path = tmp_path / name
    gdf.to_file(path)
    return path


def _demo_gdf() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO_FILE)


BadFile = Callable[[Path], Path]
BAD_FILES: dict[str, tuple[BadFile, str]] = {
    "missing columns": (
        lambda d: _write(d, "cols.geojson", _demo_gdf().rename(columns={"code_insee": "id"})),
        "attendu code : l'une de code_insee",
    ),
    "duplicate codes": (
        lambda d: _write(
            d,
            "dup.geojson",
            _demo_gdf().assign(code_insee=lambda g: g["code_insee"].where(g.index != 5, "90010")),
        ),
        "codes en double : 90010",
    ),
    "empty file": (
        lambda d: _write_text(d, "empty.geojson", '{"type": "FeatureCollection", "features": []}'),
        "ne contient aucun objet",
    ),
    "points": (
        lambda d: _write(
            d, "points.geojson", _demo_gdf().assign(geometry=lambda g: g.representative_point())
        ),
        "géométries Polygon ou MultiPolygon attendues",
    ),
    "no crs": (
        lambda d: _write_without_crs(d, "nocrs.gpkg"),
        "ne déclare pas de système de coordonnées",
    ),
    "not a vector file": (
        lambda d: _write_text(d, "notes.geojson", "communes de Belfort"),
        "GDAL ne sait pas le lire",
    ),
}


def _write_without_crs(tmp_path: Path, name: str) -> Path:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        return _write(tmp_path, name, _demo_gdf().set_crs(None, allow_override=True))


def _write_text(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


@pytest.mark.parametrize("case", BAD_FILES)
@pytest.mark.usefixtures("demo")
def test_bad_file_leaves_database_unchanged(
    case: str,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    make, expected = BAD_FILES[case]
    path = make(tmp_path)
    before = snapshot(engine)
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["import-territory", str(path), "--csp-name", "Belfort"])
    assert result.exit_code == 2, result.output
    assert "Erreur" in result.output and expected in " ".join(result.output.split())
    assert snapshot(engine) == before


def test_failure_half_way_rolls_back(demo: sessionmaker[Session], engine: Engine) -> None:
    """An error raised after the communes were written must undo them too."""
    before = snapshot(engine)
    layer = read_communes(DEMO_FILE)
    layer.communes["name"] = layer.communes["name"] + " (modifiée)"
    with pytest.raises(PsqError):
        import_territory(Context(demo), layer=layer, csp_name="Belfort", commune_codes=["00000"])
    assert snapshot(engine) == before


def test_cli_import_and_list(
    factory: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    del factory
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    codes = ",".join(BELFORT.commune_codes)
    result = runner.invoke(
        cli, ["import-territory", str(DEMO_FILE), "--csp-name", "Belfort", "--communes", codes]
    )
    assert result.exit_code == 0, result.output
    assert "101 commune(s) ajoutée(s)" in result.output
    assert "avec 10 commune(s)" in result.output
    listed = runner.invoke(cli, ["csp", "list"])
    assert listed.exit_code == 0
    assert "Belfort" in listed.output and "71 619" in listed.output
