"""Seeded generator of realistic **synthetic** GPO problems for a territory.

Real GPO records are not public, so the demo and the benchmarks use problems generated
here; every record is flagged synthetic and the pages say so. The model (all rates and
shares are parameters of :class:`SynthModel`, defaults below):

* **Volume.** ``rate_per_1000`` problems per 1 000 inhabitants per year (default 3: the
  ministry reports about 5 000 problems resolved in 921 sectors in seven months, a few a
  month per sector, and many more are raised than resolved).
* **Where: background.** 60 % of problems fall in a unit (an H3 cell) drawn with weight
  ``w = (population + 2·poor households + 3·social housing) · c``, where the centrality
  ``c = 0.5 + 0.5·exp(-d / 2 500 m)`` decreases with the distance ``d`` from the
  territory's population-weighted centre (town centres draw nuisances, parking, public
  drinking); the point is uniform inside the unit.
* **Where: hotspots.** 40 % come from hotspots, about one per 25 problems, placed in units
  drawn with weight ``w · (1 + social housing share)``; each has a dominant category
  (drug dealing, gatherings, rodéos, public drinking, nuisances), an active window of
  3 to 12 months, and scatters its problems around its centre (Gaussian, standard deviation 120 m).
* **What.** Background categories follow :data:`BACKGROUND_MIX`; hotspot ones their
  dominant category 80 % of the time.
* **When.** Uniform over the period, weighted by each category's month profile
  (:data:`SEASONALITY`: rodéos and public drinking in summer, burglaries in winter, no
  school harassment in July and August); a hotspot's problems fall in its window.
* **Shape.** Points mostly; a street segment (80 to 200 m) for some parking and rodéo
  problems; a small square (a hall, a camp, 30 to 60 m) for some gatherings and camps.
* **Life cycle.** The older a problem, the likelier it is closed (``1 - exp(-age / 180
  days)``); closed problems are resolved 85 % of the time. Each step is dated (analysis
  1 to 3 weeks after the report, actions 2 to 6 weeks later, evaluation 2 to 5 months
  later, resolution within a month of it) and never after the end of the period.
  Problems past the analysis get 1 to 3 actions of the types suited to their category;
  evaluated ones an evaluation with before/after report counts.
* **GPOs.** Their fictitious partners and staff (:mod:`geo.synth_partners`), meetings,
  decisions and the actions' statuses and steps (:mod:`geo.synth_gpos`) are made around
  these problems once a sector plan is adopted.
* **Safety-study requests** (:func:`audit_requests`). Communes draw requests in proportion
  to their population; 60 % of sites lie within 50 m of one of the commune's problems
  (``attractors``: communes ask where trouble is), the others within 300 m of the
  commune's point on surface (where town halls, schools and squares are); kinds are drawn
  from :data:`AUDIT_KIND_MIX`. A
  request is filed 5 to 300 days before the end and moves on by 10 to 60 days per step
  (accepted, planned 2 to 8 weeks ahead, carried out, recommendations handed over 2 to 6
  weeks later) as far as the end allows; one in ten is refused after its first step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs
from geo.errors import InvalidInputError

BACKGROUND_MIX: dict[str, float] = {
    "nuisances": 0.22,
    "stationnement": 0.18,
    "rassemblements": 0.12,
    "stupefiants": 0.10,
    "cambriolages": 0.08,
    "alcoolisation": 0.08,
    "rodeos": 0.07,
    "scolaire": 0.05,
    "transports": 0.05,
    "campements": 0.03,
    "autre": 0.02,
}
HOTSPOT_MIX: dict[str, float] = {
    "stupefiants": 0.30,
    "rassemblements": 0.25,
    "nuisances": 0.20,
    "alcoolisation": 0.15,
    "rodeos": 0.10,
}
_SUMMER = {5: 1.4, 6: 1.7, 7: 1.9, 8: 1.8, 9: 1.3, 12: 0.5, 1: 0.4, 2: 0.5}
SEASONALITY: dict[str, dict[int, float]] = {
    "rodeos": _SUMMER,
    "alcoolisation": {6: 1.5, 7: 1.6, 8: 1.5, 12: 1.2, 1: 0.7, 2: 0.7},
    "rassemblements": {6: 1.3, 7: 1.4, 8: 1.3, 1: 0.8, 2: 0.8},
    "cambriolages": {11: 1.4, 12: 1.5, 1: 1.4, 6: 0.8, 7: 0.9},
    "scolaire": {7: 0.0, 8: 0.0, 9: 1.3, 10: 1.2},
}
TITLES: dict[str, tuple[str, ...]] = {
    "stupefiants": ("Point de deal", "Trafic au pied d'immeuble", "Guetteurs en bas de tour"),
    "rassemblements": ("Rassemblement dans un hall", "Regroupement sur un square"),
    "nuisances": ("Nuisances sonores nocturnes", "Dégradations répétées", "Tags et incivilités"),
    "rodeos": ("Rodéos urbains", "Deux-roues motorisés sur un parking"),
    "alcoolisation": ("Alcoolisation sur la voie publique", "Regroupement alcoolisé"),
    "stationnement": ("Stationnement anarchique", "Vitesse excessive", "Véhicules ventouses"),
    "scolaire": ("Harcèlement aux abords d'un collège", "Rixes à la sortie du lycée"),
    "cambriolages": ("Série de cambriolages", "Cambriolages de caves"),
    "campements": ("Campement illicite", "Occupation d'un terrain"),
    "transports": ("Incivilités dans le bus", "Agressions à un arrêt", "Fraude sur une ligne"),
    "autre": ("Problématique diverse",),
}
ACTIONS_FOR: dict[str, tuple[str, ...]] = {
    "stupefiants": ("enquete", "patrouilles", "parties_communes", "videoprotection"),
    "rassemblements": ("patrouilles", "parties_communes", "neutralisation", "suivi_social"),
    "nuisances": ("patrouilles", "arrete_municipal", "prevention"),
    "rodeos": ("patrouilles", "enquete", "neutralisation", "arrete_municipal"),
    "alcoolisation": ("arrete_municipal", "patrouilles", "suivi_social"),
    "stationnement": ("vehicules", "arrete_municipal", "patrouilles"),
    "scolaire": ("prevention", "suivi_social", "patrouilles"),
    "cambriolages": ("patrouilles", "enquete", "prevention", "videoprotection"),
    "campements": ("arrete_municipal", "suivi_social", "encombrants"),
    "transports": ("patrouilles", "videoprotection", "prevention"),
    "autre": ("patrouilles", "prevention"),
}
REPORTER_FOR: dict[str, tuple[str, ...]] = {
    "stupefiants": ("bailleur_social", "mairie", "habitants"),
    "rassemblements": ("bailleur_social", "mairie"),
    "nuisances": ("mairie", "habitants", "police_municipale"),
    "rodeos": ("mairie", "police_municipale"),
    "alcoolisation": ("mairie", "commercant", "police_municipale"),
    "stationnement": ("police_municipale", "mairie"),
    "scolaire": ("education_nationale",),
    "cambriolages": ("mairie", "habitants"),
    "campements": ("mairie",),
    "transports": ("transporteur",),
    "autre": ("mairie",),
}


@dataclass(frozen=True)
class SynthModel:
    """Parameters of the generator (see the module docstring)."""

    rate_per_1000: float = 3.0
    hotspot_share: float = 0.4
    problems_per_hotspot: float = 25.0
    hotspot_sigma_m: float = 120.0
    centrality_scale_m: float = 2500.0
    background_mix: dict[str, float] = field(default_factory=lambda: dict(BACKGROUND_MIX))
    hotspot_mix: dict[str, float] = field(default_factory=lambda: dict(HOTSPOT_MIX))


@dataclass(frozen=True)
class SyntheticProblems:
    """``problems``: one row per problem (EPSG:4326) with ``category``, ``title``,
    ``description``, ``reported_on``, ``status``, ``priority``, ``reporter_type``;
    ``events``: ``problem`` (row position), ``status``, ``on``; ``actions``: ``problem``,
    ``type``, ``start_on``, ``due_on``, ``status``; ``evaluations``: ``problem``,
    ``evaluated_on``, ``outcome``, ``before``, ``after``."""

    problems: gpd.GeoDataFrame
    events: pd.DataFrame
    actions: pd.DataFrame
    evaluations: pd.DataFrame


def _weights(cells: gpd.GeoDataFrame, model: SynthModel) -> tuple[np.ndarray, np.ndarray]:
    col = lambda name: cells[name].to_numpy(float) if name in cells else np.zeros(len(cells))  # noqa: E731
    population = col("population")
    base = population + 2 * col("poor_households") + 3 * col("social_housing")
    metric = cells.geometry.to_crs(metric_crs(cells))
    xy = shapely.get_coordinates(metric.centroid.to_numpy())
    centre = np.average(xy, axis=0, weights=population) if population.sum() > 0 else xy.mean(0)
    distance = np.linalg.norm(xy - centre, axis=1)
    weight = base * (0.5 + 0.5 * np.exp(-distance / model.centrality_scale_m))
    social_share = np.divide(col("social_housing"), np.maximum(col("households"), 1.0), where=True)
    return weight, weight * (1 + np.clip(social_share, 0, 1))


def _points_in(cells: gpd.GeoSeries, picks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform random point (metric CRS) inside each picked cell (rejection sampling)."""
    geoms = cells.to_numpy()
    out = np.empty((len(picks), 2))
    todo = np.arange(len(picks))
    bounds = shapely.bounds(geoms)
    while len(todo):
        b = bounds[picks[todo]]
        x = rng.uniform(b[:, 0], b[:, 2])
        y = rng.uniform(b[:, 1], b[:, 3])
        inside = shapely.contains_xy(geoms[picks[todo]], x, y)
        out[todo[inside]] = np.c_[x[inside], y[inside]]
        todo = todo[~inside]
    return out


