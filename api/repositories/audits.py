"""Safety-study requests (études de sûreté) of communes: filing (the site checked inside
the commune, a second open request for the same site flagged), the dated life cycle of
:mod:`geo.audits`, the recommendations handed over, the référents and their workload, and
the evidence the problems give for each site (the référents' queue)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Literal

import h3
import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.db import read_query
from api.map_cache import MapCache
from api.models import AuditDocument, AuditEvent, AuditRequest, Commune, Referent
from api.repositories.addresses import PostgisGeocoder
from api.repositories.communes import GEOJSON_DECIMALS
from api.repositories.csp import require_csp
from api.repositories.hotspots import (
    ProblemFilter,
    cached_area_maps,
    cell_trends,
    commune_area,
    comparison_filters,
    study_area,
)
from api.repositories.problems import anchor_of
from api.schemas import (
    AuditEventPublic,
    AuditEvidencePublic,
    AuditRequestCreate,
    AuditRequestPublic,
    AuditTransition,
    Geometry,
    HotspotMeta,
    ReferentCreate,
    ReferentPublic,
)
from geo.audits import (
    CLOSED_STATUSES,
    EVIDENCE_RADIUS_M,
    KINDS,
    OPEN_STATUSES,
    REFERENT_ROLES,
    SAME_SITE_M,
    STATUSES,
    check_transition,
)
from geo.errors import DuplicateRequestError, InvalidInputError, NotFoundError
from geo.geometry import check_inside_territory, checked_geometry
from geo.hotspots import DEFAULT_H3_RES, LEVEL_LABELS, TRENDS
from geo.problems import check_code

#: Tolerance (metres) of the check that a site lies in its commune (digitising, simplified
#: commune outlines).
COMMUNE_TOLERANCE_M = 25.0
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/png",
        "image/jpeg",
        "text/plain",
    }
)
QueueOrder = Literal["evidence", "waiting", "requested"]
SITE_GEOMETRIES = frozenset({"Point", "Polygon", "MultiPolygon"})
#: A study is planned at most this far ahead.
MAX_PLANNING_DAYS = 730


# -- filing -----------------------------------------------------------------------------
def _site(session: Session, request_in: AuditRequestCreate) -> shapely.Geometry:
    """The site from the request: its drawn point or polygon, checked, or its address
    found among the commune's addresses."""
    if request_in.site is None:
        assert request_in.address is not None
        geocoder = PostgisGeocoder(session, citycode=request_in.commune_code)
        found = geocoder.search(request_in.address, limit=1)
        if not found:
            raise InvalidInputError(
                f"address: no address matching {request_in.address!r} in commune "
                f"{request_in.commune_code}; place the site on the map instead"
            )
        return shapely.Point(found[0].lon, found[0].lat)
    return checked_geometry(request_in.site.model_dump(), "site", SITE_GEOMETRIES)


def _check_in_commune(session: Session, code: str, name: str, geom: shapely.Geometry) -> None:
    """Refuse a site that is not inside its commune (within a few metres), saying when
    swapping latitude and longitude would put it inside."""
    wkb = session.scalar(select(func.ST_AsBinary(Commune.geom)).where(Commune.code == code))
    check_inside_territory(
        geom,
        shapely.from_wkb(bytes(wkb)) if wkb is not None else shapely.Polygon(),
        field="site",
        territory_name=f"commune {code} ({name})",
        tolerance_m=COMMUNE_TOLERANCE_M,
    )


def _same_site(session: Session, code: str, geom: shapely.Geometry) -> AuditRequest | None:
    """The oldest open request of the commune whose site is within SAME_SITE_M."""
    site = func.Geography(func.ST_GeomFromWKB(shapely.to_wkb(geom), 4326))
    return session.scalar(
        select(AuditRequest)
        .where(
            AuditRequest.commune_code == code,
            AuditRequest.status.in_(sorted(OPEN_STATUSES)),
            func.ST_DWithin(func.Geography(AuditRequest.geom), site, SAME_SITE_M),
        )
        .order_by(AuditRequest.requested_on, AuditRequest.id)
        .limit(1)
    )


def create_audit_request(
    *, session: Session, request_in: AuditRequestCreate, requested_on: date | None = None
) -> int:
    """File a request (status demandée) today, or on ``requested_on`` (synthetic
    histories); the caller commits. A second open request for the same site is refused
    with a 409 naming the first one, unless ``confirm_duplicate``: then it is filed and
    marked as a duplicate of it."""
    area = commune_area(session=session, commune_code=request_in.commune_code)
    geom = _site(session, request_in)
    _check_in_commune(session, area.commune_code or "", area.name, geom)
    requested_on = requested_on or date.today()
    # one filing at a time per commune, so that two quick submissions see each other
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(request_in.commune_code))))
    existing = _same_site(session, request_in.commune_code, geom)
    if existing is not None and not request_in.confirm_duplicate:
        raise DuplicateRequestError(
            existing.id,
            f"site: request {existing.id} for this site is already open "
            f"({STATUSES[existing.status].lower()} since {existing.status_on}); "
            "send confirm_duplicate=true to file another one",
        )
    wkb = WKBElement(shapely.to_wkb(geom), srid=4326)
    request = AuditRequest(
        csp_id=area.csp_id,
        commune_code=request_in.commune_code,
        kind=request_in.kind,
        site_name=request_in.site_name,
        address=request_in.address,
        need=request_in.need,
        desired_from=request_in.desired_from,
        desired_to=request_in.desired_to,
        contact_name=request_in.contact_name,
        contact_role=request_in.contact_role,
        contact_email=request_in.contact_email,
        contact_phone=request_in.contact_phone,
        requested_on=requested_on,
        status="demandee",
        status_on=requested_on,
        duplicate_of=existing.id if existing is not None else None,
        geom=wkb,
        anchor=anchor_of(func.ST_GeomFromWKB(wkb.data, 4326)),
    )
    session.add(request)
    session.flush()
    session.add(AuditEvent(request_id=request.id, status="demandee", on=request.requested_on))
    session.flush()
    return request.id


# -- reading ----------------------------------------------------------------------------
def require_audit_request(*, session: Session, request_id: int, lock: bool = False) -> AuditRequest:
    stmt = select(AuditRequest).where(AuditRequest.id == request_id)
    request = session.scalar(stmt.with_for_update() if lock else stmt)
    if request is None:
        raise NotFoundError(f"no safety-study request with id {request_id}")
    return request


def _waiting_days(request: AuditRequest, today: date) -> int:
    end = request.status_on if request.status in CLOSED_STATUSES else today
    return max(0, (end - request.requested_on).days)


def _publics(session: Session, stmt: Select[AuditRequest]) -> list[AuditRequestPublic]:
    """The requests of ``stmt`` with their commune, référent, document and steps."""
    requests = session.scalars(stmt).all()
    if not requests:
        return []
    ids = [r.id for r in requests]
    rows = session.execute(
        select(AuditRequest.id, func.ST_AsGeoJSON(AuditRequest.geom, GEOJSON_DECIMALS)).where(
            AuditRequest.id.in_(ids)
        )
    ).all()
    geometry: dict[int, str] = {int(rid): str(text) for rid, text in rows}
    communes = dict(
        session.execute(
            select(Commune.code, Commune.name).where(
                Commune.code.in_({r.commune_code for r in requests})
            )
        ).all()
    )
    referents = dict(session.execute(select(Referent.id, Referent.name)).all())
    documents = dict(
        session.execute(
            select(AuditDocument.request_id, AuditDocument.filename).where(
                AuditDocument.request_id.in_(ids)
            )
        ).all()
    )
    events: dict[int, list[AuditEventPublic]] = defaultdict(list)
    for e in session.scalars(
        select(AuditEvent)
        .where(AuditEvent.request_id.in_(ids))
        .order_by(AuditEvent.on, AuditEvent.id)
    ):
        events[e.request_id].append(
            AuditEventPublic(
                status=e.status,
                status_label=STATUSES[e.status],
                on=e.on,
                note=e.note,
                planned_on=e.planned_on,
                referent=referents.get(e.referent_id) if e.referent_id else None,
            )
        )
    today = date.today()
    return [
        AuditRequestPublic(
            id=r.id,
            csp_id=r.csp_id,
            commune_code=r.commune_code,
            commune_name=communes[r.commune_code],
            kind=r.kind,
            kind_label=KINDS[r.kind],
            site_name=r.site_name,
            address=r.address,
            need=r.need,
            desired_from=r.desired_from,
            desired_to=r.desired_to,
            contact_name=r.contact_name,
            contact_role=r.contact_role,
            contact_email=r.contact_email,
            contact_phone=r.contact_phone,
            requested_on=r.requested_on,
            waiting_days=_waiting_days(r, today),
            status=r.status,
            status_label=STATUSES[r.status],
            status_on=r.status_on,
            referent_id=r.referent_id,
            referent=referents.get(r.referent_id) if r.referent_id else None,
            planned_on=r.planned_on,
            refusal_reason=r.refusal_reason,
            recommendations=r.recommendations,
            document=documents.get(r.id),
            duplicate_of=r.duplicate_of,
            synthetic=r.synthetic,
            geometry=Geometry.model_validate(json.loads(geometry[r.id])),
            events=events[r.id],
        )
        for r in requests
    ]


def get_audit_request(*, session: Session, request_id: int) -> AuditRequestPublic:
    require_audit_request(session=session, request_id=request_id)
    return _publics(session, select(AuditRequest).where(AuditRequest.id == request_id))[0]


def list_audit_requests(
    *,
    session: Session,
    csp_id: int | None = None,
    commune_code: str | None = None,
    statuses: Sequence[str] = (),
) -> list[AuditRequestPublic]:
    """Requests of a CSP and/or a commune, of the given statuses (all when empty), oldest
    first."""
    stmt = select(AuditRequest).order_by(AuditRequest.requested_on, AuditRequest.id)
    if csp_id is not None:
        require_csp(session=session, csp_id=csp_id)
        stmt = stmt.where(AuditRequest.csp_id == csp_id)
    if commune_code is not None:
        commune_area(session=session, commune_code=commune_code, field="commune")
        stmt = stmt.where(AuditRequest.commune_code == commune_code)
    if statuses:
        stmt = stmt.where(
            AuditRequest.status.in_([check_code("status", s, STATUSES) for s in statuses])
        )
    return _publics(session, stmt)


# -- the life cycle ---------------------------------------------------------------------
def _check_referent(session: Session, csp_id: int, referent_id: int | None) -> None:
    if referent_id is None:
        return
    referent = session.get(Referent, referent_id)
    if referent is None or referent.csp_id != csp_id:
        raise InvalidInputError(f"referent_id: no référent with id {referent_id} in CSP {csp_id}")
    if not referent.active:
        raise InvalidInputError(f"referent_id: référent {referent_id} is no longer active")


def transition_audit_request(*, session: Session, request_id: int, step: AuditTransition) -> None:
    """Move a request to its next step, dated; the caller commits."""
    request = require_audit_request(session=session, request_id=request_id, lock=True)
    has_document = session.get(AuditDocument, request_id) is not None
    check_transition(
        request.status,
        step.status,
        planned_on=step.planned_on,
        referent_id=step.referent_id,
        reason=step.reason,
        recommendations=step.recommendations,
        has_document=has_document,
    )
    if step.on > date.today():
        raise InvalidInputError(f"on: {step.on} is in the future")
    if step.on < request.status_on:
        raise InvalidInputError(
            f"on: {step.on} is before the request's last step ({request.status} on "
            f"{request.status_on})"
        )
    if step.status == "planifiee":
        assert step.planned_on is not None
        _check_referent(session, request.csp_id, step.referent_id)
        if step.planned_on < request.requested_on:
            raise InvalidInputError(
                f"planned_on: {step.planned_on} is before the request ({request.requested_on})"
            )
        if step.planned_on > step.on + timedelta(days=MAX_PLANNING_DAYS):
            raise InvalidInputError(
                f"planned_on: {step.planned_on} is more than {MAX_PLANNING_DAYS} days ahead"
            )
        request.planned_on = step.planned_on
        request.referent_id = step.referent_id
    if step.status == "realisee" and request.planned_on and step.on < request.planned_on:
        raise InvalidInputError(
            f"on: {step.on} is before the planned date of the study ({request.planned_on})"
        )
    if step.status == "refusee":
        request.refusal_reason = step.reason
        request.referent_id = None  # the history keeps who had planned it, and when
        request.planned_on = None
    if step.status == "preconisations_remises" and step.recommendations:
        request.recommendations = step.recommendations
    request.status = step.status
    request.status_on = step.on
    session.add(
        AuditEvent(
            request_id=request_id,
            status=step.status,
            on=step.on,
            note=step.note or (step.reason if step.status == "refusee" else None),
            planned_on=step.planned_on if step.status == "planifiee" else None,
            referent_id=step.referent_id if step.status == "planifiee" else None,
        )
    )
    session.flush()


def attach_document(
    *, session: Session, request_id: int, filename: str, media_type: str, content: bytes
) -> None:
    """Store (or replace) the recommendations' file of a study carried out."""
    request = require_audit_request(session=session, request_id=request_id, lock=True)
    if request.status not in ("realisee", "preconisations_remises"):
        raise InvalidInputError(
            f"file: request {request_id} is {request.status}; a document is handed over "
            "once the study is carried out (realisee)"
        )
    if media_type not in DOCUMENT_TYPES:
        raise InvalidInputError(
            f"file: type {media_type!r} is not accepted; send PDF, ODT, DOCX, PNG, JPEG or text"
        )
    if not content:
        raise InvalidInputError(f"file: {filename!r} is empty")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InvalidInputError(
            f"file: {filename!r} is {len(content)} bytes; at most {MAX_DOCUMENT_BYTES}"
        )
    document = session.get(AuditDocument, request_id) or AuditDocument(request_id=request_id)
    document.filename = filename[:300]
    document.media_type = media_type
    document.content = content
    session.add(document)
    session.flush()


def get_document(*, session: Session, request_id: int) -> AuditDocument:
    document = session.get(AuditDocument, request_id)
    if document is None:
        raise NotFoundError(f"request {request_id} has no document")
    return document


# -- référents --------------------------------------------------------------------------
def create_referent(*, session: Session, csp_id: int, referent_in: ReferentCreate) -> int:
    require_csp(session=session, csp_id=csp_id)
    referent = Referent(csp_id=csp_id, **referent_in.model_dump())
    session.add(referent)
    session.flush()
    return referent.id


def list_referents(*, session: Session, csp_id: int) -> list[ReferentPublic]:
    """The CSP's référents with their workload: studies planned (and the next one),
    carried out awaiting recommendations, and recommendations handed over in 12 months."""
    require_csp(session=session, csp_id=csp_id)
    year_ago = date.today() - timedelta(days=365)
    status = AuditRequest.status
    load = {
        rid: (planned, awaiting, next_on, done)
        for rid, planned, awaiting, next_on, done in session.execute(
            select(
                AuditRequest.referent_id,
                func.count().filter(status == "planifiee"),
                func.count().filter(status == "realisee"),
                func.min(AuditRequest.planned_on).filter(status == "planifiee"),
                func.count().filter(
                    status == "preconisations_remises", AuditRequest.status_on >= year_ago
                ),
            )
            .where(AuditRequest.csp_id == csp_id, AuditRequest.referent_id.is_not(None))
            .group_by(AuditRequest.referent_id)
        )
    }
    referents = session.scalars(
        select(Referent).where(Referent.csp_id == csp_id).order_by(Referent.name, Referent.id)
    ).all()
    publics = []
    for r in referents:
        planned, awaiting, next_on, done = load.get(r.id, (0, 0, None, 0))
        publics.append(
            ReferentPublic(
                id=r.id,
                csp_id=r.csp_id,
                name=r.name,
                role=r.role,
                role_label=REFERENT_ROLES[r.role],
                grade=r.grade,
                contact=r.contact,
                active=r.active,
                synthetic=r.synthetic,
                planned=planned,
                awaiting_recommendations=awaiting,
                next_on=next_on,
                done_12_months=done,
            )
        )
    return publics


# -- evidence ---------------------------------------------------------------------------
def _counts_near(
    session: Session, ids: Sequence[int], where: ProblemFilter, radius_m: float
) -> dict[int, dict[str, int]]:
    """Problems of the period within ``radius_m`` of each request's site, by category.
    The first test uses the anchors' index in degrees (a radius widened for the site's
    latitude); the second is exact on the sphere."""
    if not ids:
        return {}
    frame = read_query(
        session,
        "SELECT r.id, p.category, count(*) AS n FROM audit_request r "
        "JOIN problem p ON p.csp_id = r.csp_id "
        f"AND p.reported_on BETWEEN '{where.since.isoformat()}' AND '{where.until.isoformat()}' "
        f"AND ST_DWithin(p.anchor, r.geom, {float(radius_m)} / "
        "(111320 * cos(radians(least(abs(ST_Y(r.anchor)) + 1, 89))))) "
        f"AND ST_DWithin(p.anchor::geography, r.geom::geography, {float(radius_m)}) "
        f"WHERE r.id IN ({', '.join(str(int(i)) for i in ids)}) GROUP BY r.id, p.category",
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for rid, category, n in frame.itertuples(index=False):
        counts[int(rid)][str(category)] = int(n)
    return counts


def add_evidence(
    *,
    session: Session,
    cache: MapCache[Any],
    csp_id: int,
    requests: list[AuditRequestPublic],
    radius_m: float = EVIDENCE_RADIUS_M,
) -> HotspotMeta:
    """Fill each request's evidence: problems within ``radius_m`` of its site over the last
    12 months by category, the Gi* level of its H3 cell over those months (the CSP's
    map), and the cell's hot-spot trend (last 90 days against the 90 before). Returns what
    the 12-month map was computed from."""
    year = ProblemFilter.checked(None, None)
    area = study_area(session=session, csp_id=csp_id)
    maps = cached_area_maps(session=session, cache=cache, area=area, where=year)
    if not requests:
        return maps.meta
    before, after = comparison_filters(
        since=None,
        until=None,
        before_since=None,
        before_until=None,
        categories=None,
        statuses=None,
    )
    trends = cell_trends(
        cached_area_maps(session=session, cache=cache, area=area, where=before),
        cached_area_maps(session=session, cache=cache, area=area, where=after),
    )
    counts = _counts_near(session, [r.id for r in requests], year, radius_m)
    levels = maps.cells["level"]
    anchors = {
        int(rid): (float(lat), float(lon))
        for rid, lat, lon in session.execute(
            select(
                AuditRequest.id, func.ST_Y(AuditRequest.anchor), func.ST_X(AuditRequest.anchor)
            ).where(AuditRequest.id.in_([r.id for r in requests]))
        )
    }
    for r in requests:
        cell = h3.latlng_to_cell(*anchors[r.id], DEFAULT_H3_RES)
        level = int(levels.get(cell, 0))
        trend = trends.get(cell)
        by_category = counts.get(r.id, {})
        r.evidence = AuditEvidencePublic(
            radius_m=radius_m,
            problems=sum(by_category.values()),
            by_category=dict(sorted(by_category.items(), key=lambda kv: -kv[1])),
            hotspot_level=level,
            hotspot_label=LEVEL_LABELS[level],
            trend=None if trend is None else str(trend),
            trend_label=None if trend is None else TRENDS[str(trend)],
        )
    return maps.meta


def order_queue(requests: list[AuditRequestPublic], order: QueueOrder) -> None:
    """Sort in place: most evidence first (then hot spots, then longest wait), longest
    wait first, or by request date."""
    if order == "evidence":
        requests.sort(
            key=lambda r: (
                -(r.evidence.problems if r.evidence else 0),
                -(r.evidence.hotspot_level if r.evidence else 0),
                -r.waiting_days,
            )
        )
    elif order == "waiting":
        requests.sort(key=lambda r: (-r.waiting_days, r.id))
    else:
        requests.sort(key=lambda r: (r.requested_on, r.id))


def site_anchors(
    *, session: Session, commune_code: str, statuses: Sequence[str], kinds: Sequence[str] = ()
) -> list[tuple[int, str, str, float, float]]:
    """(id, kind, status, lon, lat) of the commune's requests of the given statuses."""
    stmt = select(
        AuditRequest.id,
        AuditRequest.kind,
        AuditRequest.status,
        func.ST_X(AuditRequest.anchor),
        func.ST_Y(AuditRequest.anchor),
    ).where(AuditRequest.commune_code == commune_code, AuditRequest.status.in_(list(statuses)))
    if kinds:
        stmt = stmt.where(AuditRequest.kind.in_(list(kinds)))
    return [
        (int(i), k, s, float(x), float(y))
        for i, k, s, x, y in session.execute(stmt.order_by(AuditRequest.id))
    ]
