"""Problems placed in the sectors of the adopted plan: the sector whose outline holds a
problem's anchor (:func:`geo.problems.place`) and that sector's GPO. Every problem is
placed when it is recorded or imported, and every problem of a CSP again when a plan is
adopted."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from api.repositories import problems
from geo.geometry import BORDER_TOLERANCE_DEG, anchors
from geo.problems import place


def placement(
    session: Session, csp_id: int, anchors_xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sector (-1: none) and GPO id (-1: none) of each anchor (lon, lat) in the CSP's
    adopted plan."""
    outlines, gpo_of = problems.sector_outlines(session, csp_id)
    sector = place(anchors_xy, outlines, BORDER_TOLERANCE_DEG)
    gpo = np.array([gpo_of.get(int(s), -1) for s in sector], dtype=int) if len(sector) else sector
    return sector, gpo


def assign_to_sectors(session: Session, csp_id: int, ids: tuple[int, int] | None = None) -> int:
    """Place the CSP's problems (all, or those whose id is in the range ``ids``) in the
    sectors of the adopted plan (none without a plan). Only the placements that change
    are rewritten; returns their number."""
    current = problems.current_placements(session=session, csp_id=csp_id, ids=ids)
    if not len(current):
        return 0
    sector, gpo = placement(session, csp_id, current[["x", "y"]].to_numpy())
    changed = (sector != current["sector"].to_numpy()) | (gpo != current["gpo"].to_numpy())
    if not changed.any():
        return 0
    whole_csp = ids is None and changed.mean() > 0.5  # a new plan: rewrite them all
    if whole_csp:
        changed[:] = True
    problems.replace_placements(
        session=session,
        csp_id=csp_id,
        problem_ids=current["id"].to_numpy()[changed],
        sector=sector[changed],
        gpo=gpo[changed],
        whole_csp=whole_csp,
    )
    return int(changed.sum())


def insert_placed(
    session: Session,
    *,
    csp_id: int,
    frame: gpd.GeoDataFrame,
    synthetic: bool,
    events: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
    evaluations: pd.DataFrame | None = None,
    partner_ids: dict[str, int] | None = None,
) -> int:
    """Store checked problems (see :func:`api.repositories.problems.insert_problems`)
    with their anchors, placed in the sectors of the adopted plan; returns how many."""
    anchor_points = anchors(frame.geometry.to_numpy())
    sector, gpo = placement(session, csp_id, shapely.get_coordinates(anchor_points))
    return problems.insert_problems(
        session=session,
        csp_id=csp_id,
        problems=frame,
        anchor_points=anchor_points,
        sector=sector,
        gpo=gpo,
        synthetic=synthetic,
        events=events,
        actions=actions,
        evaluations=evaluations,
        partner_ids=partner_ids,
    )
