"""Writing sector layers to the vector formats planners exchange: GeoJSON, GeoPackage (with
its QGIS style) and zipped ESRI Shapefile, in WGS84 (EPSG:4326) or Lambert-93 (EPSG:2154)."""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geo.errors import InvalidInputError
from geo.qgis_styles import Style, write_layer_styles


@dataclass(frozen=True)
class VectorFormat:
    name: str
    driver: str
    suffix: str
    media_type: str


FORMATS: dict[str, VectorFormat] = {
    "geojson": VectorFormat("geojson", "GeoJSON", ".geojson", "application/geo+json"),
    "gpkg": VectorFormat("gpkg", "GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": VectorFormat("shp", "ESRI Shapefile", ".zip", "application/zip"),
}
EXPORT_CRS = (4326, 2154)

# A Shapefile field name holds at most 10 characters.
_SHAPEFILE_FIELDS = {"polsby_popper": "polsby_pp", "mean_distance_m": "mean_dist"}


def format_for_path(path: Path) -> VectorFormat:
    """The format of a file name: ``.geojson``/``.json``, ``.gpkg`` or ``.zip`` (Shapefile)."""
    suffix = path.suffix.lower()
    for fmt in FORMATS.values():
        if suffix == fmt.suffix or (fmt.name == "geojson" and suffix == ".json"):
            return fmt
    known = ", ".join(f.suffix for f in FORMATS.values())
    raise InvalidInputError(
        "export_extension_unknown", name=path.name, suffix=suffix or "(aucune)", known=known
    )


def write_layer(
    layer: gpd.GeoDataFrame,
    path: Path,
    fmt: VectorFormat,
    crs: int = 4326,
    style: Style | None = None,
) -> None:
    """Write ``layer`` reprojected to ``crs`` (4326 or 2154); a Shapefile is written as a
    zip of its .shp, .shx, .dbf, .prj and .cpg (UTF-8) files, named after ``path``. A
    GeoPackage carries ``style`` (QML and SLD, :mod:`geo.qgis_styles`) as its layer's
    default: QGIS opens it styled."""
    if crs not in EXPORT_CRS:
        raise InvalidInputError("export_crs_not_offered", field="crs", crs=str(crs))
    out = layer.to_crs(crs)
    path.unlink(missing_ok=True)
    if fmt.name != "shp":
        if fmt.name == "gpkg":
            # GeoPackage 1.2: what the GDAL of older desktop GIS (QGIS 3.22…) fully read.
            out.to_file(path, driver=fmt.driver, layer=path.stem, VERSION="1.2")
        else:
            out.to_file(path, driver=fmt.driver)
        if fmt.name == "gpkg" and style is not None:
            write_layer_styles(path, {path.stem: style})
        return
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{path.stem}.shp"
        out.rename(columns=_SHAPEFILE_FIELDS).to_file(shp, driver=fmt.driver, encoding="UTF-8")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)


def write_styled_geopackage(
    path: Path, layers: dict[str, tuple[gpd.GeoDataFrame, Style]], crs: int = 2154
) -> None:
    """One GeoPackage of several layers (by table name) reprojected to ``crs``, each with
    its style as default (QGIS opens them styled)."""
    if crs not in EXPORT_CRS:
        raise InvalidInputError("export_crs_not_offered", field="crs", crs=str(crs))
    path.unlink(missing_ok=True)
    for table, (frame, _) in layers.items():
        frame.to_crs(crs).to_file(path, driver="GPKG", layer=table, VERSION="1.2")
    write_layer_styles(path, {table: style for table, (_, style) in layers.items()})
