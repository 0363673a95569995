"""Safety-study requests (études de sûreté) as stored: the requests with their steps,
documents and référents, the open request near a site, the référents' workload, and the
problems counted around each site (see :mod:`api.services.audits` for the use cases)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

import shapely
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from api import clock
from api.db import read_query
from api.models import AuditDocument, AuditEvent, AuditRequest, Commune, Csp, Referent
from api.repositories.base import GEOJSON_DECIMALS, require, scope_of, visible, wkb_element
from api.schemas import (
    AuditEventPublic,
    AuditRequestCreate,
    AuditRequestPublic,
    AuditTransition,
    Geometry,
    ReferentCreate,
    ReferentPublic,
)
from geo.audits import CLOSED_STATUSES, KINDS, OPEN_STATUSES, REFERENT_ROLES, SAME_SITE_M, STATUSES
from geo.errors import NotFoundError
from geo.study import ProblemFilter


def open_request_near(session: Session, code: str, geom: shapely.Geometry) -> AuditRequest | None:
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


def insert_request(
    *,
    session: Session,
    request_in: AuditRequestCreate,
    csp_id: int,
    geom: shapely.Geometry,
    anchor: shapely.Point,
    requested_on: date,
    duplicate_of: int | None,
) -> int:
    """Store a request (status demandée) and its first step; its site is ``geom`` and
    ``anchor`` the point that stands for it (:func:`geo.geometry.anchor`)."""
    request = AuditRequest(
        csp_id=csp_id,
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
        duplicate_of=duplicate_of,
        geom=wkb_element(geom),
        anchor=wkb_element(anchor),
    )
    session.add(request)
    session.flush()
    session.add(AuditEvent(request_id=request.id, status="demandee", on=request.requested_on))
    session.flush()
    return request.id


def lock_filings(*, session: Session, commune_code: str) -> None:
    """Wait for the other filings of the commune in progress (until this transaction
    ends), so that two quick submissions see each other."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(commune_code))))


def store_step(*, session: Session, request: AuditRequest, step: AuditTransition) -> None:
    """Move a request (locked) to a checked step: its status, the fields the step sets,
    and the dated event that records it."""
    if step.status == "planifiee":
        request.planned_on = step.planned_on
        request.referent_id = step.referent_id
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
            request_id=request.id,
            status=step.status,
            on=step.on,
            note=step.note or (step.reason if step.status == "refusee" else None),
            planned_on=step.planned_on if step.status == "planifiee" else None,
            referent_id=step.referent_id if step.status == "planifiee" else None,
        )
    )
    session.flush()


def store_document(
    *, session: Session, request_id: int, filename: str, media_type: str, content: bytes
) -> None:
    """Store (or replace) a request's document."""
    document = session.get(AuditDocument, request_id) or AuditDocument(request_id=request_id)
    document.filename = filename
    document.media_type = media_type
    document.content = content
    session.add(document)
    session.flush()


def find_referent(*, session: Session, referent_id: int) -> Referent | None:
    return session.get(Referent, referent_id)


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
    today = clock.today()
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
            version=r.version,
            geometry=Geometry.model_validate(json.loads(geometry[r.id])),
            events=events[r.id],
        )
        for r in requests
    ]


def get_audit_request(*, session: Session, request_id: int) -> AuditRequestPublic:
    require(session, AuditRequest, request_id)
    return _publics(session, select(AuditRequest).where(AuditRequest.id == request_id))[0]


def select_requests(
    *,
    session: Session,
    csp_id: int | None = None,
    commune_code: str | None = None,
    statuses: Sequence[str] = (),
) -> list[AuditRequestPublic]:
    """Requests of a CSP and/or a commune, of the given (checked) statuses (all when
    empty), oldest first."""
    stmt = (
        select(AuditRequest)
        .where(visible(AuditRequest, scope_of(session)))
        .order_by(AuditRequest.requested_on, AuditRequest.id)
    )
    if csp_id is not None:
        stmt = stmt.where(AuditRequest.csp_id == csp_id)
    if commune_code is not None:
        stmt = stmt.where(AuditRequest.commune_code == commune_code)
    if statuses:
        stmt = stmt.where(AuditRequest.status.in_(list(statuses)))
    return _publics(session, stmt)


def document_of(*, session: Session, request_id: int) -> AuditDocument | None:
    """The request's document, if any (404 for a request outside the perimeter)."""
    require(session, AuditRequest, request_id)
    return session.get(AuditDocument, request_id)


def get_document(*, session: Session, request_id: int) -> AuditDocument:
    document = document_of(session=session, request_id=request_id)
    if document is None:
        raise NotFoundError("study_request_no_document", request_id=request_id)
    return document


def create_referent(*, session: Session, csp_id: int, referent_in: ReferentCreate) -> int:
    require(session, Csp, csp_id)
    referent = Referent(csp_id=csp_id, **referent_in.model_dump())
    session.add(referent)
    session.flush()
    return referent.id


def list_referents(*, session: Session, csp_id: int) -> list[ReferentPublic]:
    """The CSP's référents with their workload: studies planned (and the next one),
    carried out awaiting recommendations, and recommendations handed over in 12 months."""
    require(session, Csp, csp_id)
    year_ago = clock.today() - timedelta(days=365)
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


def counts_near(
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


def request_anchors(*, session: Session, ids: Sequence[int]) -> dict[int, tuple[float, float]]:
    """(lat, lon) of the anchor of each request's site."""
    return {
        int(rid): (float(lat), float(lon))
        for rid, lat, lon in session.execute(
            select(
                AuditRequest.id, func.ST_Y(AuditRequest.anchor), func.ST_X(AuditRequest.anchor)
            ).where(AuditRequest.id.in_(list(ids)))
        )
    }


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


def mark_synthetic(*, session: Session, csp_id: int, referent_ids: Sequence[int]) -> None:
    """Flag these référents and every request of the CSP as synthetic (demo data)."""
    session.execute(
        update(Referent).where(Referent.id.in_(list(referent_ids))).values(synthetic=True)
    )
    session.execute(
        update(AuditRequest).where(AuditRequest.csp_id == csp_id).values(synthetic=True)
    )
