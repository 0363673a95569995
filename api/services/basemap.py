"""The base map served by the app itself: its vector tiles (``/tiles/{z}/{x}/{y}.pbf``),
kept in the context's tile cache while the data they are built from have not changed,
and what the territory has of each base layer (the legends' « Rues : non importées »).

The base layers are public territorial data (communes, streets, railways, addresses): a
tile holds those of the whole database, whatever the caller's perimeter."""

from __future__ import annotations

import json
from dataclasses import dataclass

import geopandas as gpd
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from api.models import Csp
from api.repositories import basemap as repo
from api.repositories.base import require
from api.schemas import BaseLayerPublic, BaseMapLabelPublic, BaseMapLabelsPublic, BaseMapPublic
from api.services.context import Context
from geo.basemap import (
    ATTRIBUTION,
    BASE_LAYERS,
    COMMUNE_LABELS_ZOOM,
    LINKS_LEGEND,
    MAX_PRINTED_BUILDINGS,
    MAX_PRINTED_LINES,
    MAX_PRINTED_STREET_NAMES,
    MAX_ZOOM,
    MIN_ZOOM,
    OSM_ATTRIBUTION,
    PRINT_WIDTH_PX,
    STREET_LABELS_ZOOM,
    check_tile,
    extent_width_m,
    legend_line,
    line_group,
    print_detail,
    printed_legend,
    upright,
)
from geo.errors import InvalidInputError


def tile(ctx: Context, z: int, x: int, y: int) -> bytes:
    """The tile ``z/x/y`` (MVT; empty bytes where the territory has nothing), from the
    cache when the base map's data have not changed since it was built."""
    check_tile(z, x, y)
    with ctx.read() as session:
        revision = hash(repo.revision(session))
        return ctx.tiles.get_or_compute((z, x, y), revision, lambda: repo.tile(session, z, x, y))


#: The widest view (degrees of longitude or latitude) whose street names are asked for:
#: a screen at zoom 15 spans well under it; a wider one would read every street.
MAX_STREET_LABELS_SPAN = 0.25


def labels(ctx: Context, box: tuple[float, float, float, float], zoom: int) -> BaseMapLabelsPublic:
    """The names to paint over the base map in the view ``box`` (WGS84) at ``zoom``: the
    communes' from :data:`geo.basemap.COMMUNE_LABELS_ZOOM` (their points kept in the tile
    cache while the base map's data have not changed), and the longest streets' from
    :data:`geo.basemap.STREET_LABELS_ZOOM`."""
    west, south, east, north = box
    out: list[BaseMapLabelPublic] = []
    with ctx.read() as session:
        if zoom >= COMMUNE_LABELS_ZOOM:
            points = _commune_points(ctx, session)
            out += [
                BaseMapLabelPublic(kind="commune", text=name, lon=lon, lat=lat, angle=0.0)
                for name, lon, lat in points
                if west <= lon <= east and south <= lat <= north
            ]
        if zoom >= STREET_LABELS_ZOOM:
            if max(east - west, north - south) > MAX_STREET_LABELS_SPAN:
                raise InvalidInputError(
                    "basemap_view_too_wide", field="bbox", span=MAX_STREET_LABELS_SPAN, zoom=zoom
                )
            out += [
                BaseMapLabelPublic(kind="street", text=name, lon=lon, lat=lat, angle=upright(az))
                for name, lon, lat, az in repo.street_labels(session, box)
            ]
    return BaseMapLabelsPublic(labels=out)


def _commune_points(ctx: Context, session: Session) -> list[tuple[str, float, float]]:
    """Every commune's name and label point, kept in the tile cache while the base map's
    data have not changed."""
    revision = hash(repo.revision(session))
    points = json.loads(
        ctx.tiles.get_or_compute(
            ("commune-labels",),
            revision,
            lambda: json.dumps(repo.commune_labels(session)).encode(),
        )
    )
    return [(str(n), float(lon), float(lat)) for n, lon, lat in points]


