"""Safety studies (études de sûreté): communes file requests; the DDSP's référents work
through the queue, with the evidence the problems give for each site."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Response, UploadFile

from api.db import transaction
from api.deps import DbId, MapCacheDep, SessionDep, SessionFactoryDep
from api.repositories.audits import (
    MAX_DOCUMENT_BYTES,
    QueueOrder,
    add_evidence,
    attach_document,
    create_audit_request,
    create_referent,
    get_audit_request,
    get_document,
    list_audit_requests,
    list_referents,
    order_queue,
    transition_audit_request,
)
from api.routes.responses import CONFLICT, INVALID, NOT_FOUND
from api.schemas import (
    COMMUNE_CODE,
    AuditRequestCreate,
    AuditRequestPublic,
    AuditRequestsPublic,
    AuditTaxonomyPublic,
    AuditTransition,
    ReferentCreate,
    ReferentPublic,
    ReferentsPublic,
)
from geo.audits import (
    EVIDENCE_RADIUS_M,
    KINDS,
    OPEN_STATUSES,
    REFERENT_ROLES,
    STATUSES,
    TRANSITIONS,
)
from geo.errors import InvalidInputError

router = APIRouter(tags=["études de sûreté"])


@router.get("/audits/taxonomy")
def read_audit_taxonomy() -> AuditTaxonomyPublic:
    """Codes and French labels: kinds of site, statuses and their legal transitions."""
    return AuditTaxonomyPublic(
        kinds=dict(KINDS),
        statuses=dict(STATUSES),
        transitions={k: sorted(v) for k, v in TRANSITIONS.items()},
        open_statuses=[s for s in STATUSES if s in OPEN_STATUSES],
        referent_roles=dict(REFERENT_ROLES),
        evidence_radius_m=EVIDENCE_RADIUS_M,
    )


@router.post("/audits", status_code=201, responses=CONFLICT)
def file_request(body: AuditRequestCreate, factory: SessionFactoryDep) -> AuditRequestPublic:
    """File a commune's request (status demandée). A site outside the commune is a 422; an
    open request for the same site is a 409 naming it (``existing_id``) unless
    ``confirm_duplicate``."""
    with transaction(factory) as session:
        request_id = create_audit_request(session=session, request_in=body)
    with factory() as session:
        return get_audit_request(session=session, request_id=request_id)


@router.get("/audits", responses=INVALID)
def read_requests(
    session: SessionDep,
    cache: MapCacheDep,
    csp: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Of this CSP")] = None,
    commune: Annotated[
        str | None, Query(pattern=COMMUNE_CODE, description="Of this commune (INSEE code)")
    ] = None,
    status: Annotated[list[str] | None, Query(description="Status codes (default: all)")] = None,
    evidence: Annotated[
        bool, Query(description="Add the problems' evidence for each site (needs csp)")
    ] = False,
    order: Annotated[QueueOrder, Query(description="evidence, waiting or requested")] = (
        "requested"
    ),
    radius: Annotated[
        float, Query(ge=25, le=2000, description="Evidence radius in metres")
    ] = EVIDENCE_RADIUS_M,
) -> AuditRequestsPublic:
    """Requests of a CSP (the référents' queue) or of a commune, with their steps; with
    ``evidence``, the problems within ``radius`` of each site over 12 months by category,
    the Gi* level and hot-spot trend of its cell."""
    if evidence and csp is None:
        raise InvalidInputError("evidence: give the CSP (csp=) whose problems are the evidence")
    requests = list_audit_requests(
        session=session, csp_id=csp, commune_code=commune, statuses=status or ()
    )
    meta = (
        add_evidence(session=session, cache=cache, csp_id=csp, requests=requests, radius_m=radius)
        if evidence and csp is not None
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


@router.get("/audits/{request_id}", responses=NOT_FOUND)
def read_request(request_id: DbId, session: SessionDep) -> AuditRequestPublic:
    """One request with its dated steps."""
    return get_audit_request(session=session, request_id=request_id)


@router.post("/audits/{request_id}/transitions", responses=INVALID)
def move_request(
    request_id: DbId, body: AuditTransition, factory: SessionFactoryDep
) -> AuditRequestPublic:
    """The next step of a request, dated: acceptée, planifiée (date and référent),
    réalisée, préconisations remises (notes or a document), or refusée (with the reason)."""
    with transaction(factory) as session:
        transition_audit_request(session=session, request_id=request_id, step=body)
    with factory() as session:
        return get_audit_request(session=session, request_id=request_id)


@router.post("/audits/{request_id}/document", responses=INVALID)
def upload_document(
    request_id: DbId,
    factory: SessionFactoryDep,
    file: Annotated[UploadFile, File(description="The recommendations (PDF, ODT, DOCX…)")],
) -> AuditRequestPublic:
    """Attach (or replace) the recommendations' document of a study carried out."""
    content = file.file.read(MAX_DOCUMENT_BYTES + 1)
    with transaction(factory) as session:
        attach_document(
            session=session,
            request_id=request_id,
            filename=file.filename or "preconisations",
            media_type=file.content_type or "application/octet-stream",
            content=content,
        )
    with factory() as session:
        return get_audit_request(session=session, request_id=request_id)


@router.get("/audits/{request_id}/document", responses=NOT_FOUND)
def download_document(request_id: DbId, session: SessionDep) -> Response:
    """The recommendations' document, as uploaded."""
    document = get_document(session=session, request_id=request_id)
    name = " ".join(document.filename.split())  # no line breaks in a header
    fallback = name.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
            ),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/csp/{csp_id}/referents", responses=NOT_FOUND)
def read_referents(csp_id: DbId, session: SessionDep) -> ReferentsPublic:
    """The CSP's référents and correspondants sûreté with their workload."""
    data = list_referents(session=session, csp_id=csp_id)
    return ReferentsPublic(data=data, count=len(data))


@router.post("/csp/{csp_id}/referents", status_code=201, responses=INVALID)
def add_referent(csp_id: DbId, body: ReferentCreate, factory: SessionFactoryDep) -> ReferentPublic:
    """Record a référent or correspondant sûreté of the CSP."""
    with transaction(factory) as session:
        referent_id = create_referent(session=session, csp_id=csp_id, referent_in=body)
    with factory() as session:
        return next(
            r for r in list_referents(session=session, csp_id=csp_id) if r.id == referent_id
        )
