"""Activity reports of the GPOs for any period and area: meetings held, problems opened
and resolved, median time to resolution, by category (the figures the ministry
publishes, e.g. problems resolved per sector)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.models import Csp, Gpo
from api.repositories.base import require, scope_of, visible
from api.schemas import CategoryReport, GpoReport, ReportPublic
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
            "       AND m.status = 'close' AND m.held_on BETWEEN :a AND :b), "
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
        gpos=gpo_activity(
            session=session, csps=csps, sector=sector, date_from=date_from, date_to=date_to
        ),
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


#: Each GPO's problems: a sector GPO's are placed in it; a thematic GPO's are placed in
#: the sectors it spans and of its categories (all when it names none).
_GPO_PROBLEMS = """
    SELECT g.id AS gpo_id, p.id AS problem_id, p.reported_on
    FROM gpo g JOIN problem_place pp ON pp.gpo_id = g.id JOIN problem p ON p.id = pp.problem_id
    WHERE g.id = ANY(:gpos) AND g.kind = 'sector'
    UNION ALL
    SELECT g.id, p.id, p.reported_on
    FROM gpo g
    JOIN problem_place pp ON pp.csp_id = g.csp_id AND g.sectors @> to_jsonb(pp.sector)
    JOIN problem p ON p.id = pp.problem_id
    WHERE g.id = ANY(:gpos) AND g.kind <> 'sector'
      AND (jsonb_array_length(g.categories) = 0 OR g.categories ? p.category)
"""

_GPO_FIGURES = f"""
    WITH gp AS ({_GPO_PROBLEMS}),
    opened AS (SELECT gpo_id, count(*) AS n FROM gp
               WHERE reported_on BETWEEN :a AND :b GROUP BY gpo_id),
    resolved AS (SELECT gpo_id, count(*) AS n FROM (
                   SELECT gp.gpo_id, gp.problem_id FROM gp
                   JOIN problem_event e ON e.problem_id = gp.problem_id AND e.status = 'resolu'
                   GROUP BY gp.gpo_id, gp.problem_id HAVING MIN(e.on) BETWEEN :a AND :b) r
                 GROUP BY gpo_id),
    realised AS (SELECT gp.gpo_id, a.id, a.due_on, MIN(ae.on) AS done_on FROM gp
                 JOIN action a ON a.problem_id = gp.problem_id
                 JOIN action_event ae ON ae.action_id = a.id AND ae.status = 'realisee'
                 GROUP BY gp.gpo_id, a.id, a.due_on HAVING MIN(ae.on) BETWEEN :a AND :b),
    acts AS (SELECT gpo_id, count(*) AS n,
                    count(*) FILTER (WHERE due_on IS NOT NULL AND done_on <= due_on) AS on_time
             FROM realised GROUP BY gpo_id),
    held AS (SELECT id, gpo_id FROM meeting WHERE gpo_id = ANY(:gpos) AND status = 'close'
               AND held_on BETWEEN :a AND :b),
    meets AS (SELECT gpo_id, count(*) AS n FROM held GROUP BY gpo_id),
    att AS (SELECT h.gpo_id, count(*) FILTER (WHERE mp.invited) AS invited,
                   count(*) FILTER (WHERE mp.invited AND mp.present) AS present
            FROM held h JOIN meeting_partner mp ON mp.meeting_id = h.id GROUP BY h.gpo_id)
    SELECT g.id, COALESCE(meets.n, 0), COALESCE(att.invited, 0), COALESCE(att.present, 0),
           COALESCE(opened.n, 0), COALESCE(resolved.n, 0), COALESCE(acts.n, 0),
           COALESCE(acts.on_time, 0)
    FROM gpo g
    LEFT JOIN meets ON meets.gpo_id = g.id LEFT JOIN att ON att.gpo_id = g.id
    LEFT JOIN opened ON opened.gpo_id = g.id LEFT JOIN resolved ON resolved.gpo_id = g.id
    LEFT JOIN acts ON acts.gpo_id = g.id
    WHERE g.id = ANY(:gpos)
"""


def gpo_activity(
    *, session: Session, csps: list[int], sector: int | None, date_from: date, date_to: date
) -> list[GpoReport]:
    """Each GPO of the area the caller sees (its own only for a GPO-bound caller; with a
    ``sector``, that sector's GPO and the thematic GPOs spanning it), active or with
    meetings held in the period: closed meetings held, the attendance of the partners
    invited to them, its problems (as placed now) reported and resolved in the period,
    and its problems' actions realised in the period, on time when their "réalisée" step
    is dated on or before their due date (an action without a due date is not on time)."""
    stmt = select(Gpo).where(Gpo.csp_id.in_(csps), visible(Gpo, scope_of(session)))
    if sector is not None:
        stmt = stmt.where(
            ((Gpo.kind == "sector") & (Gpo.sector == sector))
            | ((Gpo.kind != "sector") & Gpo.sectors.contains([sector]))
        )
    gpos = {g.id: g for g in session.scalars(stmt)}
    if not gpos:
        return []
    figures = session.execute(
        text(_GPO_FIGURES), {"gpos": list(gpos), "a": date_from, "b": date_to}
    ).all()
    rows = []
    for gpo_id, meetings, invited, present, opened, resolved, realised, on_time in figures:
        gpo = gpos[gpo_id]
        if not gpo.active and not meetings:
            continue
        rows.append(
            GpoReport(
                gpo_id=gpo.id,
                name=gpo.name,
                kind=gpo.kind,
                sector=gpo.sector,
                active=gpo.active,
                meetings_held=int(meetings),
                partners_invited=int(invited),
                partners_present=int(present),
                attendance_rate=int(present) / int(invited) if invited else None,
                problems_opened=int(opened),
                problems_resolved=int(resolved),
                actions_realised=int(realised),
                actions_on_time=int(on_time),
            )
        )
    order = {"sector": 0}
    return sorted(
        rows,
        key=lambda r: (order.get(r.kind, 1), r.sector if r.sector is not None else -1, r.gpo_id),
    )
