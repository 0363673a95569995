"""OGC API - Features over the app's data (``/ogc``), for QGIS, GDAL and ArcGIS: the
landing page, the conformance classes, the collections and their queryables, and their
features as GeoJSON (or HTML), filtered by ``bbox``, ``datetime`` and CQL2 text, paged,
sorted, in CRS84 or Lambert-93.

Every answer holds only what the caller's perimeter holds (the context's scope, applied
by :mod:`api.repositories.ogc`). ``numberMatched`` is counted once per (collection,
filters, perimeter) and kept a minute (the problems': until they change), so
that paging through a million problems does not count them again at every page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from api import clock
from api.repositories import ogc as repo
from api.repositories import touches
from api.repositories.ogc import recent
from api.services import coverage
from api.services.context import Context
from api.services.kept_lists import kept_since
from geo import cql2
from geo.errors import InvalidInputError, NotFoundError
from geo.ogc import (
    CONFORMANCE,
    CRS_URIS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    epsg_of,
    parse_bbox,
    parse_datetime,
    parse_names,
    parse_sortby,
    uri_of,
)

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
#: How long a count is kept (seconds), and how many counts at most.
COUNT_TTL = 60.0
#: A deep ``offset`` of a page in id order starts from the id at the nearest lower
#: multiple of this rank (a sparse index of the problems' ids per filter, kept as the
#: count is), then skips fewer than this many rows.
OFFSET_STRIDE = 10_000


@dataclass(frozen=True)
class Kind:
    """A kind of collection: a fixed one (``communes``…) or one per plan, grid or layer
    (``plan-12``). ``source`` builds its rows for a session (and the key of the plan,
    grid or layer)."""

    name: str
    title: str
    description: str
    source: Callable[..., repo.Source] | None
    titles: Callable[..., Sequence[tuple[int | str, str]]] | None = None


def _edge(ctx: Context, session: Session, since: date) -> recent.Edge | None:
    """The problems of the window's partial first month placed in their cells: held per
    perimeter and window, brought up to date by placing again only the problems written
    since its snapshot (:func:`api.repositories.touches.touched_since`), read whole when
    none is held, the perimeter's grids changed, or too much was written since."""
    days = recent.window(since)[1]
    if days is None:
        return None
    grids = recent.grids_of(session)
    return kept_since(
        ctx.ogc_indexes,
        session,
        ("edge", ctx.scope, since),
        csp_ids=[csp for _, csp in grids],
        whole=lambda now: recent.read_edge(session, now, days, grids),
        update=lambda held, touched, now: recent.updated_edge(session, held, touched, now),
        usable=lambda held: [(u.grid_id, u.csp_id) for u in held.units] == grids,
    )


