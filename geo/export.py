"""Writing sector layers to the vector formats planners exchange: GeoJSON, GeoPackage and
zipped ESRI Shapefile, in WGS84 (EPSG:4326) or Lambert-93 (EPSG:2154)."""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geo.errors import InvalidInputError


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
    raise InvalidInputError(f"{path.name}: unknown extension {suffix or '(none)'} ({known})")


def write_layer(layer: gpd.GeoDataFrame, path: Path, fmt: VectorFormat, crs: int = 4326) -> None:
    """Write ``layer`` reprojected to ``crs`` (4326 or 2154); a Shapefile is written as a
    zip of its .shp, .shx, .dbf, .prj and .cpg (UTF-8) files, named after ``path``."""
    if crs not in EXPORT_CRS:
        raise InvalidInputError(f"crs: EPSG:{crs} is not offered (EPSG:4326 or EPSG:2154)")
    out = layer.to_crs(crs)
    path.unlink(missing_ok=True)
    if fmt.name != "shp":
        out.to_file(path, driver=fmt.driver, layer=path.stem if fmt.name == "gpkg" else None)
        return
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{path.stem}.shp"
        out.rename(columns=_SHAPEFILE_FIELDS).to_file(shp, driver=fmt.driver, encoding="UTF-8")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
