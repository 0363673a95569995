"""Read and validate the commune layer of a territory.

A territory is a set of communes (INSEE code, name, population, polygon). Any vector
file that GDAL reads is accepted (GeoJSON, GeoPackage, zipped Shapefile, …) through
pyogrio. The attribute columns are recognised under their usual French names:

============ =====================================================================
role         accepted column names (case-insensitive, first match wins)
============ =====================================================================
code         code_insee, insee_com, insee, codgeo, code_commune, com, code
name         nom, nom_commune, nom_com, libelle, lib_com, name
population   population, pmun, ptot, pop
epci_code    epci_code, code_epci, siren_epci, epci
epci_name    epci_nom, nom_epci, lib_epci, libepci, epci_name
============ =====================================================================

``population`` is optional, and so is the intercommunalité (EPCI: its SIREN code and
name), kept in the columns ``epci_code`` and ``epci_name`` only when the file has them.
Geometries are reprojected to EPSG:4326, invalid polygons are repaired with
:func:`shapely.make_valid` (the repaired codes are reported) and every geometry is
returned as a MultiPolygon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo.crs import WGS84
from geo.errors import (
    CoordinatesOutOfRangeError,
    EmptyLayerError,
    GeometryTypeError,
    InvalidValuesError,
    MissingColumnsError,
    MissingCRSError,
    UnreadableLayerError,
)

CODE_COLUMNS = ("code_insee", "insee_com", "insee", "codgeo", "code_commune", "com", "code")
NAME_COLUMNS = ("nom", "nom_commune", "nom_com", "libelle", "lib_com", "name")
POPULATION_COLUMNS = ("population", "pmun", "ptot", "pop")
EPCI_CODE_COLUMNS = ("epci_code", "code_epci", "siren_epci", "epci")
EPCI_NAME_COLUMNS = ("epci_nom", "nom_epci", "lib_epci", "libepci", "epci_name")

MAX_NAME = 200
MAX_POPULATION = 100_000_000  # far above any commune; also rejects inf
# INSEE commune code: five digits, or 2A/2B and three digits for Corsica.
INSEE_CODE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")


@dataclass(frozen=True)
class CommuneLayer:
    """A validated commune layer.

    Attributes
    ----------
    communes
        GeoDataFrame with columns ``code``, ``name``, ``population`` (nullable integer)
        and ``geometry`` (MultiPolygon, EPSG:4326), one row per commune; ``epci_code``
        and ``epci_name`` (the intercommunalité) when the file has them.
    repaired
        Codes of the communes whose polygon was invalid and has been repaired.
    source_crs
        The CRS the file was declared in, as ``AUTHORITY:CODE`` when known.
    """

    communes: gpd.GeoDataFrame
    source_crs: str
    repaired: tuple[str, ...] = field(default=())

    @property
    def codes(self) -> list[str]:
        return [str(c) for c in self.communes["code"]]


#: OpenStreetMap extracts, read by GDAL's OSM driver.
OSM_SUFFIXES = (".pbf", ".osm")
_OSM_TAG = r'"{tag}"=>"([^"]*)"'


def osm_lines(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The streets, railways and waterways of an OpenStreetMap extract's ``lines`` layer
    (GDAL's OSM driver), with their ``bridge`` and ``tunnel`` tags taken out of
    ``other_tags``; fences, power lines and the other lines are left out."""
    keep = pd.Series(False, index=lines.index)
    for tag in ("highway", "railway", "waterway"):
        if tag in lines.columns:
            keep |= lines[tag].notna() & (lines[tag].astype("string") != "")
    out = lines[keep].copy()
    other = (
        out["other_tags"].astype("string")
        if "other_tags" in out.columns
        else pd.Series("", index=out.index, dtype="string")
    )
    for tag in ("bridge", "tunnel"):
        out[tag] = other.str.extract(_OSM_TAG.format(tag=tag), expand=False)
    keep_columns = ["osm_id", "name", "highway", "railway", "waterway", "bridge", "tunnel"]
    return out[[c for c in keep_columns if c in out.columns] + [out.geometry.name]]


