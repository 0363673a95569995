"""Server-rendered problem maps: the GPO meeting pack (A4, inline SVG, printed by Chromium)
and the shareable folium map of an area (every asset served from web/static/vendor)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry
from markupsafe import Markup, escape

from api.services import basemap, cartography
from api.services.cartography import MeetingPackData
from api.services.context import Context
from geo.hotspots import LEVEL_LABELS, TRENDS, cells_frame, metric_crs_of
from geo.problems import CATEGORIES
from geo.study import ProblemFilter
from web.folium_maps import import_folium, render_map
from web.palette import CATEGORY_COLOURS, HEAT_COLOURS, HOTSPOT_COLOURS, TREND_COLOURS
from web.printing import SvgLayer, base_map_layers, link_layers, map_svg

FOLIUM_MAX_MARKERS = 5000


#: The base map on the folium map: the app's own vector tiles (``/tiles``, drawn by the
#: vendored Leaflet.VectorGrid under the thematic layers), a metric scale bar (folium's
#: own ``control_scale`` reads « 1000 ft ») and OpenStreetMap's attribution (its streets and
#: BANO's addresses are drawn when the territory's come from there).
_BASE_MAP_SCRIPT = """
{% macro script(this, kwargs) %}
L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
({{ this._parent.get_name() }}.attributionControl
  || L.control.attribution().addTo({{ this._parent.get_name() }}))
  .addAttribution("© les contributeurs d'OpenStreetMap (ODbL) pour les données qui en viennent");
if (L.vectorGrid) {
  L.vectorGrid.protobuf("/tiles/{z}/{x}/{y}.pbf", {
    rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18, maxZoom: 22,
    vectorTileLayerStyles: %s,
  }).addTo({{ this._parent.get_name() }});
}
{% endmacro %}
"""
_BASE_MAP_STYLES = {
    "communes": {
        "fill": True,
        "fillColor": "#f5f3ee",
        "fillOpacity": 0.7,
        "color": "#bdb6a8",
        "weight": 0.8,
    },
    "water": {"color": "#a8cbe2", "weight": 1.6},
    "roads": {"color": "#d6cfc4", "weight": 1.4},
    "railways": {"color": "#9a9a9a", "weight": 1.4, "dashArray": "5 3"},
    "addresses": {"radius": 1.6, "fill": True, "fillColor": "#a9a39a", "stroke": False},
}


def _add_base_map(folium: Any, m: Any) -> None:
    from branca.element import MacroElement, Template

    m.get_root().html.add_child(
        folium.Element(
            '<script src="/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js">'
            "</script>"
        )
    )
    base = MacroElement()
    base._template = Template(_BASE_MAP_SCRIPT.replace("%s", json.dumps(_BASE_MAP_STYLES)))
    m.add_child(base)


def french_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class MeetingPack(MeetingPackData):
    """A GPO's meeting pack as printed: its data with the map drawn."""

    svg: Markup
    #: The base map's legend lines and attribution (:class:`api.services.basemap.PrintedBase`).
    base_legend: list[str]
    base_attribution: str | None
    crs_name: str
    categories_on_map: list[tuple[str, str]]


def _pack_extent(pack: MeetingPackData) -> shapely.Geometry:
    """What the pack's map is framed on: the area and every open problem drawn, so that
    nothing is cropped."""
    points = gpd.points_from_xy(pack.open_points["lon"], pack.open_points["lat"])
    return shapely.box(*gpd.GeoSeries([pack.area.outline, *points], crs=4326).total_bounds)


def _pack_map(
    pack: MeetingPackData, base: basemap.PrintedBase | None = None
) -> tuple[Markup, list[tuple[str, str]]]:
    """The GPO's sectors (neighbours faded), the recent Gi* hot spots, the cells whose hot
    spot is new or intensifying, and every open problem, over the base map (``base``:
    buildings, lines; its declared links and names over them); with the categories drawn
    (label, colour)."""
    area, sectors = pack.area, pack.sectors
    mine = sectors["sector"].isin(area.sectors or [])
    faded = sectors[~mine].assign(label=sectors["name"])[["label", "geometry"]]
    outline = sectors[mine].assign(label=sectors["name"])[["label", "geometry"]]
    cells = pack.recent.cells
    hot = cells[cells["level"] != 0]
    hot_cells = cells_frame(hot.assign(fill=[HOTSPOT_COLOURS[int(v)] for v in hot["level"]]))
    changed = [f for f in pack.trend if f["properties"]["trend"] in ("new", "intensifying")]
    changed_cells = gpd.GeoDataFrame(
        {"stroke": [TREND_COLOURS[f["properties"]["trend"]] for f in changed]},
        geometry=[shapely.geometry.shape(f["geometry"]) for f in changed],
        crs=4326,
    )
    points = pack.open_points
    # The listed problems numbered as in the pack's table (1 = its first row).
    number = {p.id: str(i) for i, p in enumerate(pack.open_list, start=1)}
    open_points = gpd.GeoDataFrame(
        {
            "fill": [CATEGORY_COLOURS.get(c, "#777") for c in points["category"]],
            "label": [number.get(int(i), "") for i in points["id"]],
        },
        geometry=gpd.points_from_xy(points["lon"], points["lat"]),
        crs=4326,
    )
    svg = map_svg(
        [
            SvgLayer(faded, {"fill": "#e9ecef", "stroke": "#adb5bd", "stroke_width": "0.8"}),
            *base_map_layers(base),
            SvgLayer(hot_cells, {"fill_opacity": "0.75", "stroke": "#fff", "stroke_width": "0.3"}),
            SvgLayer(changed_cells, {"fill": "none", "stroke_width": "2.2"}),
            SvgLayer(outline, {"fill": "none", "stroke": "#1d3557", "stroke_width": "2.5"}),
            *link_layers(base),
            SvgLayer(open_points, {"stroke": "#fff", "stroke_width": "0.8"}, radius=3.5),
        ],
        _pack_extent(pack),
        width=700,
        height=520,
        label=f"Carte du {area.name}",
        names=None if base is None else base.names,
    )
    drawn = sorted(set(points["category"]))
    return svg, [(CATEGORIES.get(c, c), CATEGORY_COLOURS.get(c, "#777")) for c in drawn]


