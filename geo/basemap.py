"""The base map: which imported features make which of its layers, from which zoom, and
how its legend says a missing layer.

The base map is built from the territory's own data: the communes, the features of the
``barriers`` layers (roads, railways and waterways, by their class, see
:mod:`geo.layers`), those of the ``buildings`` layers and the address table. Its tiles
are Mapbox Vector Tiles (one tile, one named layer per :data:`BASE_LAYERS` entry) in Web
Mercator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.errors import InvalidInputError

#: The classes of a barriers layer's railways and waterways; every other class is a road.
RAILWAY_CLASSES = ("railway", "tram", "rail", "light_rail", "subway", "narrow_gauge")
WATER_CLASSES = ("river", "canal", "stream", "drain", "ditch", "waterway", "riverbank")

#: Road classes drawn from zoom 11 (the main network), 13 (the secondary one); the other
#: roads (residential, unclassified, service…) from :data:`MINOR_ROADS_ZOOM`.
MAIN_ROADS = ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link")
SECONDARY_ROADS = ("secondary", "secondary_link", "tertiary", "tertiary_link")
MINOR_ROADS_ZOOM = 14
SECONDARY_ROADS_ZOOM = 12
#: Buildings are in the tiles from this zoom (a town's thousands of them would crowd a
#: tile below it), drawn under the roads.
BUILDINGS_ZOOM = 15
#: Addresses (their numbers) are in the tiles from this zoom.
ADDRESSES_ZOOM = 16
MIN_ZOOM, MAX_ZOOM = 0, 22
#: Names painted over the base map: communes from :data:`COMMUNE_LABELS_ZOOM`, streets
#: from :data:`STREET_LABELS_ZOOM` (the longest named streets of the view first), at most
#: :data:`MAX_STREET_LABELS` per view so that they stay readable.
COMMUNE_LABELS_ZOOM = 11
STREET_LABELS_ZOOM = 15
MAX_STREET_LABELS = 120
#: The tile's extent (MVT units) and buffer.
EXTENT, BUFFER = 4096, 64


@dataclass(frozen=True)
class BaseLayer:
    key: str  # the layer's name inside a tile
    label: str  # the legend's word
    unit: str  # what a feature is
    units: str  # … in the plural
    missing: str  # « Rues : non importées »


BASE_LAYERS = (
    BaseLayer("communes", "Communes", "commune", "communes", "non importées"),
    BaseLayer("water", "Eau", "cours d'eau", "cours d'eau", "non importée"),
    BaseLayer("roads", "Rues", "tronçon", "tronçons", "non importées"),
    BaseLayer("railways", "Voies ferrées", "tronçon", "tronçons", "non importées"),
    BaseLayer("buildings", "Bâtiments", "bâtiment", "bâtiments", "non importés"),
    BaseLayer("addresses", "Adresses", "adresse", "adresses", "non importées"),
)

ATTRIBUTION = (
    "Fond de plan servi par l'application à partir des données importées du territoire "
    "(rues, voies ferrées, adresses : © les contributeurs d'OpenStreetMap, ODbL, quand "
    "elles en viennent ; communes : IGN ADMIN EXPRESS)"
)


def legend_line(layer: BaseLayer, count: int) -> str:
    """The legend's line of a base layer.

    >>> legend_line(BASE_LAYERS[2], 0)
    'Rues : non importées'
    >>> legend_line(BASE_LAYERS[2], 4786), legend_line(BASE_LAYERS[3], 1)
    ('Rues : 4\\u202f786 tronçons', 'Voies ferrées : 1 tronçon')
    """
    if count == 0:
        return f"{layer.label} : {layer.missing}"
    unit = layer.unit if count == 1 else layer.units
    return f"{layer.label} : {count:,} {unit}".replace(",", "\u202f")


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse ``z/x/y`` when it is not a tile, naming the field.

    >>> check_tile(12, 2125, 1434)
    >>> check_tile(2, 4, 0)
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: x : 4 hors de la grille du niveau 2 (0 à 3)
    """
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise InvalidInputError(
            "tile_zoom_out_of_range", field="z", z=str(z), low=MIN_ZOOM, high=MAX_ZOOM
        )
    last = 2**z - 1
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value <= last:
            raise InvalidInputError(
                "tile_out_of_grid", field=name, value=str(value), z=str(z), last=str(last)
            )


def line_group(category: str) -> str:
    """Which base layer a barriers feature of this class draws in: ``railways``, ``water``,
    ``main_roads`` or ``roads``.

    >>> [line_group(c) for c in ("tram", "river", "primary_link", "residential")]
    ['railways', 'water', 'main_roads', 'roads']
    """
    if category in RAILWAY_CLASSES:
        return "railways"
    if category in WATER_CLASSES:
        return "water"
    return "main_roads" if category in MAIN_ROADS + SECONDARY_ROADS else "roads"


def upright(azimuth_deg: float) -> float:
    """The rotation (degrees clockwise from the horizontal, in ``(-90, 90]``) that writes
    a label along a line of the given azimuth (degrees clockwise from north) without
    turning it upside down.

    >>> upright(90.0), upright(270.0), upright(0.0), upright(135.0), upright(315.0)
    (0.0, 0.0, 90.0, 45.0, 45.0)
    """
    angle = (azimuth_deg - 90.0) % 180.0
    return angle - 180.0 if angle > 90.0 else angle


