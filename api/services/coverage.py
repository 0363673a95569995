"""Where would p cameras (or safety studies) cover the most problems of a commune: the
maximal covering location problem of :mod:`geo.coverage` on the commune's problems, with
existing cameras and studied video-protection sites fixed, and the commune's own requested
sites scored beside the suggestion. Only aggregates leave this module: sites and shares,
never a problem record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from sqlalchemy.orm import Session

from api.repositories import audits, base, layers, problem_maps
from api.schemas import (
    CoverageSitePublic,
    CoverageSuggestionPublic,
    FixedSitePublic,
    RequestedSiteScorePublic,
)
from api.services.cartography import MIN_COMMUNE_COUNT, commune_period
from api.services.context import Context
from geo.coverage import (
    MaximalCovering,
    candidate_sites,
    coverage_matrix,
    problem_weights,
)
from geo.crs import metric_crs
from geo.study import ProblemFilter, StudyArea

#: Words that mark a point of a ``points`` layer as a camera (its type, lower-cased).
CAMERA_WORDS = ("camera", "caméra", "video", "vidéo", "surveillance")
#: Studies whose site counts as covered: a video-protection study carried out.
STUDIED_STATUSES = ("realisee", "preconisations_remises")
#: Requests whose sites are scored beside the suggestion: camera or public-space studies
#: not yet carried out.
WAITING_STATUSES = ("demandee", "acceptee", "planifiee")
SCORED_KINDS = ("videoprotection", "espace_public")
Method = Literal["auto", "exact", "greedy"]


def shown_count(n: int) -> int | None:
    """``n``, or None when 1 or 2 (a commune sees no count that could single a record out)."""
    return None if 0 < n < MIN_COMMUNE_COUNT else n


@dataclass(frozen=True)
class FixedSite:
    lon: float
    lat: float
    source: str
    label: str


def fixed_sites(session: Session, area: StudyArea) -> list[FixedSite]:
    """Existing cameras (points layers whose type names one) in the commune, and the sites
    of its video-protection studies carried out."""
    cameras = layers.camera_points(session=session, outline=area.outline, camera_words=CAMERA_WORDS)
    studied = audits.site_anchors(
        session=session,
        commune_code=area.commune_code or "",
        statuses=STUDIED_STATUSES,
        kinds=("videoprotection",),
    )
    return [FixedSite(x, y, "camera", label) for x, y, label in cameras] + [
        FixedSite(lon, lat, "audit", f"Étude de vidéoprotection n° {rid}")
        for rid, _kind, _status, lon, lat in studied
    ]


def coverage_suggestion(
    ctx: Context,
    commune_code: str,
    *,
    p: int,
    radius_m: float,
    where: ProblemFilter | None = None,
    method: Method = "auto",
) -> CoverageSuggestionPublic:
    """The best ``p`` more sites for the commune's problems passing ``where`` (default:
    what a commune sees, :func:`~api.services.cartography.commune_period`), computed
    once per revision of the problems, of the layers and of the commune's requests."""
    where = where or commune_period()
    with ctx.read() as session:
        area = problem_maps.commune_area(session=session, commune_code=commune_code)
        fixed = fixed_sites(session, area)
        requested = audits.site_anchors(
            session=session,
            commune_code=commune_code,
            statuses=WAITING_STATUSES,
            kinds=SCORED_KINDS,
        )
        key = (
            "coverage",
            area.key,
            where,
            p,
            radius_m,
            method,
            tuple(fixed),
            tuple(requested),
            layers.layers_signature(session=session),
        )
        result: CoverageSuggestionPublic = ctx.maps.get_or_compute(
            key,
            base.problem_revision(session=session, csp_id=area.csp_id),
            lambda: _suggest(session, area, fixed, requested, p, radius_m, where, method),
        )
        return result


