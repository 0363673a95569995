"""Reading and validating commune layers (no database)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from geo.crs import LAMBERT93, WGS84
from geo.errors import (
    CoordinatesOutOfRangeError,
    EmptyLayerError,
    GeometryTypeError,
    InvalidValuesError,
    MissingColumnsError,
    MissingCRSError,
    UnreadableLayerError,
)
from geo.territory import prepare_communes, read_communes

DEMO = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "communes_90.geojson"


def small(**columns: list[object]) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    geoms = [box(6.80 + 0.01 * i, 47.60, 6.81 + 0.01 * i, 47.61) for i in range(n)]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=WGS84)


def test_reads_the_demo_communes() -> None:
    layer = read_communes(DEMO)
    gdf = layer.communes
    assert len(gdf) == 101
    assert list(gdf.columns) == [
        "code",
        "name",
        "population",
        "epci_code",
        "epci_name",
        "geometry",
    ]
    assert gdf.crs.to_epsg() == WGS84
    assert set(gdf.geom_type) == {"MultiPolygon"}
    assert gdf.geometry.is_valid.all()
    assert int(gdf["population"].sum()) == 140_255  # total stated in data/boundaries/SOURCES.md
    assert gdf.set_index("code").loc["90010", "name"] == "Belfort"
    # its intercommunalité, as the file gives it (siren 200069052, CA Grand Belfort)
    assert tuple(gdf.set_index("code").loc["90010", ["epci_code", "epci_name"]]) == (
        "200069052",
        "CA Grand Belfort",
    )
    assert layer.source_crs == "OGC:CRS84" or layer.source_crs == "EPSG:4326"
    assert layer.repaired == ()


def test_reprojects_from_lambert93() -> None:
    wgs = read_communes(DEMO).communes
    lambert = wgs.to_crs(LAMBERT93).rename(columns={"code": "INSEE_COM", "name": "NOM"})
    back = prepare_communes(lambert, source="lambert").communes
    assert back.crs.to_epsg() == WGS84
    assert back.geometry.iloc[0].equals_exact(wgs.geometry.iloc[0], tolerance=1e-6)


def test_missing_columns_names_expected_and_found() -> None:
    gdf = small(identifiant=["90010"], libelle_long=["Belfort"])
    with pytest.raises(MissingColumnsError) as err:
        prepare_communes(gdf, source="mauvais.geojson")
    message = str(err.value)
    assert "mauvais.geojson" in message
    assert "code_insee" in message and "nom" in message  # expected
    assert "identifiant" in message and "libelle_long" in message  # found
    assert err.value.missing.keys() == {"code", "name"}


def test_only_the_name_missing() -> None:
    with pytest.raises(MissingColumnsError) as err:
        prepare_communes(small(code_insee=["90010"]))
    assert err.value.missing.keys() == {"name"}


def test_duplicate_codes_are_named() -> None:
    gdf = small(code_insee=["90010", "90008", "90010"], nom=["A", "B", "C"])
    with pytest.raises(InvalidValuesError, match="codes en double : 90010"):
        prepare_communes(gdf)


def test_malformed_code_is_named() -> None:
    gdf = small(code_insee=["90010", "9OO1"], nom=["A", "B"])
    with pytest.raises(InvalidValuesError, match="ligne 2 : '9OO1'"):
        prepare_communes(gdf)


def test_integer_codes_get_their_leading_zero_back() -> None:
    gdf = small(insee_com=[1001, 90010], nom=["L'Abergement-Clémenciat", "Belfort"])
    assert prepare_communes(gdf).codes == ["01001", "90010"]


def test_negative_or_textual_population_is_refused() -> None:
    gdf = small(code_insee=["90010", "90008"], nom=["A", "B"], population=[10, -3])
    with pytest.raises(InvalidValuesError, match="90008: -3"):
        prepare_communes(gdf)


def test_population_is_optional() -> None:
    layer = prepare_communes(small(code_insee=["90010"], nom=["Belfort"]))
    assert layer.communes["population"].isna().all()


def test_the_intercommunalite_is_kept_when_given() -> None:
    given = prepare_communes(
        small(
            code_insee=["90010", "90001"],
            nom=["Belfort", "Andelnans"],
            SIREN_EPCI=[" 200069052 ", None],
            LIB_EPCI=["CA Grand Belfort", ""],
        )
    ).communes
    # a missing one is missing (pandas says NaN), an empty name too
    assert given["epci_code"].tolist()[0] == "200069052"
    assert given["epci_name"].tolist()[0] == "CA Grand Belfort"
    assert given[["epci_code", "epci_name"]].iloc[1].isna().all()
    without = prepare_communes(small(code_insee=["90010"], nom=["Belfort"])).communes
    assert "epci_code" not in without.columns


def test_empty_layer() -> None:
    with pytest.raises(EmptyLayerError, match="le fichier ne contient aucun objet"):
        prepare_communes(small(code_insee=[], nom=[]))


def test_no_crs() -> None:
    gdf = small(code_insee=["90010"], nom=["Belfort"]).set_crs(None, allow_override=True)
    with pytest.raises(MissingCRSError, match="ne déclare pas de système de coordonnées"):
        prepare_communes(gdf)


def test_non_polygon_geometries_are_named() -> None:
    gdf = gpd.GeoDataFrame(
        {"code_insee": ["90010", "90008", "90029"], "nom": ["A", "B", "C"]},
        geometry=[box(0, 45, 1, 46), Point(6.8, 47.6), LineString([(6.8, 47.6), (6.9, 47.7)])],
        crs=WGS84,
    )
    with pytest.raises(GeometryTypeError) as err:
        prepare_communes(gdf)
    assert err.value.offenders == {"90008": "Point", "90029": "LineString"}
    assert "90008 (Point)" in str(err.value)


def test_invalid_polygons_are_repaired_and_reported() -> None:
    bowtie = Polygon([(6.80, 47.60), (6.82, 47.62), (6.82, 47.60), (6.80, 47.62), (6.80, 47.60)])
    gdf = gpd.GeoDataFrame(
        {"code_insee": ["90010", "90008"], "nom": ["A", "B"]},
        geometry=[bowtie, box(6.9, 47.6, 6.91, 47.61)],
        crs=WGS84,
    )
    assert not gdf.geometry.iloc[0].is_valid
    layer = prepare_communes(gdf)
    assert layer.repaired == ("90010",)
    fixed = layer.communes.geometry.iloc[0]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert fixed.area == pytest.approx(0.0002, rel=1e-6)  # both triangles kept


def test_wrong_declared_crs_is_caught() -> None:
    lambert = read_communes(DEMO).communes.to_crs(LAMBERT93)
    lying = lambert.set_crs(WGS84, allow_override=True)
    with pytest.raises(
        CoordinatesOutOfRangeError, match="le système de coordonnées déclaré est-il le bon"
    ):
        prepare_communes(lying)


def test_reads_zipped_shapefile_and_geopackage(tmp_path: Path) -> None:
    gdf = read_communes(DEMO).communes.to_crs(LAMBERT93)
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    gdf.rename(columns={"code": "INSEE_COM", "name": "NOM_COM"}).to_file(shp_dir / "communes.shp")
    archive = tmp_path / "communes.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in shp_dir.iterdir():
            z.write(f, f.name)
    from_zip = read_communes(archive)
    assert len(from_zip.communes) == 101
    assert from_zip.source_crs == "EPSG:2154"

    gpkg = tmp_path / "communes.gpkg"
    gdf.to_file(gpkg, layer="communes", driver="GPKG")
    assert read_communes(gpkg).codes == from_zip.codes


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(UnreadableLayerError, match="fichier introuvable"):
        read_communes(tmp_path / "absent.geojson")
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("{ this is not json")
    with pytest.raises(UnreadableLayerError, match="GDAL ne sait pas le lire"):
        read_communes(garbage)


def test_3d_polygons_lose_their_z() -> None:
    from shapely import force_3d

    gdf = small(code_insee=["90010"], nom=["Belfort"])
    gdf["geometry"] = force_3d(gdf.geometry.to_numpy())
    assert not prepare_communes(gdf).communes.geometry.has_z.any()


@pytest.mark.parametrize("bad", [float("inf"), 3e9])
def test_absurd_population_is_refused(bad: float) -> None:
    gdf = small(code_insee=["90010"], nom=["Belfort"], population=[bad])
    with pytest.raises(InvalidValuesError, match="nombre entre 0 et"):
        prepare_communes(gdf)


def test_non_ascii_digits_and_long_names_are_refused() -> None:
    with pytest.raises(InvalidValuesError, match="INSEE"):
        prepare_communes(small(code_insee=["٩٠٠٠١"], nom=["X"]))
    with pytest.raises(InvalidValuesError, match="nom de plus de 200 caractères"):
        prepare_communes(small(code_insee=["90010"], nom=["x" * 201]))