def osm_buildings(polygons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The buildings of an OpenStreetMap extract's ``multipolygons`` layer (GDAL's OSM
    driver: closed ways and multipolygon relations): the features with a ``building`` tag
    (other than ``no``); land use, parks and the other areas are left out."""
    if "building" not in polygons.columns:
        return polygons.iloc[:0][[polygons.geometry.name]]
    tag = polygons["building"].astype("string").str.strip()
    out = polygons[(tag.notna() & (tag != "") & (tag.str.lower() != "no")).to_numpy()]
    keep_columns = ["osm_id", "osm_way_id", "name", "building"]
    return out[[c for c in keep_columns if c in out.columns] + [out.geometry.name]]


#: What each layer of GDAL's OSM driver keeps of an OpenStreetMap extract.
_OSM_FILTERS = {"lines": osm_lines, "multipolygons": osm_buildings}


def read_vector(
    path: str | PathLike[str],
    *,
    osm_layer: str = "lines",
    prefer_layers: tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """Read any vector file that GDAL can open, including a zipped Shapefile, a gzipped
    file (``roads.geojson.gz``) and an OpenStreetMap extract (``.osm.pbf``, ``.osm``).

    An OpenStreetMap extract is read from GDAL's OSM driver layer ``osm_layer``: ``lines``
    (its streets, railways and waterways, :func:`osm_lines`) or ``multipolygons`` (its
    buildings, :func:`osm_buildings`). Another file is read from its first layer, or from
    the first of its layers named one of ``prefer_layers`` (case-insensitive: a whole
    BD TOPO GeoPackage's ``batiment``).

    Raises
    ------
    UnreadableLayerError
        When the file does not exist or GDAL cannot read it.
    """
    p = Path(path)
    if not p.exists():
        raise UnreadableLayerError(p.name, "fichier introuvable")
    vsi = {".zip": "/vsizip/", ".gz": "/vsigzip/"}.get(p.suffix.lower(), "")
    source = f"{vsi}{p}"
    try:
        if p.suffix.lower() in OSM_SUFFIXES:
            osm_filter = _OSM_FILTERS[osm_layer]
            return osm_filter(pyogrio.read_dataframe(source, layer=osm_layer))
        layer = _preferred_layer(source, prefer_layers) if prefer_layers else None
        return pyogrio.read_dataframe(source, layer=layer)
    except Exception:  # pyogrio raises several GDAL error classes
        # GDAL's own sentence is English (and names the file by its full path): a person
        # reads what to do instead.
        raise UnreadableLayerError(
            p.name, "GDAL ne sait pas le lire : format non reconnu, ou fichier incomplet ou abîmé"
        ) from None


def _preferred_layer(source: str, names: tuple[str, ...]) -> str | None:
    """The file's first layer named one of ``names`` (case-insensitive), if it has several."""
    layers = [str(name) for name, _geometry in pyogrio.list_layers(source)]
    if len(layers) < 2:
        return None
    wanted = [n.lower() for n in names]
    return next((name for name in layers if name.lower() in wanted), None)


def read_communes(path: str | PathLike[str]) -> CommuneLayer:
    """Read a commune file and validate it with :func:`prepare_communes`."""
    return prepare_communes(read_vector(path), source=Path(path).name)


def _text(value: object, limit: int) -> str | None:
    """A cell as stripped text of at most ``limit`` characters, or None when empty."""
    if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
        return None
    return str(value).strip()[:limit]


def _find_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    by_lower = {c.lower(): c for c in columns}
    for name in candidates:
        if name in by_lower:
            return by_lower[name]
    return None


def _normalise_codes(values: pd.Series) -> pd.Series:
    """INSEE codes as strings; integer columns get their lost leading zero back."""
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values):
        return values.map(lambda v: None if pd.isna(v) else f"{int(v):05d}")
    return values.map(lambda v: None if pd.isna(v) else str(v).strip().upper())