def meeting_pack(
    ctx: Context, gpo_id: int, today: date | None = None, *, printed: str | None = None
) -> MeetingPack:
    """The GPO's meeting pack (:func:`api.services.cartography.meeting_pack`) with its map;
    ``printed`` when it is downloaded as a PDF or PNG (recorded as an export)."""
    data = cartography.meeting_pack(ctx, gpo_id, today, printed=printed)
    base = basemap.printed_base(ctx, _pack_extent(data))
    svg, categories_on_map = _pack_map(data, base)
    return MeetingPack(
        **{f.name: getattr(data, f.name) for f in fields(data)},
        svg=svg,
        base_legend=base.legend,
        base_attribution=base.attribution,
        crs_name=metric_crs_of(data.area.outline).name,
        categories_on_map=categories_on_map,
    )


def pack_context(pack: MeetingPack) -> dict[str, Any]:
    """The template's variables, labels and legend included."""
    by_category = pd.Series([p.category for p in pack.opened], dtype=object).value_counts()
    return {
        "pack": pack,
        "date": french_date,
        "level_labels": LEVEL_LABELS,
        "hotspot_colours": HOTSPOT_COLOURS,
        "trend_colours": TREND_COLOURS,
        "trend_labels": TRENDS,
        "category_colours": CATEGORY_COLOURS,
        "opened_by_category": [
            (CATEGORIES.get(code, code), CATEGORY_COLOURS.get(code, "#777"), int(n))
            for code, n in by_category.items()
        ],
        # A thematic GPO's pack holds its theme's categories only.
        "theme_labels": [CATEGORIES.get(code, code) for code in pack.area.categories or ()],
    }


def folium_problem_map(ctx: Context, csp_id: int, gpo_id: int | None, where: ProblemFilter) -> str:
    """A self-contained folium page of the area: sectors, heat bands, Gi* cells and the
    problems (the most recent :data:`FOLIUM_MAX_MARKERS`) clustered, with a legend."""
    folium = import_folium()
    from branca.colormap import StepColormap

    picture = cartography.area_picture(
        ctx, csp_id, gpo_id=gpo_id, where=where, limit=FOLIUM_MAX_MARKERS
    )
    area, maps = picture.area, picture.maps
    minx, miny, maxx, maxy = area.outline.bounds
    m = folium.Map(tiles=None, maxZoom=18)
    _add_base_map(folium, m)
    title = (
        f"<div style='position:fixed;top:8px;left:50px;z-index:1000;background:#fff;"
        f"padding:4px 10px;border-radius:4px;font:14px sans-serif'><b>{escape(area.name)}</b> — "
        f"problématiques du {french_date(where.since)} au {french_date(where.until)}"
        + (" — <b>données fictives</b> (démonstration)" if maps.meta.synthetic_problems else "")
        + "</div>"
    )
    m.get_root().html.add_child(folium.Element(title))
    folium.GeoJson(
        json.loads(gpd.GeoSeries([area.outline], crs=4326).to_json()),
        name="Périmètre",
        style_function=lambda _: {"color": "#1d3557", "weight": 3, "fill": False},
    ).add_to(m)
    heat = json.loads(maps.heat_json)
    folium.GeoJson(
        heat,
        name="Chaleur (densité de noyau)",
        style_function=lambda f: {
            "stroke": False,
            "fillColor": HEAT_COLOURS[f["properties"]["band"]],
            "fillOpacity": 0.6,
        },
    ).add_to(m)
    cells = json.loads(maps.hotspots_json)
    cells["features"] = [f for f in cells["features"] if f["properties"]["level"] != 0]
    if cells["features"]:
        folium.GeoJson(
            cells,
            name="Points chauds et froids (Gi*)",
            style_function=lambda f: {
                "color": "#333",
                "weight": 0.6,
                "fillColor": HOTSPOT_COLOURS[f["properties"]["level"]],
                "fillOpacity": 0.7,
            },
            tooltip=folium.GeoJsonTooltip(
                ["label", "count", "z"], aliases=["Gi*", "Problématiques", "z"]
            ),
        ).add_to(m)
    points = picture.points
    cluster = folium.plugins.MarkerCluster(name="Problématiques").add_to(m)
    for row in points.itertuples():
        label = CATEGORIES.get(row.category, row.category)
        folium.CircleMarker(
            (row.lat, row.lon),
            radius=6,
            color="#fff",
            weight=1,
            fill=True,
            fill_color=CATEGORY_COLOURS.get(row.category, "#777"),
            fill_opacity=0.95,
            tooltip=f"{label} — signalée le {french_date(date.fromisoformat(str(row.reported_on)))}"
            + (" (fictive)" if row.synthetic else ""),
        ).add_to(cluster)
    levels = [-3, -2, -1, 1, 2, 3]
    StepColormap(
        [HOTSPOT_COLOURS[v] for v in levels],
        index=[-3.5, -2.5, -1.5, 0, 1.5, 2.5, 3.5],
        vmin=-3.5,
        vmax=3.5,
        caption="Gi* : points froids (99, 95, 90 %) à chauds (90, 95, 99 %)",
    ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    folium.FitBounds([[miny, minx], [maxy, maxx]]).add_to(m)
    return render_map(m)
