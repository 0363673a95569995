"""Activity reports of the GPOs: meetings held, problems opened and resolved, median time
to resolution, by category, for all CSPs, one CSP or one sector, over a period."""

from __future__ import annotations

from datetime import date, timedelta

from api.repositories import reports as repo
from api.schemas import ReportPublic
from api.services.audit_log import record_access
from api.services.context import Context
from geo.errors import InvalidInputError


def activity_report(
    ctx: Context,
    *,
    csp_id: int | None = None,
    sector: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> ReportPublic:
    """The report of an area and a period (days included; default: the year up to today)."""
    end = date_to or date.today()
    start = date_from or end - timedelta(days=365)
    if end < start:
        raise InvalidInputError(f"to: {end} is before from {start}")
    if sector is not None and csp_id is None:
        raise InvalidInputError("sector: give the csp of the sector too")
    with ctx.read() as session:
        return repo.activity_report(
            session=session,
            date_from=start,
            date_to=end,
            csp_id=csp_id,
            sector=sector,
        )


def export_report_csv(
    ctx: Context,
    *,
    csp_id: int | None = None,
    sector: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[str, str]:
    """The report as a CSV download (:func:`report_csv`), recorded in the audit trail as
    an export."""
    report = activity_report(
        ctx, csp_id=csp_id, sector=sector, date_from=date_from, date_to=date_to
    )
    content, name = report_csv(report)
    record_access(
        ctx,
        "export",
        "report",
        None,
        detail={
            "csp_id": report.csp_id,
            "sector": report.sector,
            "from": report.date_from,
            "to": report.date_to,
            "format": "csv",
        },
    )
    return content, name


def report_csv(report: ReportPublic) -> tuple[str, str]:
    """The report as CSV (``;``, French headers: one row per category, then the total),
    and the download's name (the area and the period)."""
    area = f"csp{report.csp_id}" if report.csp_id is not None else "toutes"
    if report.sector is not None:
        area += f"_secteur{report.sector + 1}"
    name = f"rapport_{area}_{report.date_from}_{report.date_to}.csv"
    lines = ["categorie;libelle;ouvertes;resolues;delai_median_resolution_jours"]
    fmt = lambda v: "" if v is None else f"{v:g}".replace(".", ",")  # noqa: E731
    for c in report.by_category:
        lines.append(
            f"{c.category};{c.label};{c.opened};{c.resolved};{fmt(c.median_days_to_resolution)}"
        )
    lines.append(
        f"total;Toutes catégories;{report.problems_opened};{report.problems_resolved};"
        f"{fmt(report.median_days_to_resolution)}"
    )
    return "\n".join(lines) + "\n", name