def _polygonal(geom: shapely.Geometry) -> MultiPolygon:
    """The polygonal part of a (repaired) geometry, as a MultiPolygon."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [
        p
        for g in getattr(geom, "geoms", [])
        for p in (g.geoms if isinstance(g, MultiPolygon) else [g])
        if isinstance(p, Polygon) and not p.is_empty
    ]
    return MultiPolygon(parts)


def prepare_communes(gdf: gpd.GeoDataFrame, *, source: str = "layer") -> CommuneLayer:
    """Validate a commune GeoDataFrame and bring it to the project's shape.

    Parameters
    ----------
    gdf
        Communes as read from a file, in any CRS.
    source
        Name of the input, used in error messages.

    Returns
    -------
    CommuneLayer

    Raises
    ------
    EmptyLayerError, MissingCRSError, MissingColumnsError, InvalidValuesError,
    GeometryTypeError, CoordinatesOutOfRangeError

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> raw = gpd.GeoDataFrame(
    ...     {"INSEE_COM": ["90010"], "NOM": ["Belfort"], "POPULATION": [45912]},
    ...     geometry=[box(6.8, 47.6, 6.9, 47.7)], crs=4326)
    >>> layer = prepare_communes(raw)
    >>> list(layer.communes.columns), layer.communes.geometry.iloc[0].geom_type
    (['code', 'name', 'population', 'geometry'], 'MultiPolygon')
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"expected a GeoDataFrame, got {type(gdf)}")
    if len(gdf) == 0:
        raise EmptyLayerError(source)
    if gdf.crs is None:
        raise MissingCRSError(source)

    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    code_col = _find_column(columns, CODE_COLUMNS)
    name_col = _find_column(columns, NAME_COLUMNS)
    missing = {
        role: names
        for role, names, col in (("code", CODE_COLUMNS, code_col), ("name", NAME_COLUMNS, name_col))
        if col is None
    }
    if missing or code_col is None or name_col is None:
        raise MissingColumnsError(source, missing, columns)
    pop_col = _find_column(columns, POPULATION_COLUMNS)

    codes = _normalise_codes(gdf[code_col])
    bad = [
        f"ligne {i + 1} : {v!r}"
        for i, v in enumerate(codes)
        if v is None or not INSEE_CODE.match(v)
    ]
    if bad:
        raise InvalidValuesError(
            source,
            code_col,
            "code commune INSEE attendu (5 caractères, par ex. 90010 ou 2A004)",
            bad,
        )
    duplicated = sorted(set(codes[codes.duplicated()]))
    if duplicated:
        raise InvalidValuesError(source, code_col, "codes en double", duplicated)

    names = gdf[name_col].map(lambda v: None if pd.isna(v) else str(v).strip())
    unnamed = [code for code, name in zip(codes, names, strict=True) if not name]
    if unnamed:
        raise InvalidValuesError(source, name_col, "nom vide pour le(s) code(s)", unnamed)
    too_long = [code for code, name in zip(codes, names, strict=True) if len(name) > MAX_NAME]
    if too_long:
        raise InvalidValuesError(
            source, name_col, f"nom de plus de {MAX_NAME} caractères", too_long
        )

    if pop_col is None:
        population = pd.Series(pd.NA, index=gdf.index, dtype="Int64")
    else:
        numeric = pd.to_numeric(gdf[pop_col], errors="coerce")
        wrong = [
            f"{code}: {raw!r}"
            for code, raw, num in zip(codes, gdf[pop_col], numeric, strict=True)
            if (pd.notna(raw) and pd.isna(num))
            or (pd.notna(num) and not 0 <= num <= MAX_POPULATION)
        ]
        if wrong:
            raise InvalidValuesError(
                source, pop_col, f"nombre entre 0 et {MAX_POPULATION} attendu", wrong
            )
        population = numeric.round().astype("Int64")

    geoms = gdf.geometry
    wrong_type = {
        code: ("empty" if g is None or g.is_empty else g.geom_type)
        for code, g in zip(codes, geoms, strict=True)
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon")
    }
    if wrong_type:
        raise GeometryTypeError(source, "Polygon ou MultiPolygon", wrong_type)

    columns_out = {
        "code": codes.to_numpy(),
        "name": names.to_numpy(),
        "population": population.array,
    }
    epci_code_col = _find_column(columns, EPCI_CODE_COLUMNS)
    epci_name_col = _find_column(columns, EPCI_NAME_COLUMNS)
    if epci_code_col is not None and epci_name_col is not None:
        columns_out["epci_code"] = pd.array(
            [_text(v, 20) for v in gdf[epci_code_col]], dtype=object
        )
        columns_out["epci_name"] = pd.array(
            [_text(v, MAX_NAME) for v in gdf[epci_name_col]], dtype=object
        )
    out = gpd.GeoDataFrame(
        columns_out,
        geometry=shapely.force_2d(geoms.to_numpy()),  # 3D files (BD TOPO…) lose their Z
        crs=gdf.crs,
    ).to_crs(WGS84)

    bounds = tuple(float(b) for b in out.total_bounds)
    if not (-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90):
        raise CoordinatesOutOfRangeError(source, bounds, gdf.crs.to_string())  # type: ignore[arg-type]

    invalid = ~out.geometry.is_valid
    repaired = tuple(out.loc[invalid, "code"])
    if repaired:
        fixed = [_polygonal(shapely.make_valid(g)) for g in out.geometry[invalid]]
        emptied = [c for c, g in zip(repaired, fixed, strict=True) if g.is_empty]
        if emptied:
            raise GeometryTypeError(
                source, "polygones réparables", dict.fromkeys(emptied, "aucune surface")
            )
        out.loc[invalid, "geometry"] = fixed
    out["geometry"] = [_polygonal(g) for g in out.geometry]

    authority = gdf.crs.to_authority()
    source_crs = ":".join(authority) if authority else gdf.crs.to_string()
    return CommuneLayer(communes=out, source_crs=source_crs, repaired=repaired)
