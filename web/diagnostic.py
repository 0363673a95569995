"""The diagnostic partagé of a contrat de sécurité intégrée (issue 18): an A4 PDF rendered
from the app's own data over the contract's territory (:func:`api.services.csi.diagnostic`,
``web/templates/csi_diagnostic.html``), each figure with its source and period, printed by
Chromium (:func:`web.printing.print_html`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import APIRouter, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api import access
from api.deps import ContextDep, DbId
from api.services import csi
from api.services.audit_log import record_access
from api.services.csi import Diagnostic
from web.printing import print_html

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)), cache_size=10
)
router = APIRouter(include_in_schema=False)


def _day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def diagnostic_html(d: Diagnostic) -> str:
    """The diagnostic as a self-contained A4 page."""
    return _env.get_template("csi_diagnostic.html").render(
        d=d, day=_day, masked=lambda n: "1 ou 2" if n is None else n
    )


@router.get("/csi/{contract_id}/diagnostic.pdf", dependencies=[access.COMMUNE_SPACE])
def diagnostic_pdf(contract_id: DbId, ctx: ContextDep) -> Response:
    """The contract's diagnostic partagé as an A4 PDF (a contract outside the caller's
    perimeter is a 404)."""
    data = csi.diagnostic(ctx, contract_id)
    pdf = print_html(diagnostic_html(data), "pdf")
    record_access(ctx, "export", "csi_contract", contract_id, detail={"format": "pdf"})
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="csi{contract_id}_diagnostic.pdf"'},
    )
