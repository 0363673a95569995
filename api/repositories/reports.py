"""Activity reports of the GPOs for any period and area: meetings held, problems opened
and resolved, median time to resolution, by category (the figures the ministry
publishes, e.g. problems resolved per sector)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.models import Csp
from api.repositories.base import require, scope_of, visible
from api.schemas import CategoryReport, ReportPublic
from geo.problems import CATEGORIES

_PROBLEMS_IN_AREA = """
    SELECT p.* FROM problem p LEFT JOIN problem_place pp ON pp.problem_id = p.id
    WHERE p.csp_id = ANY(:csps)
      AND (CAST(:sector AS int) IS NULL OR pp.sector = :sector)
"""


def activity_report(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    csp_id: int | None = None,
    sector: int | None = None,
) -> ReportPublic:
    """The report of an area (every CSP the caller sees, one CSP, or one of its sectors)
    and a period (both days included). A problem counts as resolved on the day of its
    "résolu" step."""
    csp = require(session, Csp, csp_id) if csp_id is not None else None
    # One CSP, or every CSP the caller sees.
    csps = (
        [csp_id]
        if csp_id is not None
        else list(session.scalars(select(Csp.id).where(visible(Csp, scope_of(session)))))
    )
    params: dict[str, Any] = {"csps": csps, "sector": sector, "a": date_from, "b": date_to}
    rows = session.execute(
        text(
            f"WITH area AS ({_PROBLEMS_IN_AREA}), "
            "resolved AS (SELECT a.id, a.category, MIN(e.on) - a.reported_on AS days "
            "  FROM area a JOIN problem_event e ON e.problem_id = a.id AND e.status = 'resolu' "
            "  GROUP BY a.id, a.category, a.reported_on "
            "  HAVING MIN(e.on) BETWEEN :a AND :b) "
            "SELECT c.category, "
            "  (SELECT count(*) FROM area a WHERE a.category = c.category "
            "     AND a.reported_on BETWEEN :a AND :b), "
            "  (SELECT count(*) FROM resolved r WHERE r.category = c.category), "
            "  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.days) FROM resolved r "
            "     WHERE r.category = c.category) "
            "FROM (SELECT DISTINCT category FROM area) c ORDER BY c.category"
        ),
        params,
    ).all()
    totals = session.execute(
        text(
            f"WITH area AS ({_PROBLEMS_IN_AREA}), "
            "resolved AS (SELECT a.id, MIN(e.on) - a.reported_on AS days FROM area a "
            "  JOIN problem_event e ON e.problem_id = a.id AND e.status = 'resolu' "
            "  GROUP BY a.id, a.reported_on HAVING MIN(e.on) BETWEEN :a AND :b), "
            "dropped AS (SELECT DISTINCT e.problem_id FROM area a JOIN problem_event e "
            "  ON e.problem_id = a.id AND e.status = 'clos_sans_suite' "
            "  AND e.on BETWEEN :a AND :b), "
            "closed_by_end AS (SELECT DISTINCT e.problem_id FROM area a JOIN problem_event e "
            "  ON e.problem_id = a.id AND e.status IN ('resolu', 'clos_sans_suite') "
            "  AND e.on <= :b) "
            "SELECT (SELECT count(*) FROM area WHERE reported_on BETWEEN :a AND :b), "
            "  (SELECT count(*) FROM resolved), "
            "  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FROM resolved), "
            "  (SELECT count(*) FROM dropped), "
            "  (SELECT count(*) FROM area WHERE reported_on <= :b "
            "     AND id NOT IN (SELECT problem_id FROM closed_by_end)), "
            "  (SELECT count(*) FROM meeting m JOIN gpo g ON g.id = m.gpo_id "
            "     WHERE g.csp_id = ANY(:csps) "
            "       AND (CAST(:sector AS int) IS NULL "
            "            OR (g.kind = 'sector' AND g.sector = :sector)) "
            "       AND m.held_on BETWEEN :a AND :b), "
            "  (SELECT count(*) FROM plan_sector s JOIN plan pl ON pl.id = s.plan_id "
            "     WHERE pl.status = 'adopted' AND pl.csp_id = ANY(:csps) "
            "       AND (CAST(:sector AS int) IS NULL OR s.sector = :sector)), "
            "  (SELECT count(*) FROM area WHERE synthetic)"
        ),
        params,
    ).one()
    opened, resolved, median, dropped, open_at_end, meetings, sectors, synthetic = totals
    return ReportPublic(
        csp_id=csp_id,
        csp_name=csp.name if csp is not None else None,
        sector=sector,
        date_from=date_from,
        date_to=date_to,
        sectors=int(sectors),
        meetings_held=int(meetings),
        problems_opened=int(opened),
        problems_resolved=int(resolved),
        problems_closed_without_action=int(dropped),
        open_at_end=int(open_at_end),
        median_days_to_resolution=None if median is None else float(median),
        synthetic_problems=int(synthetic),
        by_category=[
            CategoryReport(
                category=category,
                label=CATEGORIES.get(category, category),
                opened=int(n_open),
                resolved=int(n_resolved),
                median_days_to_resolution=None if days is None else float(days),
            )
            for category, n_open, n_resolved, days in rows
        ],
    )
