"""QGIS styles of the exported layers, written as QGIS reads them: QML (its own style
format) and SLD (OGC Symbology Encoding 1.1, for the other GIS), stored in a GeoPackage's
``layer_styles`` table with ``useAsDefault`` so that the layer opens styled; and the
``.qgs`` project file of a CSP's export (:func:`project_xml`), in Lambert-93.

Three styles: the sectors (one colour each, labelled with their name), the problems (one
colour per category of :data:`geo.problems.CATEGORIES`) and the heat bands of problem
counts per cell (graduated reds)."""

from __future__ import annotations

import sqlite3
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyproj import CRS

#: Qualitative colours (ColorBrewer Set3 and Paired), cycled when there are more sectors.
PALETTE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#a6cee3",
    "#b2df8a",
)
#: The heat bands of problem counts: upper bounds and colours (ColorBrewer Reds).
HEAT_BANDS = ((5, "#fee5d9"), (10, "#fcae91"), (20, "#fb6a4a"), (50, "#de2d26"), (None, "#a50f15"))


@dataclass(frozen=True)
class Style:
    """A layer's style: its name, QML and SLD documents, and the QML's renderer and
    labelling elements (what a project's layer embeds)."""

    name: str
    qml: str
    sld: str
    elements: tuple[ET.Element, ...]


def _rgb(colour: str, alpha: int = 255) -> str:
    return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5)) + f",{alpha}"


