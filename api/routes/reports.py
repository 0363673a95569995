from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api import access
from api.deps import ContextDep
from api.routes.responses import INVALID
from api.schemas import ReportPublic
from api.schemas.common import Day
from api.services import reports

router = APIRouter(tags=["rapports"])


@router.get(
    "/reports",
    responses={**INVALID, 200: {"content": {"text/csv": {}}}},
    response_model=ReportPublic,
    dependencies=[access.REPORTS],
)
def read_report(
    ctx: ContextDep,
    csp: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Default: all")] = None,
    sector: Annotated[int | None, Query(ge=0, le=5000, description="A sector of the CSP")] = None,
    date_from: Annotated[Day | None, Query(alias="from", description="Default: a year ago")] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="Default: today")] = None,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    table: Annotated[
        Literal["categories", "gpos"],
        Query(description="The CSV's table: by category (with the total) or per GPO"),
    ] = "categories",
) -> ReportPublic | Response:
    """Meetings held, problems opened and resolved, median time to resolution, by
    category, for all CSPs, one CSP or one sector, over a period (days included); and per
    GPO: meetings held, attendance, problems opened and resolved, actions done on time."""
    if fmt == "csv":
        content, name = reports.export_report_csv(
            ctx, csp_id=csp, sector=sector, date_from=date_from, date_to=date_to, table=table
        )
        return Response(
            content,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return reports.activity_report(
        ctx, csp_id=csp, sector=sector, date_from=date_from, date_to=date_to
    )