def _problem_counts(ctx: Context, session: Session) -> repo.Source:
    """The aggregate collection; its counts of the last 12 months per cell are summed
    once per perimeter and day until the problems change (each page counted them), the
    window's partial first month kept aside and brought up to date (:func:`_edge`)."""
    if not session.in_transaction():
        touches.one_snapshot(session)  # the months, the edge and its touches agree
    since = clock.today() - timedelta(days=365)
    counts = ctx.ogc_indexes.get_or_compute(
        ("recent", ctx.scope, since),
        repo.problems_revision(session),
        lambda: repo.recent_counts(session, since, _edge(ctx, session, since)),
    )
    return repo.problem_counts(session, since, counts)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("communes", "Communes", "Les communes, leur population légale.", repo.communes),
        Kind(
            "csp",
            "Circonscriptions de sécurité publique",
            "Les CSP : l'union de leurs communes.",
            repo.csps,
        ),
        Kind(
            "sectors",
            "Secteurs des plans adoptés",
            "Les secteurs du plan adopté de chaque CSP (identifiant : plan-secteur).",
            repo.adopted_sectors,
        ),
        Kind(
            "plan",
            "Secteurs d'un plan",
            "Les secteurs d'un plan de sectorisation.",
            repo.plan_sectors,
            repo.plan_titles,
        ),
        Kind(
            "grid",
            "Carroyage",
            "Les mailles d'un carroyage et leurs variables (population, ménages, "
            "logements sociaux, charge).",
            repo.grid_cells,
            repo.grid_titles,
        ),
        Kind(
            "layer",
            "Couche importée",
            "Les objets d'une couche territoriale ou sociologique importée.",
            repo.layer_features,
            repo.layer_titles,
        ),
        Kind(
            "problems",
            "Problématiques",
            "Les problématiques enregistrées, avec leur secteur et leur GPO (celles des "
            "données de démonstration sont fictives : synthetic = true).",
            repo.problems,
        ),
        Kind(
            "problem-counts",
            "Problématiques par maille",
            "Le nombre de problématiques par maille H3 (toutes, et des 12 derniers mois), "
            f"masqué sous {repo.MASKED_BELOW} : un agrégat, jamais un enregistrement.",
            repo.problem_counts,  # read through _problem_counts (its cache)
        ),
        Kind(
            "camera-sites",
            "Sites de caméras suggérés",
            "Où 5 caméras de plus (rayon 100 m) couvriraient le plus de problématiques de la "
            "commune (12 derniers mois, pondérées) : rang, part gagnée, problématiques "
            f"couvertes (masquées sous {repo.MASKED_BELOW}).",
            None,
            repo.commune_titles,
        ),
        Kind(
            "study-requests",
            "Demandes d'études de sûreté",
            "Les demandes d'études de sûreté et de sécurité publique (sans contacts).",
            repo.study_requests,
        ),
    )
}
_KEYED = re.compile(r"(plan|grid|layer)-(\d{1,9})|(camera-sites)-(\d[0-9AB]\d{3})")
#: The suggested camera sites: how many, and how far a camera sees.
CAMERAS, CAMERA_RADIUS_M = 5, 100.0


def _kind_of(collection_id: str) -> tuple[Kind, int | str | None]:
    if collection_id in KINDS and KINDS[collection_id].titles is None:
        return KINDS[collection_id], None
    m = _KEYED.fullmatch(collection_id)
    if m is None:
        raise NotFoundError(
            "ogc_collection_unknown", field="collectionId", collection=collection_id
        )
    if m.group(3):
        return KINDS[m.group(3)], m.group(4)
    return KINDS[m.group(1)], int(m.group(2))


def _camera_sites(ctx: Context, code: str) -> repo.Source:
    suggestion = coverage.coverage_suggestion(ctx, code, p=CAMERAS, radius_m=CAMERA_RADIUS_M)
    rows = [
        (s.rank or 0, s.kind, s.problems, s.gain_share, s.cumulative_share, s.lon, s.lat)
        for s in suggestion.sites
    ]
    return repo.camera_sites(code, rows)


def _source(ctx: Context, session: Session, collection_id: str) -> repo.Source:
    kind, key = _kind_of(collection_id)
    try:
        if kind.source is None:
            return _camera_sites(ctx, str(key))
        if kind.name == "problem-counts":
            return _problem_counts(ctx, session)
        return kind.source(session) if key is None else kind.source(session, key)
    except NotFoundError:
        raise NotFoundError(
            "ogc_collection_unknown", field="collectionId", collection=collection_id
        ) from None


# -- links ---------------------------------------------------------------------------------
def _link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _alternates(url: str, html: bool, json_media: str = JSON) -> list[dict[str, str]]:
    sep = "&" if "?" in url else "?"
    return [
        _link(f"{url}{sep}f=json", "self" if not html else "alternate", json_media, "JSON"),
        _link(f"{url}{sep}f=html", "self" if html else "alternate", HTML, "HTML"),
    ]


def landing(base: str, html: bool = False) -> dict[str, Any]:
    return {
        "title": "PSQ Secteurs - OGC API Features",
        "description": "Les données de PSQ Secteurs (communes, CSP, secteurs, carroyages, "
        "couches, problématiques, demandes d'études) pour QGIS, GDAL et ArcGIS. "
        "Authentification : en-tête « Authorization: Bearer <jeton d'accès> ».",
        "links": [
            *_alternates(base, html),
            _link(f"{base}/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0",
                  "Définition OpenAPI 3.0"),
            _link(f"{base}/conformance", "conformance", JSON, "Classes de conformité"),
            _link(f"{base}/collections", "data", JSON, "Collections"),
        ],
    }  # fmt: skip


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