def _suggest(
    session: Session,
    area: StudyArea,
    fixed: Sequence[FixedSite],
    requested: Sequence[tuple[int, str, str, float, float]],
    p: int,
    radius_m: float,
    where: ProblemFilter,
    method: Method,
) -> CoverageSuggestionPublic:
    points = problem_maps.problem_points(session=session, area=area, where=where)
    crs = metric_crs(gpd.GeoDataFrame(geometry=[area.outline], crs=4326))
    to_metric = Transformer.from_crs(4326, crs, always_xy=True)

    def project(lon: Any, lat: Any) -> np.ndarray:
        x, y = to_metric.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]).reshape(-1, 2)

    roads = layers.barrier_lines(session=session, csp_id=area.csp_id, margin_m=0)
    candidates = candidate_sites(area.outline, roads if len(roads) else None)
    candidate_kind = str(candidates["kind"].iloc[0]) if len(candidates) else "h3"
    demand = project(points["lon"], points["lat"])
    weights = problem_weights(
        points["category"].tolist(),
        pd.to_datetime(points["reported_on"]).dt.date.tolist(),
        today=where.until,
    )
    site_xy = project(candidates.geometry.x, candidates.geometry.y)
    fixed_xy = project([f.lon for f in fixed], [f.lat for f in fixed])
    solution = MaximalCovering(p, radius=radius_m, method=method).solve(
        demand, weights, site_xy, fixed_xy=fixed_xy
    )
    total = float(solution.total_weight)

    def share(w: float) -> float:
        return round(w / total, 4) if total > 0 else 0.0

    covered = np.zeros(len(demand), dtype=bool)
    if len(fixed_xy) and len(demand):
        covered = np.asarray(coverage_matrix(demand, fixed_xy, radius_m).sum(axis=1)).ravel() > 0
    chosen_xy = site_xy[solution.chosen]
    chosen_cover = coverage_matrix(demand, chosen_xy, radius_m).tocsc()
    sites = []
    cumulative = float(solution.fixed_weight)
    for rank, (j, gain) in enumerate(zip(solution.chosen, solution.gains, strict=True)):
        column = chosen_cover[:, rank].toarray().ravel() > 0
        new = column & ~covered
        covered |= column
        cumulative += float(gain)
        lon, lat = candidates.geometry.iloc[int(j)].coords[0]
        sites.append(
            CoverageSitePublic(
                lon=round(lon, 6),
                lat=round(lat, 6),
                kind=str(candidates["kind"].iloc[int(j)]),
                rank=rank + 1,
                gain=round(float(gain), 3),
                gain_share=share(float(gain)),
                cumulative_share=share(cumulative),
                problems=shown_count(int(new.sum())),
            )
        )
    request_xy = project([r[3] for r in requested], [r[4] for r in requested])
    request_cover = coverage_matrix(demand, request_xy, radius_m)
    alone_weight = np.asarray(request_cover.T.astype(float) @ weights).ravel()
    alone_count = np.asarray(request_cover.sum(axis=0)).ravel()
    scored = [
        RequestedSiteScorePublic(
            request_id=rid,
            kind=kind,
            status=status,
            lon=lon,
            lat=lat,
            share=share(float(alone_weight[k])),
            problems=shown_count(int(alone_count[k])),
        )
        for k, (rid, kind, status, lon, lat) in enumerate(requested)
    ]
    together = np.asarray(request_cover.sum(axis=1)).ravel() > 0
    return CoverageSuggestionPublic(
        commune_code=area.commune_code or "",
        commune_name=area.name,
        p=p,
        radius_m=radius_m,
        date_from=where.since,
        date_to=where.until,
        problems=len(points),
        synthetic_problems=int(points["synthetic"].sum()),
        total_weight=round(total, 3),
        fixed=[FixedSitePublic(**f.__dict__) for f in fixed],
        fixed_share=share(float(solution.fixed_weight)),
        sites=sites,
        covered_share=share(float(solution.covered_weight)),
        problems_covered=int(covered.sum()),
        method=solution.method,
        optimal=bool(solution.optimal),
        gap=round(float(solution.gap), 5),
        candidates=len(candidates),
        candidate_kind=candidate_kind,
        requested=scored,
        requested_share=share(float(weights[together].sum())),
        seconds=round(float(solution.seconds), 3),
    )
