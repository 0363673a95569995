"""The base map served by the app itself: its vector tiles (``/tiles/{z}/{x}/{y}.pbf``),
kept in the context's tile cache while the data they are built from have not changed,
and what the territory has of each base layer (the legends' « Rues : non importées »).

The base layers are public territorial data (communes, streets, railways, addresses): a
tile holds those of the whole database, whatever the caller's perimeter."""

from __future__ import annotations

import json

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from api.models import Csp
from api.repositories import basemap as repo
from api.repositories.base import require
from api.schemas import BaseLayerPublic, BaseMapLabelPublic, BaseMapLabelsPublic, BaseMapPublic
from api.services.context import Context
from geo.basemap import (
    ATTRIBUTION,
    BASE_LAYERS,
    COMMUNE_LABELS_ZOOM,
    MAX_ZOOM,
    MIN_ZOOM,
    STREET_LABELS_ZOOM,
    check_tile,
    legend_line,
    line_group,
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
        revision = hash(repo.revision(session))
        if zoom >= COMMUNE_LABELS_ZOOM:
            points = json.loads(
                ctx.tiles.get_or_compute(
                    ("commune-labels",),
                    revision,
                    lambda: json.dumps(repo.commune_labels(session)).encode(),
                )
            )
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


def printed_lines(ctx: Context, extent: BaseGeometry) -> gpd.GeoDataFrame:
    """The base map's lines for a printed map of ``extent`` (WGS84): the roads, railways
    and waterways of the barriers layers, each with its ``group``
    (:func:`geo.basemap.line_group`), main roads last (drawn over the others)."""
    with ctx.read() as session:
        lines = repo.lines_in(session, extent)
    lines["group"] = [line_group(str(c)) for c in lines["category"]]
    order = {"water": 0, "roads": 1, "main_roads": 2, "railways": 3}
    return lines.iloc[lines["group"].map(order).argsort(kind="stable")].reset_index(drop=True)
