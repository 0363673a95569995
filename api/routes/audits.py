"""Safety studies (études de sûreté): communes file requests; the DDSP's référents work
through the queue, with the evidence the problems give for each site."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Response, UploadFile

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import CONFLICT, INVALID, NOT_FOUND
from api.schemas import (
    COMMUNE_CODE,
    AuditRequestCreate,
    AuditRequestPublic,
    AuditRequestsPublic,
    AuditStatusQuery,
    AuditTaxonomyPublic,
    AuditTransition,
    ReferentCreate,
    ReferentPublic,
    ReferentsPublic,
)
from api.services import audits
from api.services.audits import MAX_DOCUMENT_BYTES, QueueOrder
from geo.audits import (
    EVIDENCE_RADIUS_M,
    KINDS,
    OPEN_STATUSES,
    REFERENT_ROLES,
    STATUSES,
    TRANSITIONS,
)

router = APIRouter(tags=["études de sûreté"])


@router.get("/audits/taxonomy", dependencies=[access.PUBLIC])
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


@router.post("/audits", status_code=201, responses=CONFLICT, dependencies=[access.STUDY_REQUESTS])
def file_request(body: AuditRequestCreate, ctx: ContextDep) -> AuditRequestPublic:
    """File a commune's request (status demandée). A site outside the commune is a 422; an
    open request for the same site is a 409 naming it (``existing_id``) unless
    ``confirm_duplicate``."""
    return audits.file_request(ctx, body)


@router.get("/audits", responses=INVALID, dependencies=[access.STUDY_REQUESTS])
def read_requests(
    ctx: ContextDep,
    csp: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Of this CSP")] = None,
    commune: Annotated[
        str | None, Query(pattern=COMMUNE_CODE, description="Of this commune (INSEE code)")
    ] = None,
    status: Annotated[
        list[AuditStatusQuery] | None, Query(description="Status codes (default: all)")
    ] = None,
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
    return audits.list_requests(
        ctx,
        csp_id=csp,
        commune_code=commune,
        statuses=status or (),
        evidence=evidence,
        order=order,
        radius_m=radius,
    )


@router.get("/audits/{request_id:int}", responses=NOT_FOUND, dependencies=[access.STUDY_REQUESTS])
def read_request(request_id: DbId, ctx: ContextDep) -> AuditRequestPublic:
    """One request with its dated steps."""
    return audits.get_request(ctx, request_id)


@router.post(
    "/audits/{request_id:int}/transitions", responses=CONFLICT, dependencies=[access.STUDY_WORK]
)
def move_request(request_id: DbId, body: AuditTransition, ctx: ContextDep) -> AuditRequestPublic:
    """The next step of a request, dated: acceptée, planifiée (date and référent),
    réalisée, préconisations remises (notes or a document), or refusée (with the reason)."""
    return audits.move_request(ctx, request_id, body)


@router.post(
    "/audits/{request_id:int}/document", responses=CONFLICT, dependencies=[access.STUDY_WORK]
)
def upload_document(
    request_id: DbId,
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="The recommendations (PDF, ODT, DOCX…)")],
) -> AuditRequestPublic:
    """Attach (or replace) the recommendations' document of a study carried out."""
    return audits.attach_document(
        ctx,
        request_id,
        filename=file.filename or "preconisations",
        media_type=file.content_type or "application/octet-stream",
        content=file.file.read(MAX_DOCUMENT_BYTES + 1),
    )


@router.get(
    "/audits/{request_id:int}/document", responses=NOT_FOUND, dependencies=[access.STUDY_REQUESTS]
)
def download_document(request_id: DbId, ctx: ContextDep) -> Response:
    """The recommendations' document, as uploaded."""
    document = audits.get_document(ctx, request_id)
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


@router.get("/csp/{csp_id:int}/referents", responses=NOT_FOUND, dependencies=[access.STUDY_WORK])
def read_referents(csp_id: DbId, ctx: ContextDep) -> ReferentsPublic:
    """The CSP's référents and correspondants sûreté with their workload."""
    return audits.list_referents(ctx, csp_id)


@router.post(
    "/csp/{csp_id:int}/referents", status_code=201, responses=INVALID, dependencies=[access.ADMIN]
)
def add_referent(csp_id: DbId, body: ReferentCreate, ctx: ContextDep) -> ReferentPublic:
    """Record a référent or correspondant sûreté of the CSP."""
    return audits.add_referent(ctx, csp_id, body)
