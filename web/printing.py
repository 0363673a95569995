"""Printable A4 sheets: a plan's sector map (inline SVG, drawn from our data: no tiles, no
script) with its legend and metrics, as HTML, and as PDF or PNG printed by Debian's
Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
from markupsafe import Markup, escape

from api import clock
from api.services.basemap import PrintedBase
from geo.crs import metric_crs
from geo.errors import UnavailableError
from geo.labels import LabelPlacer, along_line, label_point, text_outline

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
A4_CSS_PX = (794, 1123)
PRINT_TIMEOUT_MS = 30_000
# One Chromium at a time per process: each takes ~150 MB and a core while it prints.
_printing = threading.Lock()  # 210 x 297 mm at 96 px per inch


def chromium_path() -> str:
    """The Chromium binary: ``$PSQ_CHROMIUM``, else Debian's ``/usr/bin/chromium``."""
    return os.environ.get("PSQ_CHROMIUM", "/usr/bin/chromium")


def _ring_path(coords: np.ndarray, x0: float, y1: float, scale: float) -> str:
    xs = (coords[:, 0] - x0) * scale
    ys = (y1 - coords[:, 1]) * scale
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return f"M{points}Z"


def _path(geom: shapely.Geometry, x0: float, y1: float, scale: float) -> str:
    """SVG path data of a (multi)polygon or (multi)line, holes included."""
    parts: list[str] = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            rings: Iterable[shapely.Geometry] = [part.exterior, *part.interiors]
            parts.extend(_ring_path(np.asarray(r.coords), x0, y1, scale) for r in rings)
        elif part.geom_type in ("LineString", "LinearRing"):
            parts.append(_ring_path(np.asarray(part.coords), x0, y1, scale).rstrip("Z"))
    return " ".join(parts)


@dataclass(frozen=True)
class SvgLayer:
    """A layer of :func:`map_svg`: ``frame``'s geometries drawn with ``style`` (SVG
    presentation attributes); a ``fill`` or ``stroke`` column overrides them per row, a
    ``label`` column writes text at each geometry, and points are circles of ``radius``."""

    frame: gpd.GeoDataFrame
    style: dict[str, str] = field(default_factory=dict)
    radius: float = 3.0


def _attributes(style: dict[str, str], row: dict[str, object]) -> str:
    merged = {**style, **{k: str(row[k]) for k in ("fill", "stroke") if row.get(k)}}
    return " ".join(f'{k.replace("_", "-")}="{escape(v)}"' for k, v in merged.items())


def map_svg(
    layers: list[SvgLayer],
    extent: shapely.Geometry,
    *,
    width: float = 700,
    height: float = 640,
    label: str = "Carte",
    names: gpd.GeoDataFrame | None = None,
) -> Markup:
    """The layers, bottom first, framed on ``extent`` (WGS84) in ``width`` by ``height``
    pixels, with a scale bar, in the territory's projected CRS (:func:`geo.crs.metric_crs`:
    Lambert-93 in metropolitan France, the UTM zone overseas); then the base map's
    ``names`` (``kind``, ``text``: :attr:`api.services.basemap.PrintedBase.names`) where
    they collide with no label of the layers (which come first) nor with one another."""
    crs = metric_crs(gpd.GeoDataFrame(geometry=[extent], crs=4326))
    x0, y0, x1, y1 = gpd.GeoSeries([extent], crs=4326).to_crs(crs).total_bounds
    margin = 0.03 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
    scale = min(width / (x1 - x0), height / (y1 - y0))
    w, h = (x1 - x0) * scale, (y1 - y0) * scale
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'width="{w:.0f}" height="{h:.0f}" role="img" aria-label="{escape(label)}">'
        f'<clipPath id="frame"><rect width="{w:.0f}" height="{h:.0f}"/></clipPath>'
        '<g clip-path="url(#frame)">'
    ]
    labels: list[str] = []
    placer = LabelPlacer(w, h)
    for layer in layers:
        frame = layer.frame.to_crs(crs)
        records = frame.drop(columns="geometry").to_dict("records")
        for row, geom in zip(records, frame.geometry, strict=True):
            if geom is None or geom.is_empty:
                continue
            attributes = _attributes(layer.style, row)
            if geom.geom_type == "Point":
                x, y = (geom.x - x0) * scale, (y1 - geom.y) * scale
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{layer.radius}" {attributes}/>')
            else:
                out.append(f'<path d="{_path(geom, x0, y1, scale)}" {attributes}/>')
            if row.get("label"):
                point = label_point(geom)  # inside its own polygon (pole of inaccessibility)
                if point is None:
                    continue
                x, y = (point.x - x0) * scale, (y1 - point.y) * scale
                if geom.geom_type == "Point":
                    y -= layer.radius + 2  # a point's number above it
                if not (0 <= x <= w and 0 <= y <= h):
                    continue  # a neighbour's label out of the frame: not half-written
                x, y = min(max(x, 24.0), w - 24.0), min(max(y, 10.0), h - 4.0)
                # The thematic labels first: the base map's names make room for them.
                placer.reserve(
                    text_outline(x, y - 0.35 * LABEL_SIZE, str(row["label"]), LABEL_SIZE, bold=True)
                )
                labels.append(
                    f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" class="label">'
                    f"{escape(str(row['label']))}</text>"
                )
    out.append("</g>")
    if names is not None and not names.empty:
        out.extend(_names(names.to_crs(crs), placer, (x0, y1, scale)))
    out.extend(labels)
    # A scale bar of a round length about a fifth of the map's width.
    metres = (x1 - x0) / 5
    bar = 10 ** np.floor(np.log10(metres))
    bar *= 5 if metres / bar >= 5 else 2 if metres / bar >= 2 else 1
    bar_px = bar * scale
    text = f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m"
    out.append(
        f'<g transform="translate(12,{h - 14:.0f})"><rect width="{bar_px:.1f}" height="5" '
        f'fill="#222"/><text x="{bar_px + 6:.1f}" y="6" class="scale">{text}</text></g>'
    )
    out.append("</svg>")
    return Markup("".join(out))