def base_map(ctx: Context, csp_id: int | None = None) -> BaseMapPublic:
    """Which base layers the territory has (the CSP's, when given), for the legends."""
    with ctx.read() as session:
        if csp_id is not None:
            require(session, Csp, csp_id)
        counts = repo.counts(session, csp_id)
    return BaseMapPublic(
        layers=[
            BaseLayerPublic(
                key=layer.key,
                label=layer.label,
                available=counts[layer.key] > 0,
                count=counts[layer.key],
                legend=legend_line(layer, counts[layer.key]),
            )
            for layer in BASE_LAYERS
        ],
        attribution=ATTRIBUTION,
        min_zoom=MIN_ZOOM,
        max_zoom=MAX_ZOOM,
    )


@dataclass(frozen=True)
class PrintedBase:
    """The base map of a printed map (the plan's A4 sheet, the GPO's meeting pack), every
    layer clipped to the printed extent (WGS84), bottom first."""

    #: The roads, railways and waterways with their ``group`` (:func:`geo.basemap.line_group`).
    lines: gpd.GeoDataFrame
    #: The buildings (none when the scale leaves them out, :func:`geo.basemap.print_detail`).
    buildings: gpd.GeoDataFrame
    #: The declared links (ferries, bridges, tunnels) with their ``name``.
    links: gpd.GeoDataFrame
    #: The names to write (``kind``: ``commune`` at a point, ``street`` along its line;
    #: ``text``), in the order they are offered to the placement.
    names: gpd.GeoDataFrame
    #: The legend's lines of the base layers (« Rues : non importées »…).
    legend: list[str]
    #: « © les contributeurs d'OpenStreetMap » when OpenStreetMap's data are drawn.
    attribution: str | None


def _empty_frame(*columns: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=4326)


def printed_base(ctx: Context, extent: BaseGeometry) -> PrintedBase:
    """The base map of a printed map framed on ``extent`` (WGS84): clipped by PostGIS a
    little beyond it (the map's own margin), simplified to about half a pixel, capped
    (:data:`geo.basemap.MAX_PRINTED_BUILDINGS`…); buildings and street names as the scale
    allows (:func:`geo.basemap.print_detail`); the communes' names always."""
    west, south, east, north = extent.bounds
    pad = 0.05 * max(east - west, north - south)
    box = (west - pad, south - pad, east + pad, north + pad)
    width_m = extent_width_m(box)
    detail = print_detail(width_m)
    tolerance = (box[2] - box[0]) / PRINT_WIDTH_PX / 2
    with ctx.read() as session:
        lines = repo.printed_lines(session, box, tolerance, MAX_PRINTED_LINES)
        buildings = (
            repo.printed_buildings(session, box, tolerance, MAX_PRINTED_BUILDINGS)
            if detail.buildings
            else _empty_frame()
        )
        links = repo.printed_links(session, box)
        streets = (
            repo.printed_streets(session, box, detail.street_classes, MAX_PRINTED_STREET_NAMES)
            if detail.street_classes != ()
            else _empty_frame("name")
        )
        counts = repo.counts_in(session, box)
        drawn_kinds = ("barriers", "buildings") if detail.buildings else ("barriers",)
        osm = repo.openstreetmap_in(session, box, drawn_kinds)
        points = _commune_points(ctx, session)
    lines["group"] = [line_group(str(c)) for c in lines["category"]]
    order = {"water": 0, "roads": 1, "main_roads": 2, "railways": 3}
    lines = lines.iloc[lines["group"].map(order).argsort(kind="stable")].reset_index(drop=True)
    communes = [p for p in points if west <= p[1] <= east and south <= p[2] <= north]
    names = gpd.GeoDataFrame(
        {
            "kind": ["commune"] * len(communes) + ["street"] * len(streets),
            "text": [n for n, _, _ in communes] + [str(n) for n in streets["name"]],
        },
        geometry=[Point(lon, lat) for _, lon, lat in communes] + list(streets.geometry),
        crs=4326,
    )
    legend = printed_legend(counts, buildings_drawn=detail.buildings)
    if counts["links"]:
        legend.append(f"{LINKS_LEGEND} : {counts['links']}")
    return PrintedBase(
        lines=lines,
        buildings=buildings,
        links=links,
        names=names,
        legend=legend,
        attribution=OSM_ATTRIBUTION if osm else None,
    )