# The printed maps (the plan's A4 sheet, the GPO's meeting pack): an SVG of about
# PRINT_WIDTH_PX pixels across, printed about 180 mm wide.
PRINT_WIDTH_PX = 700
#: Buildings are printed when the printed extent is at most this wide: about 1:33 000 on
#: the sheet's 180 mm map, where a 10 m house is still a 0.3 mm speck and a town's blocks
#: read as its built fabric, as on IGN's 1:25 000 and 1:50 000 maps; wider, they merge into
#: a grey noise and their count (the SVG's size) grows with the extent's area. A whole
#: commune the size of Massy (5 km across) is printed with its buildings.
PRINT_BUILDINGS_MAX_WIDTH_M = 6_000
#: The names of the main and secondary roads (:data:`MAIN_ROADS`, :data:`SECONDARY_ROADS`)
#: are printed up to this width (their long stretches hold a name); every named street's
#: up to :data:`PRINT_ALL_STREETS_MAX_WIDTH_M` (4.3 m a pixel: a 15-letter name at 6.5 px
#: spans some 270 m, the length of a town's residential street).
PRINT_STREET_NAMES_MAX_WIDTH_M = 10_000
PRINT_ALL_STREETS_MAX_WIDTH_M = 3_000
#: Caps that keep a printed map's SVG small (a few hundred kB at most): the largest
#: buildings, the longest lines (main roads first), the longest named streets offered
#: to the label placement (which keeps those that do not collide).
MAX_PRINTED_BUILDINGS = 4_000
MAX_PRINTED_LINES = 8_000
MAX_PRINTED_STREET_NAMES = 80
#: A feature of a layer is OpenStreetMap's when its layer's file says so (``.osm``,
#: ``.osm.pbf``, « osm » in its name) or its attributes carry OpenStreetMap's keys (an
#: OSMnx export's ``osmid``, an extract's ``osm_id``, ``highway``, ``building``).
OSM_ATTRIBUTE_KEYS = ("osmid", "osm_id", "osm_way_id", "highway", "building")
OSM_SOURCE_PATTERN = r"(^|[^a-z])osm([^a-z]|$)|openstreetmap|bano"
OSM_ATTRIBUTION = "© les contributeurs d'OpenStreetMap"
LINKS_LEGEND = "Liaisons déclarées (bac, pont…)"


def extent_width_m(bounds: tuple[float, float, float, float]) -> float:
    """How wide an extent (WGS84 bounds) is on the ground, in metres, at its middle
    latitude (a sphere of the IUGG mean radius: close enough to choose what to print).

    One degree of longitude at 48.5° N: 111 195 m (a degree of the sphere) x cos 48.5° (0.66262).

    >>> round(extent_width_m((2.0, 48.0, 3.0, 49.0)))
    73680
    """
    west, south, east, north = bounds
    return (east - west) * math.radians(6_371_008.8) * math.cos(math.radians((south + north) / 2))


@dataclass(frozen=True)
class PrintDetail:
    """What a printed map of a given width draws of the base map."""

    buildings: bool
    #: The road classes whose names are printed (None: every named street; () none).
    street_classes: tuple[str, ...] | None


def print_detail(width_m: float) -> PrintDetail:
    """What a printed map ``width_m`` metres wide draws.

    >>> print_detail(2_500).buildings, print_detail(2_500).street_classes
    (True, None)
    >>> print_detail(5_300).buildings, len(print_detail(5_300).street_classes)
    (True, 10)
    >>> print_detail(25_000)
    PrintDetail(buildings=False, street_classes=())
    """
    if width_m <= PRINT_ALL_STREETS_MAX_WIDTH_M:
        classes: tuple[str, ...] | None = None
    elif width_m <= PRINT_STREET_NAMES_MAX_WIDTH_M:
        classes = MAIN_ROADS + SECONDARY_ROADS
    else:
        classes = ()
    return PrintDetail(buildings=width_m <= PRINT_BUILDINGS_MAX_WIDTH_M, street_classes=classes)


def printed_legend(counts: dict[str, int], buildings_drawn: bool) -> list[str]:
    """The printed map's legend of its base layers (the addresses aside, never printed):
    each with what the territory has, a missing one said (« Rues : non importées »), and
    buildings the territory has but the scale leaves out said so.

    >>> printed_legend({"communes": 2, "water": 0, "roads": 0, "railways": 0,
    ...                 "buildings": 3}, buildings_drawn=False)[2:]
    ['Rues : non importées', 'Voies ferrées : non importées', \
'Bâtiments : non dessinés à cette échelle (carte de plus de 6 km de large)']
    """
    lines = []
    for layer in BASE_LAYERS:
        if layer.key == "addresses":
            continue
        count = counts.get(layer.key, 0)
        if layer.key == "buildings" and count and not buildings_drawn:
            limit = PRINT_BUILDINGS_MAX_WIDTH_M / 1000
            lines.append(
                f"{layer.label} : non dessinés à cette échelle (carte de plus de {limit:g} km "
                "de large)"
            )
            continue
        lines.append(legend_line(layer, count))
    return lines
