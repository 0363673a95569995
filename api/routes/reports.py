from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep
from api.repositories.reports import activity_report, report_csv
from api.routes.responses import INVALID
from api.schemas import ReportPublic

router = APIRouter(tags=["rapports"])


@router.get(
    "/reports",
    responses={**INVALID, 200: {"content": {"text/csv": {}}}},
    response_model=ReportPublic,
)
def read_report(
    session: SessionDep,
    csp: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Default: all")] = None,
    sector: Annotated[int | None, Query(ge=0, le=5000, description="A sector of the CSP")] = None,
    date_from: Annotated[
        date | None, Query(alias="from", description="Default: a year ago")
    ] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Default: today")] = None,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> ReportPublic | Response:
    """Meetings held, problems opened and resolved, median time to resolution, by
    category, for all CSPs, one CSP or one sector, over a period (days included)."""
    end = date_to or date.today()
    report = activity_report(
        session=session,
        date_from=date_from or end - timedelta(days=365),
        date_to=end,
        csp_id=csp,
        sector=sector,
    )
    if fmt == "csv":
        area = f"csp{csp}" if csp is not None else "toutes"
        if sector is not None:
            area += f"_secteur{sector + 1}"
        name = f"rapport_{area}_{report.date_from}_{report.date_to}.csv"
        return Response(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return report