# -- collections ---------------------------------------------------------------------------
def _collection(
    base: str, cid: str, title: str, description: str, source: repo.Source, session: Session
) -> dict[str, Any]:
    url = f"{base}/collections/{cid}"
    box = repo.extent(session, source)
    first, last = repo.interval(session, source)
    extent: dict[str, Any] = {
        "spatial": {"bbox": [list(box) if box else [-180, -90, 180, 90]], "crs": uri_of(4326)}
    }
    if source.temporal is not None:
        extent["temporal"] = {
            "interval": [[first.isoformat() if first else None, last.isoformat() if last else None]]
        }
    return {
        "id": cid,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": list(CRS_URIS),
        "storageCrs": uri_of(4326),
        "extent": extent,
        "links": [
            _link(url, "self", JSON, title),
            _link(f"{url}/items", "items", GEOJSON, "Objets (GeoJSON)"),
            _link(f"{url}/items?f=html", "items", HTML, "Objets (HTML)"),
            _link(f"{url}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  "application/schema+json", "Propriétés interrogeables"),
        ],
    }  # fmt: skip


def _listed(session: Session, kinds: Iterable[str]) -> list[tuple[str, str, str]]:
    """The collections of these kinds: one per plan, grid, layer (and, for a commune
    account, per commune: its camera sites) of the perimeter."""
    out = []
    for name in kinds:
        kind = KINDS[name]
        if kind.titles is None:
            out.append((name, kind.title, kind.description))
        else:
            out += [(f"{name}-{i}", title, kind.description) for i, title in kind.titles(session)]
    return out


def collections(ctx: Context, base: str, kinds: Iterable[str]) -> dict[str, Any]:
    """The collections of the kinds the caller's role may read (``kinds``), within its
    perimeter: one per plan, grid and layer it sees."""
    with ctx.read() as session:
        described = [
            _collection(base, cid, title, description, _source(ctx, session, cid), session)
            for cid, title, description in _listed(session, [k for k in KINDS if k in kinds])
        ]
    return {
        "links": [_link(f"{base}/collections", "self", JSON, "Collections")],
        "collections": described,
    }


def _title(session: Session, collection_id: str) -> tuple[str, str]:
    kind, key = _kind_of(collection_id)
    if kind.titles is None or key is None:
        return kind.title, kind.description
    titles = kind.titles(session, key)
    if not titles:
        raise NotFoundError(
            "ogc_collection_unknown", field="collectionId", collection=collection_id
        )
    return titles[0][1], kind.description


def collection(ctx: Context, base: str, collection_id: str) -> dict[str, Any]:
    with ctx.read() as session:
        source = _source(ctx, session, collection_id)
        title, description = _title(session, collection_id)
        return _collection(base, collection_id, title, description, source, session)


def queryables(ctx: Context, base: str, collection_id: str) -> dict[str, Any]:
    """The properties a filter may name, as a JSON Schema (OGC API - Features Part 3)."""
    with ctx.read() as session:
        source = _source(ctx, session, collection_id)
        title, _ = _title(session, collection_id)
    properties: dict[str, Any] = {
        "geometry": {
            "$ref": "https://geojson.org/schema/"
            + ("Geometry" if source.geometry == "Geometry" else source.geometry)
            + ".json"
        }
    }
    for name, kind in source.types.items():
        properties[name] = {"title": name, **repo.SCHEMA_TYPES[kind]}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base}/collections/{collection_id}/queryables",
        "type": "object",
        "title": title,
        "properties": properties,
        "additionalProperties": False,
    }