def _symbol(kind: str, name: str, colour: str) -> ET.Element:
    """A QGIS symbol: a fill (outlined), a marker (circle) or a line."""
    symbol = ET.Element(
        "symbol",
        type=kind,
        name=name,
        alpha="0.75" if kind == "fill" else "1",
        clip_to_extent="1",
        force_rhr="0",
    )
    if kind == "fill":
        cls = "SimpleFill"
        props = {
            "color": _rgb(colour),
            "outline_color": "35,35,35,255",
            "outline_width": "0.4",
            "outline_width_unit": "MM",
            "style": "solid",
            "outline_style": "solid",
        }
    else:
        cls = "SimpleMarker"
        props = {
            "color": _rgb(colour),
            "name": "circle",
            "size": "2.6",
            "size_unit": "MM",
            "outline_color": "35,35,35,255",
            "outline_width": "0.2",
            "outline_style": "solid",
        }
    layer = ET.SubElement(
        symbol, "layer", {"class": cls, "pass": "0", "locked": "0", "enabled": "1"}
    )
    options = ET.SubElement(layer, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", name=key, value=value, type="QString")
        ET.SubElement(layer, "prop", k=key, v=value)
    return symbol


def _categorized(attr: str, kind: str, classes: Sequence[tuple[str, str, str]]) -> ET.Element:
    """A categorized renderer: (value, label, colour) per class."""
    renderer = ET.Element(
        "renderer-v2",
        type="categorizedSymbol",
        attr=attr,
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, label, colour) in enumerate(classes):
        ET.SubElement(
            categories, "category", value=value, label=label, symbol=str(i), render="true"
        )
        symbols.append(_symbol(kind, str(i), colour))
    return renderer


def _graduated(attr: str, bands: Sequence[tuple[float, float, str, str]]) -> ET.Element:
    renderer = ET.Element(
        "renderer-v2",
        type="graduatedSymbol",
        attr=attr,
        graduatedMethod="GraduatedColor",
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
    )
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (lower, upper, label, colour) in enumerate(bands):
        ET.SubElement(
            ranges,
            "range",
            lower=f"{lower:g}",
            upper=f"{upper:g}",
            label=label,
            symbol=str(i),
            render="true",
        )
        symbols.append(_symbol("fill", str(i), colour))
    ET.SubElement(renderer, "mode", name="custom")
    return renderer


def _labeling(field: str) -> ET.Element:
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    text = ET.SubElement(
        settings,
        "text-style",
        fieldName=field,
        isExpression="0",
        fontSize="10",
        fontSizeUnit="Point",
        fontWeight="75",
        textColor="20,20,20,255",
        fontFamily="Sans Serif",
    )
    ET.SubElement(
        text,
        "text-buffer",
        bufferDraw="1",
        bufferSize="1",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
    )
    ET.SubElement(settings, "placement", placement="1", placementFlags="10")
    ET.SubElement(settings, "rendering", obstacle="1", scaleVisibility="0")
    return labeling


def _qml(elements: Sequence[ET.Element], labels: bool) -> str:
    root = ET.Element(
        "qgis",
        version="3.22.0",
        styleCategories="Symbology|Labeling",
        labelsEnabled="1" if labels else "0",
    )
    root.extend(elements)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


# -- SLD -----------------------------------------------------------------------------------
_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"


def _equal(prop: str, value: str) -> ET.Element:
    equal = ET.Element(f"{{{_OGC}}}PropertyIsEqualTo")
    ET.SubElement(equal, f"{{{_OGC}}}PropertyName").text = prop
    ET.SubElement(equal, f"{{{_OGC}}}Literal").text = value
    return equal


def _band(prop: str, lower: float, upper: float) -> ET.Element:
    both = ET.Element(f"{{{_OGC}}}And")
    for tag, value in (("PropertyIsGreaterThan", lower), ("PropertyIsLessThanOrEqualTo", upper)):
        compare = ET.SubElement(both, f"{{{_OGC}}}{tag}")
        ET.SubElement(compare, f"{{{_OGC}}}PropertyName").text = prop
        ET.SubElement(compare, f"{{{_OGC}}}Literal").text = f"{value:g}"
    return both


def _sld(
    layer: str,
    rules: Sequence[tuple[str, ET.Element | None, str]],
    *,
    points: bool,
    label: str | None,
) -> str:
    """An SLD 1.1 document: one rule per (title, filter, colour), polygons or points;
    ``label`` names the property written on the features."""
    ET.register_namespace("sld", _SLD)
    ET.register_namespace("se", _SE)
    ET.register_namespace("ogc", _OGC)
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", version="1.1.0")
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{_SE}}}Name").text = layer
    user = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    style = ET.SubElement(user, f"{{{_SE}}}FeatureTypeStyle")
    for title, condition, colour in rules:
        rule = ET.SubElement(style, f"{{{_SE}}}Rule")
        ET.SubElement(rule, f"{{{_SE}}}Name").text = title
        if condition is not None:
            ET.SubElement(rule, f"{{{_OGC}}}Filter").append(condition)
        if points:
            symbolizer = ET.SubElement(rule, f"{{{_SE}}}PointSymbolizer")
            mark = ET.SubElement(ET.SubElement(symbolizer, f"{{{_SE}}}Graphic"), f"{{{_SE}}}Mark")
            ET.SubElement(mark, f"{{{_SE}}}WellKnownName").text = "circle"
            parent = mark
        else:
            parent = ET.SubElement(rule, f"{{{_SE}}}PolygonSymbolizer")
        fill = ET.SubElement(parent, f"{{{_SE}}}Fill")
        ET.SubElement(fill, f"{{{_SE}}}SvgParameter", name="fill").text = colour
        stroke = ET.SubElement(parent, f"{{{_SE}}}Stroke")
        ET.SubElement(stroke, f"{{{_SE}}}SvgParameter", name="stroke").text = "#232323"
    if label is not None:
        rule = ET.SubElement(style, f"{{{_SE}}}Rule")
        text = ET.SubElement(rule, f"{{{_SE}}}TextSymbolizer")
        name = ET.SubElement(text, f"{{{_SE}}}Label")
        ET.SubElement(name, f"{{{_OGC}}}PropertyName").text = label
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# -- the three styles ----------------------------------------------------------------------
def sector_style(sectors: Sequence[tuple[int, str]], *, field: str = "sector") -> Style:
    """Sectors (index, name): one colour each, labelled with their ``name``."""
    classes = [(str(i), name, PALETTE[n % len(PALETTE)]) for n, (i, name) in enumerate(sectors)]
    elements = (_categorized(field, "fill", classes), _labeling("name"))
    rules = [(label, _equal(field, value), colour) for value, label, colour in classes]
    sld = _sld("secteurs", rules, points=False, label="name")
    return Style("Secteurs", _qml(elements, True), sld, elements)


def category_style(categories: dict[str, str], *, field: str = "category") -> Style:
    """Problems: one colour per category (code: label)."""
    classes = [
        (code, label, PALETTE[n % len(PALETTE)])
        for n, (code, label) in enumerate(categories.items())
    ]
    elements = (_categorized(field, "marker", classes),)
    rules = [(label, _equal(field, value), colour) for value, label, colour in classes]
    sld = _sld("problematiques", rules, points=True, label=None)
    return Style("Catégories", _qml(elements, False), sld, elements)


