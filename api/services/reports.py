"""Activity reports of the GPOs: meetings held, problems opened and resolved, median time
to resolution, by category, for all CSPs, one CSP or one sector, over a period."""

from __future__ import annotations

from datetime import date, timedelta

from api import clock
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
    end = date_to or clock.today()
    start = date_from or end - timedelta(days=365)
    if end < start:
        raise InvalidInputError(
            "period_start_after_end", field="to", since=f"{start:%d/%m/%Y}", until=f"{end:%d/%m/%Y}"
        )
    if sector is not None and csp_id is None:
        raise InvalidInputError("report_sector_needs_csp", field="sector")
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
    table: str = "categories",
) -> tuple[str, str]:
    """The report as a CSV download, by category (:func:`report_csv`) or per GPO
    (``table="gpos"``, :func:`gpo_report_csv`), recorded in the audit trail as an export."""
    report = activity_report(
        ctx, csp_id=csp_id, sector=sector, date_from=date_from, date_to=date_to
    )
    content, name = gpo_report_csv(report) if table == "gpos" else report_csv(report)
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
            "table": table,
        },
    )
    return content, name


def _area(report: ReportPublic) -> str:
    area = f"csp{report.csp_id}" if report.csp_id is not None else "toutes"
    if report.sector is not None:
        area += f"_secteur{report.sector + 1}"
    return area


def gpo_report_csv(report: ReportPublic) -> tuple[str, str]:
    """The report's GPO table as CSV (``;``, French headers, one row per GPO; the
    attendance rate in per cent, empty when no invitation was recorded), and the
    download's name."""
    name = f"rapport_gpo_{_area(report)}_{report.date_from}_{report.date_to}.csv"
    lines = [
        "gpo;nom;type;secteur;reunions_tenues;partenaires_invites;partenaires_presents;"
        "taux_presence_pct;problematiques_ouvertes;problematiques_resolues;"
        "actions_realisees;actions_dans_les_delais"
    ]
    for g in report.gpos:
        rate = "" if g.attendance_rate is None else f"{100 * g.attendance_rate:.1f}"
        sector = "" if g.sector is None else str(g.sector + 1)
        name_cell = g.name.replace(";", ",")
        lines.append(
            f"{g.gpo_id};{name_cell};{g.kind};{sector};{g.meetings_held};{g.partners_invited};"
            f"{g.partners_present};{rate.replace('.', ',')};{g.problems_opened};"
            f"{g.problems_resolved};{g.actions_realised};{g.actions_on_time}"
        )
    return "\n".join(lines) + "\n", name


def report_csv(report: ReportPublic) -> tuple[str, str]:
    """The report as CSV (``;``, French headers: one row per category, then the total),
    and the download's name (the area and the period)."""
    name = f"rapport_{_area(report)}_{report.date_from}_{report.date_to}.csv"
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
