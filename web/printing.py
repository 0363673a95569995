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
from markupsafe import Markup, escape

from api import clock
from geo.crs import metric_crs
from geo.errors import UnavailableError
from geo.labels import label_point

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
) -> Markup:
    """The layers, bottom first, framed on ``extent`` (WGS84) in ``width`` by ``height``
    pixels, with a scale bar, in the territory's projected CRS (:func:`geo.crs.metric_crs`:
    Lambert-93 in metropolitan France, the UTM zone overseas)."""
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
                labels.append(
                    f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" class="label">'
                    f"{escape(str(row['label']))}</text>"
                )
    out.append("</g>")
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


#: How the base map's lines print: light, under the thematic layers.
BASE_LINE_STYLES = {
    "water": {"fill": "none", "stroke": "#9ecae1", "stroke_width": "0.9"},
    "roads": {"fill": "none", "stroke": "#c8c2b8", "stroke_width": "0.5"},
    "main_roads": {"fill": "none", "stroke": "#b5a995", "stroke_width": "1.1"},
    "railways": {"fill": "none", "stroke": "#8d8d8d", "stroke_width": "0.8",
                 "stroke_dasharray": "4 2"},
}  # fmt: skip


def base_map_layers(lines: gpd.GeoDataFrame | None) -> list[SvgLayer]:
    """The printed base map: one :class:`SvgLayer` per group of ``lines`` (a ``group``
    column: ``water``, ``roads``, ``main_roads``, ``railways``), to draw first."""
    if lines is None or lines.empty:
        return []
    return [
        SvgLayer(lines[lines["group"] == group][["geometry"]], style)
        for group, style in BASE_LINE_STYLES.items()
        if (lines["group"] == group).any()
    ]


def sector_map_svg(
    sectors: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    colours: list[str],
    width: float = 700,
    height: float = 640,
    base: gpd.GeoDataFrame | None = None,
) -> Markup:
    """The sectors (filled, labelled) and commune lines (dashed), with a scale bar, over
    the base map's lines (``base``, see :func:`base_map_layers`) when given."""
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
        ],
        shapely.union_all(sectors.to_crs(4326).geometry.values),
        width=width,
        height=height,
        label="Carte des secteurs",
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
