"""Territorial and sociological layers: read, validate, reproject.

Five kinds of layer, each with a documented column mapping (column names are matched
case-insensitively; every other column is kept as an attribute):

``population_grid``
    Polygons of a statistical grid such as INSEE Filosofi 200 m squares. Extensive
    variables: ``population`` ← ind | population | pop; ``households`` ← men;
    ``poor_households`` ← men_pauv; ``social_housing`` ← log_soc. Squares must not
    overlap. The grid's *extent* (where it is authoritative; outside, population comes
    from the communes) is the bounding box of the squares in the file's own CRS.
``zones``
    Polygons with a ``code`` ← code | code_qp | code_iris | iris | id and a ``name`` ←
    nom | name | lib_qp | nom_iris | libelle (QPV, IRIS, quartiers…).
    A zone is a QPV (quartier prioritaire, never split by sector design) when its code
    is a QPV code (``QP…`` before 2024, ``QN…`` since, see :data:`QPV_CODE`).
``barriers``
    Lines with a ``class``, from a ``class`` column or OSM-style tags: ``highway``
    (motorway, trunk, primary…; ``*_link`` ramps keep their own class), ``railway``
    (rail, light_rail, subway → ``railway``; tram → ``tram``), ``waterway`` (river,
    canal, stream…), or an IDFM ``mode`` (RER, TRAIN, TER, NAVETTE → ``railway``,
    TRAMWAY → ``tram``); or one class for the whole file (``default_class``). Booleans
    ``bridge`` and ``tunnel`` from columns of those names (yes, true, 1, viaduct…).
``links``
    Lines that join separate parts of a territory: ferries, private bridges, tunnels
    (:func:`geo.parts.declared_links`), with an optional ``name`` ← nom | name | libelle
    that the plans' notes quote. A link whose two ends each lie within 1 km of the
    territory joins the parts there; sector design takes it before any distance.
``buildings``
    Polygons of buildings (an OpenStreetMap extract's features tagged ``building``, BD TOPO
    ``BATIMENT``, any polygon layer), drawn by the base map; an optional ``class`` ← class |
    building | usage_1 | usage1 | nature (the first one filled, per feature) and ``name``.
``points``
    Points with a ``type`` ← type | nature | categorie | amenity | kind (commissariat,
    bureau de police, école, gare, mairie…), and an optional ``name``.

Every layer is checked against the territory it is imported for: a layer that does not
intersect it is refused, and so is one whose coordinates only fit once latitude and
longitude are swapped.

The CRS of the coordinates is the one the file declares, unless the importer declares one
(``crs``, e.g. ``EPSG:2154``): it then applies to a file that declares none (a Shapefile
without ``.prj``) and replaces a file's own declaration (a GeoJSON without a ``crs``
member is read as WGS84 whatever its coordinates), which the layer's warnings record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84
from geo.errors import (
    CoordinatesOutOfRangeError,
    EmptyLayerError,
    GeometryTypeError,
    InvalidValuesError,
    LayerError,
    MissingColumnsError,
    MissingCRSError,
)
from geo.geometry import repaired_geometries
from geo.messages import render


class LayerKind(StrEnum):
    POPULATION_GRID = "population_grid"
    ZONES = "zones"
    BARRIERS = "barriers"
    POINTS = "points"
    LINKS = "links"
    BUILDINGS = "buildings"


#: An OpenStreetMap extract (``.osm``, ``.osm.pbf``) is read by GDAL's OSM driver as
#: several layers: a buildings layer reads its ``multipolygons`` (closed ways and
#: multipolygon relations), every other kind (barriers, links…) its ``lines``.
def osm_layer(kind: LayerKind | str) -> str:
    """The layer of GDAL's OSM driver a layer of ``kind`` reads from an extract.

    >>> osm_layer("barriers"), osm_layer(LayerKind.BUILDINGS)
    ('lines', 'multipolygons')
    """
    return "multipolygons" if kind == LayerKind.BUILDINGS else "lines"


#: Where a whole BD TOPO GeoPackage (one file, many layers) keeps a kind's features.
PREFERRED_LAYERS: dict[str, tuple[str, ...]] = {
    LayerKind.BUILDINGS.value: ("batiment", "buildings", "building")
}

GRID_VARIABLES: dict[str, tuple[str, ...]] = {
    "population": ("ind", "population", "pop"),
    "households": ("men",),
    "poor_households": ("men_pauv",),
    "social_housing": ("log_soc",),
}
#: QPV codes: ``QP`` + 6 digits (2015 list), ``QN`` + digits and a letter (2024 list).
QPV_CODE = r"^Q[NP][0-9]"
ZONE_CODE = ("code", "code_qp", "code_iris", "iris", "id")
ZONE_NAME = ("nom", "name", "lib_qp", "nom_iris", "libelle")
#: The longest text a feature's field may hold (the ``layer_feature`` columns): ``code``
#: and the class or type (stored as its category), its ``name``.
TEXT_LIMITS = {"code": 100, "class": 100, "type": 100, "name": 300}
POINT_TYPE = ("type", "nature", "categorie", "amenity", "kind")
POINT_NAME = ("nom", "name", "libelle")
BARRIER_TAGS = ("class", "highway", "railway", "waterway", "mode")
#: A building's class: OpenStreetMap's ``building`` tag (yes, house…), BD TOPO's usage
#: (Résidentiel…) or nature (Indifférenciée, Église…).
BUILDING_CLASS = ("class", "building", "usage_1", "usage1", "nature")

_EXPECTED_GEOMETRY = {
    LayerKind.POPULATION_GRID: ("Polygon", "MultiPolygon"),
    LayerKind.ZONES: ("Polygon", "MultiPolygon"),
    LayerKind.BARRIERS: ("LineString", "MultiLineString"),
    LayerKind.POINTS: ("Point", "MultiPoint"),
    LayerKind.LINKS: ("LineString", "MultiLineString"),
    LayerKind.BUILDINGS: ("Polygon", "MultiPolygon"),
}
_RAIL = {"rail", "light_rail", "subway", "narrow_gauge", "monorail", "funicular"}
_IDFM_MODE = {
    "RER": "railway",
    "TRAIN": "railway",
    "TER": "railway",
    "NAVETTE": "railway",
    "TRAMWAY": "tram",
    "METRO": "railway",
}
_TRUE = {"yes", "true", "1", "viaduct", "aqueduct", "building_passage", "covered", "culvert", "t"}
#: What an empty file of a kind lacks, when more can be said than « no feature ».
#: What an empty file of a kind is said to lack, when more than « aucun objet ».
_NOTHING = {LayerKind.BUILDINGS: "layer_without_buildings"}
# Relative overlap area above which two grid squares are said to overlap (rounding noise below).
_GRID_OVERLAP_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Layer:
    """A validated layer in EPSG:4326.

    ``features`` has the kind's standard columns (see the module docstring), an
    ``attributes`` column (dict of the other columns) and ``geometry``.
    """

    kind: LayerKind
    features: gpd.GeoDataFrame
    source_crs: str
    extent: BaseGeometry | None = None
    warnings: tuple[str, ...] = field(default=())


def _find(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[c] for c in candidates if c in lower), None)


def _flag(value: object) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    if isinstance(value, bool | np.bool_):
        return bool(value)
    return str(value).strip().lower() in _TRUE


def _json_safe(value: object) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    try:
        json.dumps(value)
    except TypeError:
        return str(value)
    return value


def _attributes(gdf: gpd.GeoDataFrame, used: set[str]) -> list[dict[str, Any]]:
    rest = [c for c in gdf.columns if c not in used and c != gdf.geometry.name]
    return [
        {c: _json_safe(v) for c, v in zip(rest, row, strict=True)}
        for row in gdf[rest].itertuples(index=False, name=None)
    ]


def barrier_class(row: pd.Series, columns: dict[str, str]) -> str | None:
    """Class of one barrier feature from the tag columns found (see module docstring)."""
    for tag in BARRIER_TAGS:
        col = columns.get(tag)
        if col is None:
            continue
        value = row[col]
        if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
            continue
        text = str(value).strip()
        if tag == "railway":
            return "railway" if text.lower() in _RAIL else text.lower()
        if tag == "mode":
            return _IDFM_MODE.get(text.upper(), text.lower())
        return text.lower()
    return None


def _check_geometry(gdf: gpd.GeoDataFrame, kind: LayerKind, source: str) -> None:
    expected = _EXPECTED_GEOMETRY[kind]
    offenders = {
        f"objet {i + 1}": ("vide" if g is None or g.is_empty else g.geom_type)
        for i, g in enumerate(gdf.geometry)
        if g is None or g.is_empty or g.geom_type not in expected
    }
    if offenders:
        hint = " (les coupures sont des lignes : routes, voies ferrées, rivières)"
        raise GeometryTypeError(
            source, " ou ".join(expected) + (hint if kind == "barriers" else ""), offenders
        )


def _check_territory(gdf: gpd.GeoDataFrame, territory: BaseGeometry, source: str) -> None:
    """Refuse a layer that misses the territory, naming swapped coordinates if that fits."""
    shapely.prepare(territory)
    hits = shapely.intersects(territory, gdf.geometry.to_numpy())
    if hits.any():
        return
    swapped = shapely.transform(gdf.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    if shapely.intersects(territory, swapped).any():
        raise LayerError(
            source,
            "layer_coordinates_swapped",
        )
    b = tuple(round(float(v), 4) for v in gdf.total_bounds)
    t = tuple(round(float(v), 4) for v in territory.bounds)
    raise LayerError(
        source, "layer_outside_territory", layer_bounds=str(b), territory_bounds=str(t)
    )


def _grid_overlaps(squares: gpd.GeoDataFrame) -> list[str]:
    left, right = squares.sindex.query(squares.geometry, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return []
    geoms = squares.geometry.to_numpy()
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smallest = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    bad = inter > _GRID_OVERLAP_TOLERANCE * smallest
    return [f"objets {a + 1} et {b + 1}" for a, b in zip(left[bad], right[bad], strict=True)]


def _declared_crs(crs: str, source: str) -> CRS:
    text = crs.strip()
    try:
        return CRS.from_user_input(f"EPSG:{text}" if text.isdigit() else text)
    except CRSError:
        raise LayerError(source, "layer_crs_unknown", crs=crs) from None


def _crs_name(crs: CRS) -> str:
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.to_string()


def prepare_layer(
    gdf: gpd.GeoDataFrame,
    kind: LayerKind | str,
    *,
    territory: BaseGeometry,
    source: str = "layer",
    default_class: str | None = None,
    crs: str | None = None,
) -> Layer:
    """Validate a layer of ``kind`` for a territory (WGS84) and bring it to EPSG:4326.

    ``crs`` is the CRS of the coordinates as the importer declares it (``EPSG:2154``, or
    ``2154``); it overrides the file's own declaration (see the module docstring).

    Raises
    ------
    EmptyLayerError, MissingCRSError, MissingColumnsError, GeometryTypeError,
    CoordinatesOutOfRangeError, InvalidValuesError, LayerError

    Examples
    --------
    >>> from shapely.geometry import LineString, box
    >>> lines = gpd.GeoDataFrame({"highway": ["motorway"]},
    ...                          geometry=[LineString([(990000, 6738000), (992000, 6740000)])])
    >>> layer = prepare_layer(lines, "barriers", territory=box(6.8, 47.6, 6.9, 47.7),
    ...                       crs="EPSG:2154")
    >>> layer.source_crs, layer.features["class"].tolist()
    ('EPSG:2154', ['motorway'])
    """
    try:
        kind = LayerKind(kind)
    except ValueError:
        raise LayerError(
            source, "layer_kind_unknown", kind=kind, expected=list(LayerKind)
        ) from None
    if len(gdf) == 0:
        raise EmptyLayerError(source, _NOTHING.get(kind, "layer_empty"))
    warnings: list[str] = []
    if crs is not None and crs.strip():
        declared = _declared_crs(crs, source)
        if gdf.crs is not None and not gdf.crs.equals(declared, ignore_axis_order=True):
            warnings.append(
                render(
                    "warning_crs_overridden",
                    declared=_crs_name(declared),
                    found=_crs_name(gdf.crs),
                )
            )
        gdf = gdf.set_crs(declared, allow_override=True)
    if gdf.crs is None:
        raise MissingCRSError(source)
    _check_geometry(gdf, kind, source)
    native = gdf
    gdf = gdf.to_crs(WGS84)
    if shapely.has_z(gdf.geometry.to_numpy()).any():  # 3D files (BD TOPO…) lose their Z
        gdf = gdf.copy()
        flat = shapely.force_2d(gdf.geometry.to_numpy())
        gdf[gdf.geometry.name] = gpd.GeoSeries(flat, index=gdf.index, crs=WGS84)
    min_x, min_y, max_x, max_y = (float(b) for b in gdf.total_bounds)
    bounds = (min_x, min_y, max_x, max_y)
    if not (-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90):
        raise CoordinatesOutOfRangeError(source, bounds, native.crs.to_string())
    # Never stored invalid: repaired when no area (length) is lost, else refused.
    fixed, repaired = repaired_geometries(gdf.geometry.to_numpy(), field=source)
    if repaired:
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = gpd.GeoSeries(fixed, index=gdf.index, crs=WGS84)
        warnings.append(
            render(
                "warning_geometries_repaired",
                count=len(repaired),
                features=[f"objet {i + 1} ({reason})" for i, reason in repaired.items()],
            )
        )
    _check_territory(gdf, territory, source)

    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    extent: BaseGeometry | None = None
    out = gpd.GeoDataFrame(geometry=gdf.geometry.to_numpy(), crs=WGS84)
    used: set[str] = set()

    if kind is LayerKind.POPULATION_GRID:
        found = {var: _find(columns, names) for var, names in GRID_VARIABLES.items()}
        if found["population"] is None:
            raise MissingColumnsError(source, {"population": GRID_VARIABLES["population"]}, columns)
        for var, col in found.items():
            if col is None:
                warnings.append(
                    render(
                        "warning_grid_column_missing",
                        variable=var,
                        columns=list(GRID_VARIABLES[var]),
                    )
                )
                continue
            values = pd.to_numeric(gdf[col], errors="coerce")
            bad = [
                f"objet {i + 1} : {gdf[col].iloc[i]!r}"
                for i in np.flatnonzero((values.isna() & gdf[col].notna()) | (values < 0))
            ]
            if bad:
                raise InvalidValuesError(source, col, "nombre positif ou nul attendu", bad)
            out[var] = values.fillna(0.0).to_numpy()
            used.add(col)
        overlaps = _grid_overlaps(native.reset_index(drop=True))
        if overlaps:
            raise LayerError(source, "layer_grid_overlaps", squares=overlaps[:10])
        extent = gpd.GeoSeries([box(*native.total_bounds)], crs=native.crs).to_crs(WGS84).iloc[0]
    elif kind is LayerKind.ZONES:
        code_col, name_col = _find(columns, ZONE_CODE), _find(columns, ZONE_NAME)
        if code_col is None:
            raise MissingColumnsError(source, {"code": ZONE_CODE}, columns)
        codes = gdf[code_col].astype("string").str.strip()
        dup = sorted(set(codes[codes.duplicated()].dropna()))
        if dup:
            raise InvalidValuesError(source, code_col, "codes en double", dup)
        out["code"] = codes.to_numpy()
        out["name"] = gdf[name_col].astype("string").to_numpy() if name_col else None
        used |= {code_col, name_col} - {None}  # type: ignore[arg-type]
    elif kind is LayerKind.BARRIERS:
        tags = {t: c for t in BARRIER_TAGS if (c := _find(columns, (t,))) is not None}
        classes = [barrier_class(row, tags) or default_class for _, row in gdf.iterrows()]
        if not tags and default_class is None:
            raise MissingColumnsError(
                source, {"class": (*BARRIER_TAGS, "ou une classe pour tout le fichier")}, columns
            )
        missing = [f"objet {i + 1}" for i, c in enumerate(classes) if c is None]
        if missing:
            raise InvalidValuesError(
                source, "/".join(tags.values()), "aucune classe de coupure pour", missing
            )
        out["class"] = classes
        name_col = _find(columns, POINT_NAME)  # a street's name, for the base map's labels
        out["name"] = gdf[name_col].astype("string").to_numpy() if name_col else None
        used |= {name_col} - {None}  # type: ignore[arg-type]
        for flag in ("bridge", "tunnel"):
            col = _find(columns, (flag,))
            out[flag] = gdf[col].map(_flag).to_numpy() if col else False
            if col:
                used.add(col)
        used |= set(tags.values())
    elif kind is LayerKind.BUILDINGS:
        class_cols = [c for t in BUILDING_CLASS if (c := _find(columns, (t,))) is not None]
        classes = pd.Series(None, index=gdf.index, dtype="string")
        for col in class_cols:  # the first one filled, per feature
            classes = classes.fillna(gdf[col].astype("string").str.strip().replace("", pd.NA))
        if default_class is not None:
            classes = classes.fillna(default_class)
        out["class"] = classes.astype(object).where(classes.notna(), None).to_numpy()
        name_col = _find(columns, POINT_NAME)
        out["name"] = gdf[name_col].astype("string").to_numpy() if name_col else None
        used |= set(class_cols) | ({name_col} if name_col else set())
    elif kind is LayerKind.LINKS:
        name_col = _find(columns, POINT_NAME)
        out["name"] = gdf[name_col].astype("string").to_numpy() if name_col else None
        used |= {name_col} - {None}  # type: ignore[arg-type]
    else:
        type_col, name_col = _find(columns, POINT_TYPE), _find(columns, POINT_NAME)
        if type_col is None and default_class is None:
            raise MissingColumnsError(source, {"type": POINT_TYPE}, columns)
        out["type"] = (
            gdf[type_col].astype("string").str.strip().str.lower().to_numpy()
            if type_col
            else default_class
        )
        out["name"] = gdf[name_col].astype("string").to_numpy() if name_col else None
        used |= {type_col, name_col} - {None}  # type: ignore[arg-type]

    _check_lengths(source, out)
    out["attributes"] = _attributes(gdf, used)
    inside = shapely.intersects(territory, out.geometry.to_numpy())
    if not inside.all():
        warnings.append(
            render("warning_features_outside", outside=int((~inside).sum()), total=len(out))
        )
    return Layer(
        kind=kind,
        features=out,
        source_crs=_crs_name(native.crs),
        extent=extent,
        warnings=tuple(warnings),
    )


def _check_lengths(source: str, out: gpd.GeoDataFrame) -> None:
    """Refuse (:class:`InvalidValuesError` naming the field and the features) a text longer
    than the table stores (:data:`TEXT_LIMITS`)."""
    for column, limit in TEXT_LIMITS.items():
        if column not in out.columns:
            continue
        lengths = pd.Series(out[column]).astype("string").str.len()
        long = np.flatnonzero((lengths > limit).fillna(False).to_numpy())
        if len(long):
            raise InvalidValuesError(
                source,
                column,
                f"plus de {limit} caractères",
                [f"objet {i + 1}" for i in long],
            )