def heat_style(field: str = "problems") -> Style:
    """Counts per cell in bands (:data:`HEAT_BANDS`)."""
    bands, lower = [], 0.0
    for upper, colour in HEAT_BANDS:
        top = 1e9 if upper is None else float(upper)
        label = f"plus de {lower:g}" if upper is None else f"{lower:g} à {top:g}"
        bands.append((lower, top, label, colour))
        lower = top
    elements = (_graduated(field, bands),)
    rules = [(label, _band(field, low, top), colour) for low, top, label, colour in bands]
    sld = _sld("mailles", rules, points=False, label=None)
    return Style("Chaleur", _qml(elements, False), sld, elements)


def simple_style(name: str, colour: str) -> Style:
    """Outlines only (a base layer under the others), in ``colour``."""
    symbol = _symbol("fill", "0", colour)
    for element in symbol.iter():
        if element.get("name") == "style" or element.get("k") == "style":
            element.set("value" if element.tag == "Option" else "v", "no")
        if element.get("name") == "outline_color" or element.get("k") == "outline_color":
            element.set("value" if element.tag == "Option" else "v", _rgb(colour))
    renderer = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", forceraster="0")
    ET.SubElement(renderer, "symbols").append(symbol)
    elements = (renderer,)
    sld = _sld(_slug(name), [(name, None, colour)], points=False, label=None)
    return Style(name, _qml(elements, False), sld, elements)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower())


# -- GeoPackage ----------------------------------------------------------------------------
def write_layer_styles(gpkg: Path, styles: dict[str, Style]) -> None:
    """Store the styles of the GeoPackage's layers (by table name) in its ``layer_styles``
    table, as QGIS does, each the layer's default (``useAsDefault``)."""
    with sqlite3.connect(gpkg) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
            "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
            "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        )
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles')"
        )
        columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        for table, style in styles.items():
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, 'PSQ Secteurs')",
                (
                    table,
                    columns.get(table, "geom"),
                    style.name,
                    style.qml,
                    style.sld,
                    f"Style par défaut ({style.name})",
                ),
            )


# -- the QGIS project ----------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectLayer:
    table: str  # its table in the GeoPackage
    title: str
    geometry: str  # Polygon, Point or Line
    style: Style


def _crs_element(parent: ET.Element, epsg: int) -> None:
    crs = CRS.from_epsg(epsg)
    srs = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(srs, "wkt").text = crs.to_wkt()
    ET.SubElement(srs, "srid").text = str(epsg)
    ET.SubElement(srs, "authid").text = f"EPSG:{epsg}"
    ET.SubElement(srs, "description").text = crs.name


def project_xml(
    title: str, gpkg_name: str, layers: Sequence[ProjectLayer], epsg: int = 2154
) -> str:
    """A ``.qgs`` project showing ``layers`` (first on top) of the GeoPackage next to it
    (a relative path), styled, in ``epsg``."""
    root = ET.Element("qgis", projectname=title, version="3.22.0")
    ET.SubElement(root, "title").text = title
    _crs_element(ET.SubElement(root, "projectCrs"), epsg)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    project_layers = ET.SubElement(root, "projectlayers")
    for layer in layers:
        layer_id = f"{layer.table}_{uuid.uuid4().hex[:8]}"
        source = f"./{gpkg_name}|layername={layer.table}"
        ET.SubElement(
            tree,
            "layer-tree-layer",
            id=layer_id,
            name=layer.title,
            source=source,
            providerKey="ogr",
            checked="Qt::Checked",
            expanded="1",
        )
        map_layer = ET.SubElement(
            project_layers,
            "maplayer",
            type="vector",
            geometry=layer.geometry,
            labelsEnabled="1" if any(e.tag == "labeling" for e in layer.style.elements) else "0",
        )
        ET.SubElement(map_layer, "id").text = layer_id
        ET.SubElement(map_layer, "datasource").text = source
        ET.SubElement(map_layer, "layername").text = layer.title
        _crs_element(ET.SubElement(map_layer, "srs"), epsg)
        ET.SubElement(map_layer, "provider", encoding="UTF-8").text = "ogr"
        map_layer.extend(layer.style.elements)
    properties = ET.SubElement(root, "properties")
    srs = ET.SubElement(properties, "SpatialRefSys")
    ET.SubElement(srs, "ProjectionsEnabled", type="int").text = "1"
    ET.SubElement(srs, "ProjectCrs", type="QString").text = f"EPSG:{epsg}"
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )
