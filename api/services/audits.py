"""Safety studies (études de sûreté): communes file requests (the site checked inside the
commune, a second open request for the same site flagged), the dated life cycle of
:mod:`geo.audits`, the recommendations handed over, the référents and their workload, and
the référents' queue with the evidence the problems give for each site."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import h3
import shapely
from sqlalchemy.orm import Session

from api import clock
from api.map_cache import MapCache
from api.models import AuditRequest, Commune, Csp
from api.repositories import audits as repo
from api.repositories import problem_maps
from api.repositories.addresses import PostgisGeocoder
from api.repositories.base import check_version, outside_perimeter, require
from api.schemas import (
    AuditEvidencePublic,
    AuditRequestCreate,
    AuditRequestPublic,
    AuditRequestsPublic,
    AuditTransition,
    HotspotMeta,
    ReferentCreate,
    ReferentPublic,
    ReferentsPublic,
)
from api.services import alerts
from api.services.audit_log import record_access, record_write
from api.services.cartography import cached_area_maps, cell_trends
from api.services.context import Context
from geo.accounts import changes_between
from geo.audits import EVIDENCE_RADIUS_M, STATUSES, check_transition
from geo.errors import (
    DuplicateRequestError,
    ForbiddenError,
    InvalidInputError,
    StateConflictError,
    TooLargeError,
)
from geo.geometry import anchor, check_inside_territory, checked_geometry
from geo.hotspots import DEFAULT_H3_RES, LEVEL_LABELS, TRENDS
from geo.problems import check_code
from geo.study import ProblemFilter, recent_periods

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
#: Tolerance (metres) of the check that a site lies in its commune (digitising, simplified
#: commune outlines).
COMMUNE_TOLERANCE_M = 25.0
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
                "study_address_not_found",
                field="address",
                address=request_in.address.strip(),
                commune=request_in.commune_code,
            )
        return shapely.Point(found[0].lon, found[0].lat)
    return checked_geometry(request_in.site.model_dump(), "site", SITE_GEOMETRIES)


def create_audit_request(
    session: Session, *, request_in: AuditRequestCreate, requested_on: date | None = None
) -> int:
    """File a request (status demandée) today, or on ``requested_on`` (synthetic
    histories), in the caller's transaction. A second open request for the same site is
    refused with a 409 naming the first one, unless ``confirm_duplicate``: then it is
    filed and marked as a duplicate of it."""
    area = problem_maps.commune_area(session=session, commune_code=request_in.commune_code)
    geom = _site(session, request_in)
    check_inside_territory(
        geom,
        area.outline,
        field="site",
        territory_name=f"commune {area.commune_code} ({area.name})",
        tolerance_m=COMMUNE_TOLERANCE_M,
    )
    requested_on = requested_on or clock.today()
    # one filing at a time per commune, so that two quick submissions see each other
    repo.lock_filings(session=session, commune_code=request_in.commune_code)
    existing = repo.open_request_near(session, request_in.commune_code, geom)
    if existing is not None and not request_in.confirm_duplicate:
        raise DuplicateRequestError(
            existing.id,
            status=STATUSES[existing.status].lower(),
            since=f"{existing.status_on:%d/%m/%Y}",
        )
    return repo.insert_request(
        session=session,
        request_in=request_in,
        csp_id=area.csp_id,
        geom=geom,
        anchor=anchor(geom),
        requested_on=requested_on,
        duplicate_of=existing.id if existing is not None else None,
    )


def file_request(ctx: Context, request_in: AuditRequestCreate) -> AuditRequestPublic:
    """File a commune's request (see :func:`create_audit_request`)."""
    with ctx.write() as session:
        if outside_perimeter(session, Commune, request_in.commune_code):
            raise ForbiddenError(
                "study_commune_outside_perimeter",
                field="commune_code",
                commune=request_in.commune_code,
            )
        request_id = create_audit_request(session, request_in=request_in)
        filed = repo.get_audit_request(session=session, request_id=request_id)
        record_write(
            session,
            ctx,
            "create",
            "audit_request",
            request_id,
            detail={
                "commune_code": request_in.commune_code,
                "kind": request_in.kind,
                "duplicate_of": filed.duplicate_of,
            },
        )
        alerts.study_request_message(session, filed, filed=True)
        return filed


# -- reading ----------------------------------------------------------------------------
def get_request(ctx: Context, request_id: int) -> AuditRequestPublic:
    with ctx.read() as session:
        return repo.get_audit_request(session=session, request_id=request_id)


def list_requests(
    ctx: Context,
    *,
    csp_id: int | None = None,
    commune_code: str | None = None,
    statuses: Sequence[str] = (),
    evidence: bool = False,
    order: QueueOrder = "requested",
    radius_m: float = EVIDENCE_RADIUS_M,
) -> AuditRequestsPublic:
    """Requests of a CSP (the référents' queue) or of a commune, with their steps; with
    ``evidence``, the problems within ``radius_m`` of each site (see :func:`add_evidence`)."""
    if evidence and csp_id is None:
        raise InvalidInputError("study_evidence_needs_csp", field="evidence")
    if evidence and ctx.scope.commune_bound:
        raise ForbiddenError("study_evidence_for_referents", field="evidence")
    with ctx.read() as session:
        if csp_id is not None:
            require(session, Csp, csp_id)
        if commune_code is not None:
            problem_maps.commune_area(session=session, commune_code=commune_code, field="commune")
        requests = repo.select_requests(
            session=session,
            csp_id=csp_id,
            commune_code=commune_code,
            statuses=[check_code("status", s, STATUSES) for s in statuses],
        )
        meta = (
            add_evidence(session, ctx.maps, csp_id=csp_id, requests=requests, radius_m=radius_m)
            if evidence and csp_id is not None
            else None
        )
    order_queue(requests, order)
    return AuditRequestsPublic(
        data=requests,
        count=len(requests),
        date_from=meta.date_from if meta else None,
        date_to=meta.date_to if meta else None,
        synthetic_problems=meta.synthetic_problems if meta else None,
    )


# -- the life cycle ---------------------------------------------------------------------
def _check_referent(session: Session, csp_id: int, referent_id: int | None) -> None:
    if referent_id is None:
        return
    referent = repo.find_referent(session=session, referent_id=referent_id)
    if referent is None or referent.csp_id != csp_id:
        raise InvalidInputError(
            "study_referent_unknown", field="referent_id", referent_id=referent_id
        )
    if not referent.active:
        raise InvalidInputError(
            "study_referent_inactive", field="referent_id", referent_id=referent_id
        )


def transition_audit_request(session: Session, *, request_id: int, step: AuditTransition) -> None:
    """Move a request to its next step, dated; the caller commits."""
    request = require(session, AuditRequest, request_id, lock=True)
    check_version(request, step.version, "cette demande")
    has_document = repo.document_of(session=session, request_id=request_id) is not None
    check_transition(
        request.status,
        step.status,
        planned_on=step.planned_on,
        referent_id=step.referent_id,
        reason=step.reason,
        recommendations=step.recommendations,
        has_document=has_document,
    )
    if step.on > clock.today():
        raise InvalidInputError("date_in_future", field="on", day=f"{step.on:%d/%m/%Y}")
    if step.on < request.status_on:
        raise InvalidInputError(
            "study_step_before_last",
            field="on",
            day=f"{step.on:%d/%m/%Y}",
            status=STATUSES[request.status],
            since=f"{request.status_on:%d/%m/%Y}",
        )
    if step.status == "planifiee":
        assert step.planned_on is not None
        _check_referent(session, request.csp_id, step.referent_id)
        if step.planned_on < request.requested_on:
            raise InvalidInputError(
                "study_planned_before_request",
                field="planned_on",
                day=f"{step.planned_on:%d/%m/%Y}",
                requested_on=f"{request.requested_on:%d/%m/%Y}",
            )
        if step.planned_on > step.on + timedelta(days=MAX_PLANNING_DAYS):
            raise InvalidInputError(
                "study_planned_too_far",
                field="planned_on",
                day=f"{step.planned_on:%d/%m/%Y}",
                days=MAX_PLANNING_DAYS,
            )
    if step.status == "realisee" and request.planned_on and step.on < request.planned_on:
        raise InvalidInputError(
            "study_done_before_planned",
            field="on",
            day=f"{step.on:%d/%m/%Y}",
            planned_on=f"{request.planned_on:%d/%m/%Y}",
        )
    repo.store_step(session=session, request=request, step=step)


def move_request(ctx: Context, request_id: int, step: AuditTransition) -> AuditRequestPublic:
    """The next step of a request, dated."""
    with ctx.write() as session:
        before = require(session, AuditRequest, request_id).status
        transition_audit_request(session, request_id=request_id, step=step)
        record_write(
            session,
            ctx,
            "transition",
            "audit_request",
            request_id,
            changes={"status": [before, step.status]},
            detail=step.model_dump(mode="json", exclude={"status"}, exclude_none=True),
        )
        moved = repo.get_audit_request(session=session, request_id=request_id)
        alerts.study_request_message(session, moved, filed=False)
        return moved


def attach_document(
    ctx: Context, request_id: int, *, filename: str, media_type: str, content: bytes
) -> AuditRequestPublic:
    """Store (or replace) the recommendations' file of a study carried out."""
    with ctx.write() as session:
        _store_document(session, request_id, filename, media_type, content)
        record_write(
            session,
            ctx,
            "upload",
            "audit_document",
            request_id,
            detail={"filename": filename[:300], "media_type": media_type, "size": len(content)},
        )
        return repo.get_audit_request(session=session, request_id=request_id)


def _store_document(
    session: Session, request_id: int, filename: str, media_type: str, content: bytes
) -> None:
    request = require(session, AuditRequest, request_id, lock=True)
    if request.status not in ("realisee", "preconisations_remises"):
        raise StateConflictError(
            "study_document_too_early",
            field="file",
            request_id=request_id,
            status=STATUSES[request.status],
        )
    if media_type not in DOCUMENT_TYPES:
        raise InvalidInputError("study_document_type", field="file", media_type=media_type)
    if not content:
        raise InvalidInputError("file_empty", field="file", filename=filename)
    if len(content) > MAX_DOCUMENT_BYTES:
        raise TooLargeError("file", MAX_DOCUMENT_BYTES, "document")
    repo.store_document(
        session=session,
        request_id=request_id,
        filename=filename[:300],
        media_type=media_type,
        content=content,
    )


@dataclass(frozen=True)
class Document:
    """A file as it was uploaded."""

    filename: str
    media_type: str
    content: bytes


def get_document(ctx: Context, request_id: int) -> Document:
    """The recommendations' document of a request, as uploaded."""
    with ctx.read() as session:
        row = repo.get_document(session=session, request_id=request_id)
        document = Document(filename=row.filename, media_type=row.media_type, content=row.content)
    record_access(
        ctx,
        "download",
        "audit_document",
        request_id,
        detail={
            "filename": document.filename,
            "media_type": document.media_type,
            "size": len(document.content),
        },
    )
    return document


# -- référents --------------------------------------------------------------------------
def list_referents(ctx: Context, csp_id: int) -> ReferentsPublic:
    """The CSP's référents and correspondants sûreté with their workload."""
    with ctx.read() as session:
        data = repo.list_referents(session=session, csp_id=csp_id)
    return ReferentsPublic(data=data, count=len(data))


def add_referent(ctx: Context, csp_id: int, referent_in: ReferentCreate) -> ReferentPublic:
    with ctx.write() as session:
        referent_id = repo.create_referent(session=session, csp_id=csp_id, referent_in=referent_in)
        record_write(
            session,
            ctx,
            "create",
            "referent",
            referent_id,
            changes=changes_between({}, referent_in.model_dump(mode="json")),
            detail={"csp_id": csp_id},
        )
        return next(
            r for r in repo.list_referents(session=session, csp_id=csp_id) if r.id == referent_id
        )


# -- evidence ---------------------------------------------------------------------------
def add_evidence(
    session: Session,
    cache: MapCache[Any],
    *,
    csp_id: int,
    requests: list[AuditRequestPublic],
    radius_m: float = EVIDENCE_RADIUS_M,
) -> HotspotMeta:
    """Fill each request's evidence: problems within ``radius_m`` of its site over the last
    12 months by category, the Gi* level of its H3 cell over those months (the CSP's
    map), and the cell's hot-spot trend (last 90 days against the 90 before). Returns what
    the 12-month map was computed from."""
    today = clock.today()
    year = ProblemFilter.checked(None, None, today=today)
    area = problem_maps.study_area(session=session, csp_id=csp_id)
    maps = cached_area_maps(session, cache, area=area, where=year)
    if not requests:
        return maps.meta
    before, after = recent_periods(today)
    trends = cell_trends(
        cached_area_maps(session, cache, area=area, where=before),
        cached_area_maps(session, cache, area=area, where=after),
    )
    counts = repo.counts_near(session, [r.id for r in requests], year, radius_m)
    levels = maps.cells["level"]
    anchors = repo.request_anchors(session=session, ids=[r.id for r in requests])
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