#: The size (pixels) of the sheets' thematic labels (``.label``: 11 px bold at most).
LABEL_SIZE = 11.0
#: How the base map's names print: the communes' larger, the streets' small and italic,
#: both with a white halo; ``size`` in pixels.
NAME_STYLES: dict[str, dict[str, str]] = {
    "commune": {"size": "10", "fill": "#3d3d3d", "font-weight": "600"},
    "street": {"size": "6.5", "fill": "#6b5d4b", "font-style": "italic"},
}


def _names(
    names: gpd.GeoDataFrame, placer: LabelPlacer, frame: tuple[float, float, float]
) -> list[str]:
    """The ``<text>`` of each name that finds a place (:class:`geo.labels.LabelPlacer`):
    a commune's at its point, or a line's height below or above it; a street's along the
    middle of its stretch, or at a third or two thirds of it."""
    x0, y1, scale = frame
    to_page = [scale, 0.0, 0.0, -scale, -x0 * scale, y1 * scale]
    out = []
    for kind, text, geom in zip(names["kind"], names["text"], names.geometry, strict=True):
        style = NAME_STYLES[str(kind)]
        size = float(style["size"])
        page = shapely.affinity.affine_transform(geom, to_page)
        if page.geom_type == "Point":
            spots = [(page.x, page.y + dy, 0.0) for dy in (0.0, 1.4 * size, -1.4 * size)]
        elif page.geom_type == "LineString":
            spots = along_line(page, str(text), size)
        else:
            continue
        chosen = placer.place([text_outline(x, y, str(text), size, a) for x, y, a in spots])
        if chosen is None:
            continue
        x, y, angle = spots[chosen]
        turn = f' transform="rotate({angle:g} {x:.1f} {y:.1f})"' if angle else ""
        extra = " ".join(f'{k}="{v}"' for k, v in style.items() if k != "size")
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}"{turn} class="name {kind}-name" '
            f'font-size="{size:g}" {extra} text-anchor="middle" dominant-baseline="central" '
            f'stroke="#fff" stroke-width="2" stroke-opacity="0.85" paint-order="stroke">'
            f"{escape(str(text))}</text>"
        )
    return out


#: How the base map's lines print: light, under the thematic layers.
BASE_LINE_STYLES = {
    "water": {"fill": "none", "stroke": "#9ecae1", "stroke_width": "0.9"},
    "roads": {"fill": "none", "stroke": "#c8c2b8", "stroke_width": "0.5"},
    "main_roads": {"fill": "none", "stroke": "#b5a995", "stroke_width": "1.1"},
    "railways": {"fill": "none", "stroke": "#8d8d8d", "stroke_width": "0.8",
                 "stroke_dasharray": "4 2"},
}  # fmt: skip