def _month_weights(start: date, days: int, category: str) -> np.ndarray:
    profile = SEASONALITY.get(category, {})
    months = [(start + timedelta(days=d)).month for d in range(days)]
    return np.array([profile.get(m, 1.0) for m in months])


def _choice(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = list(mix)
    p = np.array([mix[k] for k in keys], dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def generate(
    cells: gpd.GeoDataFrame,
    *,
    start: date,
    end: date,
    rng: np.random.Generator,
    model: SynthModel | None = None,
    count: int | None = None,
    life_cycles: bool = True,
) -> SyntheticProblems:
    """Synthetic problems over the units ``cells`` (polygons with ``population`` and,
    when known, ``households``, ``poor_households``, ``social_housing``) reported between
    ``start`` and ``end``; ``count`` overrides the volume given by the model's rate.
    Without ``life_cycles`` every problem is just reported (fast: for benchmarks)."""
    model = model or SynthModel()
    if end <= start:
        raise InvalidInputError("period_end_before_start", field="period", start=start, end=end)
    if not len(cells):
        raise InvalidInputError("synth_no_cells", field="cells")
    days = (end - start).days
    population = float(cells["population"].sum()) if "population" in cells else 0.0
    if count is None:
        count = round(model.rate_per_1000 * population / 1000 * days / 365.25)
    background_w, hotspot_w = _weights(cells, model)
    if background_w.sum() <= 0:  # no population data: area decides
        background_w = hotspot_w = np.ones(len(cells))
    metric_cells = cells.geometry.to_crs(metric_crs(cells))

    n_hot = round(count * model.hotspot_share)
    n_bg = count - n_hot
    # background problems
    picks = rng.choice(len(cells), size=n_bg, p=background_w / background_w.sum())
    xy_bg = _points_in(metric_cells, picks, rng)
    cat_bg = _choice(rng, model.background_mix, n_bg)
    day_bg = np.empty(n_bg, dtype=int)
    for category in np.unique(cat_bg):
        rows = np.flatnonzero(cat_bg == category)
        w = _month_weights(start, days, str(category))
        day_bg[rows] = rng.choice(days, size=len(rows), p=w / w.sum())
    # hotspots
    hotspots = max(1, round(n_hot / model.problems_per_hotspot)) if n_hot else 0
    centres = _points_in(
        metric_cells, rng.choice(len(cells), size=hotspots, p=hotspot_w / hotspot_w.sum()), rng
    )
    dominant = _choice(rng, model.hotspot_mix, hotspots)
    window_len = rng.integers(90, 366, size=hotspots)
    window_start = rng.integers(0, np.maximum(1, days - window_len), size=hotspots)
    member = rng.integers(0, max(hotspots, 1), size=n_hot)
    xy_hot = centres[member] + rng.normal(0, model.hotspot_sigma_m, size=(n_hot, 2))
    # a problem scattered out of the territory (over its border) stays at its hotspot
    territory = shapely.coverage_union_all(metric_cells.to_numpy())
    outside = ~shapely.contains_xy(territory, xy_hot[:, 0], xy_hot[:, 1])
    xy_hot[outside] = centres[member[outside]]
    cat_hot = np.where(
        rng.random(n_hot) < 0.8, dominant[member], _choice(rng, model.background_mix, n_hot)
    )
    day_hot = np.minimum(
        days - 1, window_start[member] + rng.integers(0, window_len[member], size=n_hot)
    )

    xy = np.r_[xy_bg, xy_hot]
    category = np.r_[cat_bg, cat_hot].astype(str)
    day = np.r_[day_bg, day_hot]
    order = np.argsort(day, kind="stable")
    xy, category, day = xy[order], category[order], day[order]
    n = len(xy)
    geometry = _shapes(xy, category, rng)
    crs = metric_crs(cells)
    reported = np.array([start + timedelta(days=int(d)) for d in day])
    titles = np.array([TITLES[c][rng.integers(len(TITLES[c]))] for c in category])
    priority = np.where(
        rng.random(n) < np.where(category == "stupefiants", 0.4, 0.2),
        "haute",
        np.where(rng.random(n) < 0.75, "normale", "basse"),
    )
    reporter = np.array([REPORTER_FOR[c][rng.integers(len(REPORTER_FOR[c]))] for c in category])
    problems = gpd.GeoDataFrame(
        {
            "category": category,
            "title": titles,
            "description": "Problématique synthétique générée pour la démonstration "
            "(aucune donnée réelle).",
            "reported_on": reported,
            "priority": priority,
            "reporter_type": reporter,
        },
        geometry=geometry,
        crs=crs,
    ).to_crs(4326)
    if not life_cycles:
        problems["status"] = "signale"
        events = pd.DataFrame({"problem": np.arange(n), "status": "signale", "on": reported})
        empty = pd.DataFrame()
        return SyntheticProblems(problems, events, empty, empty)
    status, events, actions, evaluations = _life_cycles(reported, category, end, rng)
    problems["status"] = status
    return SyntheticProblems(problems, events, actions, evaluations)


def _shapes(xy: np.ndarray, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Points, street segments (parking, rodéos) and small squares (halls, camps)."""
    n = len(xy)
    u = rng.random(n)
    line = np.isin(category, ["stationnement", "rodeos"]) & (u < 0.4)
    square = ((category == "rassemblements") & (u < 0.3)) | ((category == "campements") & (u < 0.6))
    geoms = shapely.points(xy)
    if line.any():
        length = rng.uniform(80, 200, size=int(line.sum()))
        angle = rng.uniform(0, math.pi, size=int(line.sum()))
        d = np.c_[np.cos(angle), np.sin(angle)] * (length / 2)[:, None]
        ends = np.stack([xy[line] - d, xy[line] + d], axis=1)
        geoms[line] = shapely.linestrings(ends)
    if square.any():
        half = rng.uniform(15, 30, size=int(square.sum()))
        c = xy[square]
        geoms[square] = shapely.box(c[:, 0] - half, c[:, 1] - half, c[:, 0] + half, c[:, 1] + half)
    return geoms


_STEPS = ("analyse", "actions_en_cours", "evalue", "resolu")
_DELAYS = ((7, 21), (14, 45), (60, 150), (7, 30))  # days after the previous step


def _life_cycles(
    reported: np.ndarray, category: np.ndarray, end: date, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Status, dated steps, actions and evaluations of each problem (see the docstring)."""
    events: list[tuple[int, str, date]] = []
    actions: list[tuple[int, str, date, date, str]] = []
    evaluations: list[tuple[int, date, str, int, int]] = []
    status = np.empty(len(reported), dtype=object)
    for i, (on, cat) in enumerate(zip(reported, category, strict=True)):
        events.append((i, "signale", on))
        age = (end - on).days
        closed = rng.random() < 1 - math.exp(-age / 180)
        target = ("resolu" if rng.random() < 0.85 else "clos_sans_suite") if closed else None
        stop = 4 if target == "resolu" else int(rng.integers(0, 4))
        current, day = "signale", on
        for step, (lo, hi) in zip(_STEPS[:stop], _DELAYS, strict=False):
            nxt = day + timedelta(days=int(rng.integers(lo, hi + 1)))
            if nxt >= end:
                break
            day, current = nxt, step
            events.append((i, step, day))
            if step == "actions_en_cours":
                kinds = ACTIONS_FOR[cat]
                size = min(len(kinds), int(rng.integers(1, 4)))
                for kind in rng.choice(len(kinds), size=size, replace=False):
                    due = day + timedelta(days=int(rng.integers(30, 91)))
                    actions.append((i, kinds[kind], day, due, "en_cours"))
            if step == "evalue":
                before = int(rng.integers(3, 15))
                after = int(rng.integers(0, max(1, before // 2) + 1))
                outcome = "positif" if after <= before // 3 else "partiel"
                evaluations.append((i, day, outcome, before, after))
        if target == "clos_sans_suite" and current not in ("evalue",):
            close = day + timedelta(days=int(rng.integers(7, 60)))
            if close < end:
                current = "clos_sans_suite"
                events.append((i, current, close))
        status[i] = current
    action_table = pd.DataFrame(
        actions, columns=["problem", "type", "start_on", "due_on", "status"]
    )
    if len(action_table):  # actions of problems past their evaluation are done
        finished = pd.Series(status)[action_table["problem"]].isin(["evalue", "resolu"]).to_numpy()
        action_table.loc[finished, "status"] = "realisee"
    return (
        status,
        pd.DataFrame(events, columns=["problem", "status", "on"]),
        action_table,
        pd.DataFrame(
            evaluations, columns=["problem", "evaluated_on", "outcome", "before", "after"]
        ),
    )


AUDIT_KIND_MIX: dict[str, float] = {
    "videoprotection": 0.40,
    "espace_public": 0.20,
    "batiment_communal": 0.15,
    "etablissement_scolaire": 0.15,
    "evenement": 0.10,
}
AUDIT_NEEDS: dict[str, str] = {
    "videoprotection": "Projet d'implantation de caméras de vidéoprotection sur la voie "
    "publique : rassemblements et dégradations signalés par les riverains.",
    "espace_public": "Sécurisation d'une place et de ses abords : occupation nocturne, "
    "consommation d'alcool, sentiment d'insécurité des habitants.",
    "batiment_communal": "Diagnostic de sûreté de la mairie et des ateliers municipaux "
    "après plusieurs intrusions.",
    "etablissement_scolaire": "Sécurisation des accès d'un groupe scolaire (plan "
    "particulier de mise en sûreté).",
    "evenement": "Fête de la commune : périmètre, accès des secours, dispositif de "
    "sécurité à définir.",
}
#: Fictitious référents sûreté of the demo (no real person).
SYNTHETIC_REFERENTS: tuple[tuple[str, str, str], ...] = (
    ("Cne Claire Morel (fictive)", "referent", "Capitaine"),
    ("Maj. Julien Roche (fictif)", "referent", "Major"),
    ("Bcp Sonia Perrin (fictive)", "correspondant", "Brigadier-chef"),
)


@dataclass(frozen=True)
class SyntheticRequest:
    commune_code: str
    kind: str
    lon: float
    lat: float
    requested_on: date
    #: the steps after ``demandee``: (status, date, planned date or None)
    steps: list[tuple[str, date, date | None]]


def audit_requests(
    communes: gpd.GeoDataFrame,
    *,
    end: date,
    rng: np.random.Generator,
    count: int = 12,
    attractors: np.ndarray | None = None,
) -> list[SyntheticRequest]:
    """Synthetic safety-study requests of ``communes`` (columns ``code``, ``population``,
    WGS84 polygons) filed before ``end``, near ``attractors`` (lon/lat of problems) for
    most of them (see the module docstring)."""
    if count < 0:
        raise InvalidInputError(
            "parameter_expected", name="count", expected="au moins 0", got=count
        )
    if not len(communes) or count == 0:
        return []
    crs = metric_crs(communes)
    metric = communes.to_crs(crs)
    weight = communes["population"].fillna(0).to_numpy(dtype=float) + 1.0
    picks = rng.choice(len(communes), size=count, p=weight / weight.sum())
    kinds = list(AUDIT_KIND_MIX)
    mix = np.array([AUDIT_KIND_MIX[k] for k in kinds])
    near = np.empty((0, 2))
    if attractors is not None and len(attractors):
        near = np.column_stack(
            gpd.GeoSeries(shapely.points(attractors), crs=4326).to_crs(crs).get_coordinates().T
        )
    sites = []
    for i in picks:
        outline = metric.geometry.iloc[i]
        inner = outline.buffer(-30)
        centre = shapely.point_on_surface(outline)
        radius = 300.0
        if len(near) and rng.random() < 0.6:
            mine = near[shapely.contains_xy(inner, near[:, 0], near[:, 1])]
            if len(mine):
                centre = shapely.Point(mine[rng.integers(len(mine))])
                radius = 50.0
        site = centre
        for _ in range(50):
            r, a = radius * math.sqrt(rng.random()), 2 * math.pi * rng.random()
            candidate = shapely.Point(centre.x + r * math.cos(a), centre.y + r * math.sin(a))
            if inner.contains(candidate):
                site = candidate
                break
        sites.append(site)
    lonlat = gpd.GeoSeries(sites, crs=crs).to_crs(4326)
    requests = []
    for i, point in zip(picks, lonlat, strict=True):
        requested = end - timedelta(days=int(rng.integers(5, 301)))
        steps: list[tuple[str, date, date | None]] = []
        day = requested
        for status in ("acceptee", "planifiee", "realisee", "preconisations_remises"):
            day += timedelta(days=int(rng.integers(10, 61)))
            if status == "realisee" and steps[-1][2] is not None:
                day = max(day, steps[-1][2])  # carried out on or after its planned date
            if day > end:
                break
            if len(steps) == 1 and rng.random() < 0.1:
                steps.append(("refusee", day, None))
                break
            planned = (
                day + timedelta(days=int(rng.integers(14, 57))) if status == "planifiee" else None
            )
            steps.append((status, day, planned))
        requests.append(
            SyntheticRequest(
                commune_code=str(communes["code"].iloc[i]),
                kind=str(rng.choice(kinds, p=mix)),
                lon=round(point.x, 6),
                lat=round(point.y, 6),
                requested_on=requested,
                steps=steps,
            )
        )
    return requests