# -- features ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemsQuery:
    """The parameters of an items request, as given (text), parsed by :func:`items`."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    after: int | None = None  # keyset paging: the page starts after this id
    bbox: str | None = None
    bbox_crs: str | None = None
    crs: str | None = None
    datetime: str | None = None
    properties: str | None = None
    sortby: str | None = None
    filter: str | None = None
    filter_lang: str | None = None
    filter_crs: str | None = None


@dataclass(frozen=True)
class Answer:
    """A GeoJSON answer: its body (bytes), media type and headers (``Content-Crs``)."""

    body: bytes
    media_type: str
    headers: dict[str, str]
    document: dict[str, Any] | None = None  # what an HTML rendering reads


def _names(source: repo.Source, properties: str | None) -> list[str]:
    every = [*source.types, *source.outputs]
    if properties is None:
        return every
    names = parse_names(properties)
    unknown = [n for n in names if n not in every]
    if unknown:
        raise InvalidInputError(
            "ogc_properties_unknown",
            field="properties",
            names=", ".join(unknown),
            known=list(every),
        )
    return names


def _sort(source: repo.Source, sortby: str | None) -> list[tuple[str, bool]]:
    if sortby is None:
        return []
    sort = parse_sortby(sortby)
    unknown = [n for n, _ in sort if n not in source.types and n != "id"]
    if unknown:
        raise InvalidInputError(
            "ogc_properties_unknown",
            field="sortby",
            names=", ".join(unknown),
            known=["id", *source.types],
        )
    return sort


def _count(
    ctx: Context, session: Session, source: repo.Source, key: tuple[Any, ...], where: Any
) -> int:
    """How many features match, from the context's counts (a bounded LRU, safe across
    threads): the problems' until they change (their revision moves with any change of a
    problem, its place or a GPO: the perimeters' too), the others' counted again once per
    period of :data:`COUNT_TTL` seconds. The problems' count expiring every minute made
    a request of each filter wait for a recount (500 ms for a bbox of 500 000) and the
    requests of the same filter wait behind it: the 4 clients' bbox p95 of issue 21."""
    if key[0] == "problems":
        revision = repo.problems_revision(session)
    else:
        revision = int(time.monotonic() // COUNT_TTL)
    return ctx.ogc_counts.get_or_compute(key, revision, lambda: repo.count(session, source, where))


def _keyset_start(
    ctx: Context,
    session: Session,
    source: repo.Source,
    key: tuple[Any, ...],
    where: Any,
    offset: int,
) -> tuple[int | None, int]:
    """Where a page of the problems in id order at ``offset`` starts: after which id (None:
    from the first row) and how many rows after it are skipped. Read from the ids at every
    :data:`OFFSET_STRIDE`-th rank, listed once per filter, perimeter and problems'
    revision: ``OFFSET 500000`` read 500 000 entries of the primary key at every page."""
    if key[0] != "problems" or offset < OFFSET_STRIDE:
        return None, offset
    key = ("marks", *key, repo.problems_revision(session))
    marks = ctx.ogc_indexes.get_or_compute(
        key, 0, lambda: repo.id_marks(session, source, where, OFFSET_STRIDE)
    )
    reached = min(offset // OFFSET_STRIDE, len(marks))
    if reached == 0:
        return None, offset
    return marks[reached - 1], offset - reached * OFFSET_STRIDE


def _parse_filter(q: ItemsQuery) -> cql2.Node | None:
    if q.filter_lang not in (None, "cql2-text"):
        raise InvalidInputError("ogc_filter_lang", field="filter-lang", value=str(q.filter_lang))
    return None if q.filter is None else cql2.parse(q.filter)


def _page_url(url: str, params: Sequence[tuple[str, str]], offset: int, after: Any = None) -> str:
    kept = [(k, v) for k, v in params if k not in ("offset", "after")]
    cursor = [] if after is None else [("after", str(after))]
    return f"{url}?{urlencode([*kept, ('offset', str(offset)), *cursor])}"


def items(
    ctx: Context,
    base: str,
    collection_id: str,
    q: ItemsQuery,
    params: Sequence[tuple[str, str]] = (),
) -> Answer:
    """A page of a collection's features as a GeoJSON FeatureCollection, with
    ``numberMatched``, ``numberReturned`` and the ``next``/``prev`` links."""
    srid = epsg_of(q.crs, "crs")
    bbox_srid = epsg_of(q.bbox_crs, "bbox-crs")
    filter_srid = epsg_of(q.filter_crs, "filter-crs")
    box = parse_bbox(q.bbox) if q.bbox is not None else None
    dates = parse_datetime(q.datetime) if q.datetime is not None else None
    node = _parse_filter(q)
    limit = min(q.limit, MAX_LIMIT)
    with ctx.read() as session:
        source = _source(ctx, session, collection_id)
        if dates is not None and source.temporal is None:
            raise InvalidInputError("ogc_no_dates", field="datetime")
        names, sort = _names(source, q.properties), _sort(source, q.sortby)
        if q.after is not None and (sort or not source.integer_ids):
            raise InvalidInputError("ogc_after_without_id_order", field="after")
        where = repo.conditions(
            source, bbox=box, bbox_srid=bbox_srid, dates=dates, node=node, filter_srid=filter_srid
        )
        key = (collection_id, box, bbox_srid, dates, q.filter, filter_srid, ctx.scope)
        matched = _count(ctx, session, source, key, where)
        after, skip = q.after, 0
        if after is None and not sort and source.integer_ids:
            after, skip = _keyset_start(ctx, session, source, key, where, q.offset)
        found = repo.page(
            session,
            source,
            where,
            names=names,
            sort=sort,
            limit=limit,
            offset=q.offset,
            srid=srid,
            after=after,
            skip=skip,
        )
    url = f"{base}/collections/{collection_id}/items"
    here = [(k, v) for k, v in params if k != "f"]
    links = [
        _link(_page_url(url, here, q.offset, q.after), "self", GEOJSON, "Cette page"),
        _link(_page_url(url, [*here, ("f", "html")], q.offset, q.after), "alternate", HTML, "HTML"),
        _link(f"{base}/collections/{collection_id}", "collection", JSON, "La collection"),
    ]
    if q.offset + found.returned < matched:
        # In id order, the next page starts after this page's last id (keyset: read from
        # the primary key, however deep); ``offset`` still says its rank.
        following = _page_url(url, here, q.offset + limit, found.last_id)
        links.append(_link(following, "next", GEOJSON, "Suivante"))
    if q.offset > 0:
        previous = max(0, q.offset - limit)
        links.append(_link(_page_url(url, here, previous), "prev", GEOJSON, "Précédente"))
    head = {
        "type": "FeatureCollection",
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "numberMatched": matched,
        "numberReturned": found.returned,
        "links": links,
    }
    body = json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[' + found.features + "]}"
    return Answer(body.encode("utf-8"), GEOJSON, _crs_header(srid))


def _crs_header(srid: int) -> dict[str, str]:
    return {"Content-Crs": f"<{uri_of(srid)}>"}


def feature(
    ctx: Context,
    base: str,
    collection_id: str,
    feature_id: str,
    *,
    crs: str | None = None,
    properties: str | None = None,
) -> Answer:
    """One feature, by its id (404 when it does not exist in the caller's perimeter)."""
    srid = epsg_of(crs, "crs")
    with ctx.read() as session:
        source = _source(ctx, session, collection_id)
        text = repo.item(session, source, feature_id, names=_names(source, properties), srid=srid)
    if text is None:
        raise NotFoundError(
            "ogc_feature_unknown",
            field="featureId",
            feature=str(feature_id),
            collection=collection_id,
        )
    url = f"{base}/collections/{collection_id}"
    links = [
        _link(f"{url}/items/{feature_id}", "self", GEOJSON, "Cet objet"),
        _link(f"{url}/items/{feature_id}?f=html", "alternate", HTML, "HTML"),
        _link(url, "collection", JSON, "La collection"),
    ]
    body = text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"
    return Answer(body.encode("utf-8"), GEOJSON, _crs_header(srid))