#: How the base map's buildings and the declared links print.
BUILDING_STYLE = {"fill": "#dcd8d1", "stroke": "none", "class": "building"}
LINK_STYLE = {"fill": "none", "stroke": "#1f3a93", "stroke_width": "2",
              "stroke_dasharray": "6 4", "class": "declared-link"}  # fmt: skip


def base_map_layers(base: PrintedBase | None) -> list[SvgLayer]:
    """The printed base map (:func:`api.services.basemap.printed_base`), to draw first:
    the buildings, then one :class:`SvgLayer` per group of lines (``water``, ``roads``,
    ``main_roads``, ``railways``). The declared links go over the thematic layers
    (:func:`link_layers`), the names over everything (``map_svg``'s ``names``)."""
    if base is None:
        return []
    lines = base.lines
    out = [SvgLayer(_merged(base.buildings), BUILDING_STYLE)] if len(base.buildings) else []
    return out + [
        SvgLayer(_merged(lines[lines["group"] == group]), style)
        for group, style in BASE_LINE_STYLES.items()
        if len(lines) and (lines["group"] == group).any()
    ]


def _merged(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame``'s geometries as one (multi)line or (multi)polygon: one ``<path>`` for a
    whole base layer, its style written once (the SVG of thousands of streets stays
    small)."""
    parts = shapely.get_parts(frame.geometry.values)
    lines = [p for p in parts if p.geom_type == "LineString"]
    polygons = [p for p in parts if p.geom_type == "Polygon"]
    merged = [
        *([shapely.MultiLineString(lines)] if lines else []),
        *([shapely.MultiPolygon(polygons)] if polygons else []),
    ]
    return gpd.GeoDataFrame(geometry=merged, crs=frame.crs)


def link_layers(base: PrintedBase | None) -> list[SvgLayer]:
    """The declared links (ferries, bridges, tunnels), dashed, over the sectors."""
    if base is None or base.links.empty:
        return []
    return [SvgLayer(base.links[["geometry"]], LINK_STYLE)]


def sector_map_svg(
    sectors: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    colours: list[str],
    width: float = 700,
    height: float = 640,
    base: PrintedBase | None = None,
) -> Markup:
    """The sectors (filled, labelled) and commune lines (dashed), with a scale bar, over
    the base map (``base``, see :func:`base_map_layers`) when given, its declared links
    and names over them."""
    filled = sectors.assign(
        fill=[colours[int(s)] for s in sectors["sector"]], label=sectors["name"]
    )[["fill", "label", "geometry"]]
    lines = gpd.GeoDataFrame(geometry=communes.geometry.boundary, crs=communes.crs)
    return map_svg(
        [
            *base_map_layers(base),
            SvgLayer(
                filled,
                {
                    "fill_opacity": "0.55",
                    "fill_rule": "evenodd",
                    "stroke": "#222",
                    "stroke_width": "1.2",
                },
            ),
            SvgLayer(
                lines,
                {
                    "fill": "none",
                    "stroke": "#333",
                    "stroke_width": "0.6",
                    "stroke_dasharray": "3 2",
                },
            ),
            *link_layers(base),
        ],
        shapely.union_all(sectors.to_crs(4326).geometry.values),
        width=width,
        height=height,
        label="Carte des secteurs",
        names=None if base is None else base.names,
    )


def _launch():  # type: ignore[no-untyped-def]
    executable = chromium_path()
    if shutil.which(executable) is None and not os.path.exists(executable):
        raise UnavailableError(
            f"Chromium ({executable}) is not installed on this server: print the sheet from "
            "the browser (Ctrl+P) instead"
        )
    from playwright.sync_api import sync_playwright

    return sync_playwright(), executable


def print_html(html: str, fmt: str) -> bytes:
    """Print an A4 page: ``pdf`` (vector, A4 portrait) or ``png`` (A4 at twice the scale)."""
    manager, executable = _launch()
    with _printing, manager as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": A4_CSS_PX[0], "height": A4_CSS_PX[1]}, device_scale_factor=2
            )
            page.set_content(html, wait_until="load", timeout=PRINT_TIMEOUT_MS)
            if fmt == "pdf":
                return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
            return page.screenshot(full_page=True, type="png")
        finally:
            browser.close()


MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def french_date(d: date) -> str:
    """« 8 décembre 2026 »."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def long_date(d: date) -> str:
    """« mardi 8 décembre 2026 »."""
    return f"{WEEKDAYS[d.weekday()]} {french_date(d)}"


def today_fr() -> str:
    return french_date(clock.today())
