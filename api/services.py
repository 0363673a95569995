"""Use cases shared by the CLI and the app: database set-up and territory import."""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.cluster import LocalCluster
from api.config import Settings
from api.db import make_engine, make_session_factory, migrate, transaction
from api.editors import EditorCache
from api.models import (
    AuditRequest,
    Commune,
    Csp,
    Gpo,
    Grid,
    Meeting,
    Partner,
    Problem,
    Referent,
    csp_commune,
)
from api.models import Layer as LayerRow
from api.repositories.audits import (
    create_audit_request,
    create_referent,
    transition_audit_request,
)
from api.repositories.editing import edit_plan, require_working_copy
from api.repositories.grid import build_grid
from api.repositories.layers import create_layer, replace_qpv_list, territory
from api.repositories.plans import (
    adopt_plan,
    load_sector_plan,
    load_unit_graph,
    save_plan,
    seed_points,
)
from api.repositories.problems import csp_outline, insert_problems
from api.repositories.territory import ImportReport, import_territory
from api.schemas import (
    AuditRequestCreate,
    AuditTransition,
    GridPublic,
    PlanCreate,
    PlanEdit,
    ReferentCreate,
    Units,
)
from geo.editing import reoptimise
from geo.errors import InvalidInputError, NotFoundError
from geo.grid import DEFAULT_CROSSING_DISTANCE, PROBLEMS
from geo.layers import prepare_layer
from geo.plan import SectorPlan, UnitGraph, plan_from_polygons
from geo.problem_files import check_inside, read_problem_file
from geo.problems import PARTNER_TYPES
from geo.sectorize import CutCosts, RegionGrowth, Sectorizer, WholeCommunes
from geo.sectorize.base import Progress, no_progress
from geo.synth import AUDIT_NEEDS, SYNTHETIC_REFERENTS, audit_requests, generate, meetings
from geo.territory import CommuneLayer, read_communes, read_vector


def local_cluster(settings: Settings) -> LocalCluster:
    return LocalCluster(settings.var_dir / "postgres", port=settings.local_db_port)


def database_url(settings: Settings) -> str:
    """``DATABASE_URL`` when set, else the local cluster's, started if needed."""
    return settings.database_url or local_cluster(settings).start()


def import_layer(
    *,
    factory: sessionmaker[Session],
    layer: CommuneLayer,
    csp_name: str,
    csp_code: str | None = None,
    commune_codes: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a validated commune layer and its CSP in one transaction (all or nothing)."""
    with transaction(factory) as session:
        return import_territory(
            session=session,
            layer=layer,
            csp_name=csp_name,
            csp_code=csp_code,
            csp_communes=commune_codes,
            progress=progress,
        )


def import_layer_file(
    *,
    factory: sessionmaker[Session],
    path: Path,
    kind: str,
    name: str,
    source: str | None = None,
    default_class: str | None = None,
    crs: str | None = None,
) -> LayerRow:
    """Read, validate (against the communes in the database) and store a layer, all or
    nothing; ``crs`` is the CRS of its coordinates when the file's own is missing or wrong."""
    gdf = read_vector(path)
    label = source or path.name
    default_class = (default_class or "").strip() or None  # an empty form field is no class
    with transaction(factory) as session:
        layer = prepare_layer(
            gdf,
            kind,
            territory=territory(session=session),
            source=label,
            default_class=default_class,
            crs=crs,
        )
        return create_layer(session=session, name=name, source=label, layer=layer)


def import_qpv_list(*, factory: sessionmaker[Session], path: Path) -> int:
    """Record a QPV list per commune (CSV: code_qp, lib_qp, insee_com), all or nothing."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        expected = {"code_qp", "lib_qp", "insee_com"}
        if reader.fieldnames is None or not expected <= set(reader.fieldnames):
            raise InvalidInputError(
                f"{path.name}: expected columns {', '.join(sorted(expected))}, "
                f"found {', '.join(reader.fieldnames or [])}"
            )
        rows = [(r["insee_com"].strip(), r["code_qp"].strip(), r["lib_qp"].strip()) for r in reader]
    with transaction(factory) as session:
        return replace_qpv_list(session=session, rows=rows)


def build_csp_grid(
    *,
    factory: sessionmaker[Session],
    csp_id: int,
    resolution: int,
    units: Units = "h3",
    weights: dict[str, float] | None = None,
    crossing_distance_m: float = DEFAULT_CROSSING_DISTANCE,
) -> GridPublic:
    with transaction(factory) as session:
        return build_grid(
            session=session,
            csp_id=csp_id,
            resolution=resolution,
            units=units,
            weights=weights,
            crossing_distance_m=crossing_distance_m,
        )


def make_sectorizer(plan_in: PlanCreate, seeds: list[str]) -> Sectorizer:
    """The algorithm and its parameters for a proposal request."""
    if plan_in.method == "communes":
        return WholeCommunes(
            plan_in.k, target_workload=plan_in.target_workload, tolerance=plan_in.tolerance
        )
    return RegionGrowth(
        plan_in.k,
        target_workload=plan_in.target_workload,
        tolerance=plan_in.tolerance,
        whole_commune_population=plan_in.whole_commune_population,
        seeds=seeds,
        locked=plan_in.locked,
        costs=CutCosts(
            compactness=plan_in.compactness,
            commune_cohesion=plan_in.commune_cohesion,
            barrier=plan_in.barrier_preference,
        ),
    )


def propose_plan(
    *,
    factory: sessionmaker[Session],
    csp_id: int,
    plan_in: PlanCreate,
    progress: Progress = no_progress,
) -> tuple[int, SectorPlan]:
    """Run a proposal on the CSP's grid and store it as a draft; returns its id."""
    with factory() as session:
        graph = load_unit_graph(
            session=session,
            csp_id=csp_id,
            resolution=plan_in.resolution,
            units=plan_in.units,
            weights=plan_in.weights,
        )
        points = [
            *plan_in.seeds,
            *seed_points(session=session, csp_id=csp_id, types=plan_in.seed_point_types),
        ]
    seeds = graph.locate(points)
    plan = make_sectorizer(plan_in, seeds).solve(
        graph, rng=np.random.default_rng(plan_in.seed), progress=progress
    )
    label = "Découpage par communes entières" if plan_in.method == "communes" else "Proposition"
    with transaction(factory) as session:
        row = save_plan(
            session=session,
            csp_id=csp_id,
            resolution=plan_in.resolution,
            units=plan_in.units,
            plan=plan,
            name=plan_in.name or f"{label} — {plan.k} secteurs",
            origin="communes" if plan_in.method == "communes" else "engine",
            parameters=plan_in.model_dump(mode="json", exclude={"name"})
            | {"seed_units": seeds}
            | _problems_counted(graph),
        )
        return row.id, plan


def _problems_counted(graph: UnitGraph) -> dict[str, int]:
    """How many recorded problems a proposal weighted (they change after it), if any."""
    if PROBLEMS not in graph.units:
        return {}
    return {"problems_counted": int(graph.units[PROBLEMS].sum())}


def reoptimise_plan(
    *,
    factory: sessionmaker[Session],
    plan_id: int,
    version: int,
    progress: Progress = no_progress,
) -> int:
    """Redraw the unlocked sectors of a working copy with the engine and the parameters
    of the plan it came from, and store the result as one edit (a new version)."""
    with factory() as session:
        row = require_working_copy(session=session, plan_id=plan_id, version=version)
        plan = load_sector_plan(session=session, plan=row)
        locked = list(row.locked_sectors or [])
        known = PlanCreate.model_fields
        params = {k: v for k, v in (row.parameters or {}).items() if k in known}
        seed = int(params.get("seed", 0))
    base = PlanCreate(**{**params, "method": "engine", "k": 1, "target_workload": None})

    def make(k: int, seeds: list[str]) -> Sectorizer:
        return make_sectorizer(base.model_copy(update={"k": k, "locked": {}}), seeds)

    redrawn = reoptimise(plan, locked, make, rng=np.random.default_rng(seed), progress=progress)
    units = plan.graph.units["unit"].astype(str).tolist()
    moves = {
        units[i]: int(s)
        for i, s in enumerate(redrawn.assignment.tolist())
        if s != plan.assignment[i]
    }
    with transaction(factory) as session:
        if moves:
            edit_plan(
                session=session,
                cache=EditorCache(size=1),  # the app's cache sees the new version and reloads
                plan_id=plan_id,
                edit=PlanEdit(version=version, assignments=moves),
            )
        now = version + 1 if moves else version
        stored = require_working_copy(session=session, plan_id=plan_id, version=now)
        stored.notes = [*(stored.notes or []), redrawn.notes[-1]]
    return plan_id


def score_sector_layer(
    *,
    factory: sessionmaker[Session],
    csp_id: int,
    sectors: gpd.GeoDataFrame,
    resolution: int,
    name: str,
    source: str,
    save: bool = True,
    units: Units = "h3",
) -> tuple[int | None, SectorPlan]:
    """Turn an existing sector layer into a plan on the CSP's cells, score it, and store it
    (as a draft of origin ``import``) unless ``save`` is false."""
    with factory() as session:
        graph = load_unit_graph(session=session, csp_id=csp_id, resolution=resolution, units=units)
    plan = plan_from_polygons(graph, sectors)
    if not save:
        return None, plan
    with transaction(factory) as session:
        row = save_plan(
            session=session,
            csp_id=csp_id,
            resolution=resolution,
            units=units,
            plan=plan,
            name=name,
            origin="import",
            parameters={"source": source},
        )
        return row.id, plan


def read_codes_csv(path: Path) -> list[str]:
    """The ``code_insee`` column of a CSV file."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "code_insee" not in reader.fieldnames:
            raise InvalidInputError(
                f"{path.name}: expected a 'code_insee' column, found {reader.fieldnames}"
            )
        return [row["code_insee"].strip() for row in reader if row["code_insee"].strip()]


@dataclass(frozen=True)
class DemoCsp:
    name: str
    code: str
    commune_codes: list[str]
    sectors: int | None = None  # a proposal of this many sectors is adopted


@dataclass(frozen=True)
class DemoLayer:
    name: str
    kind: str
    path: Path


@dataclass(frozen=True)
class DemoTerritory:
    communes: Path
    csps: list[DemoCsp]
    layers: list[DemoLayer]
    qpv_list: Path | None
    grid_resolution: int
    synthetic_problem_years: float = 0.0
    synthetic_seed: int = 0


def read_demo_manifest(demo_dir: Path) -> DemoTerritory:
    manifest = demo_dir / "demo.toml"
    data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    return DemoTerritory(
        communes=demo_dir / data["communes"],
        csps=[
            DemoCsp(
                name=c["name"],
                code=c["code"],
                commune_codes=read_codes_csv(demo_dir / c["communes"]),
                sectors=int(c["sectors"]) if "sectors" in c else None,
            )
            for c in data["csp"]
        ],
        layers=[
            DemoLayer(name=lay["name"], kind=lay["kind"], path=demo_dir / lay["file"])
            for lay in data.get("layer", [])
        ],
        qpv_list=demo_dir / data["qpv_list"] if "qpv_list" in data else None,
        grid_resolution=int(data.get("grid_resolution", 9)),
        synthetic_problem_years=float(data.get("synthetic_problem_years", 0)),
        synthetic_seed=int(data.get("synthetic_seed", 0)),
    )


def has_territory(engine: Engine) -> bool:
    with Session(engine) as session:
        return bool(session.scalar(select(func.count()).select_from(Csp)))


def load_demo(
    *,
    factory: sessionmaker[Session],
    demo_dir: Path,
    progress: Callable[[int], None] | None = None,
    adopt: bool = True,
) -> list[ImportReport]:
    """Import the demo territory described by ``demo_dir/demo.toml``: communes, layers,
    grids, synthetic problems and, when ``adopt``, an adopted sector plan per CSP whose
    GPOs get synthetic meetings."""
    demo = read_demo_manifest(demo_dir)
    communes = read_communes(demo.communes)
    reports = [
        import_layer(
            factory=factory,
            layer=communes,
            csp_name=csp.name,
            csp_code=csp.code,
            commune_codes=csp.commune_codes,
            progress=progress,
        )
        for csp in demo.csps
    ]
    for layer in demo.layers:
        import_layer_file(factory=factory, path=layer.path, kind=layer.kind, name=layer.name)
    if demo.qpv_list is not None:
        import_qpv_list(factory=factory, path=demo.qpv_list)
    end = date.today()
    start = end - timedelta(days=round(365.25 * demo.synthetic_problem_years))
    for csp, report in zip(demo.csps, reports, strict=True):
        build_csp_grid(factory=factory, csp_id=report.csp_id, resolution=demo.grid_resolution)
        if demo.synthetic_problem_years > 0:
            load_synthetic_problems(
                factory=factory,
                csp_id=report.csp_id,
                start=start,
                end=end,
                seed=demo.synthetic_seed,
            )
        if adopt and csp.sectors:
            plan_in = PlanCreate(k=csp.sectors, resolution=demo.grid_resolution, seed=0)
            plan_id, _ = propose_plan(factory=factory, csp_id=report.csp_id, plan_in=plan_in)
            with transaction(factory) as session:
                adopt_plan(session=session, plan_id=plan_id)
            if demo.synthetic_problem_years > 0:
                load_synthetic_audits(
                    factory=factory, csp_id=report.csp_id, end=end, seed=demo.synthetic_seed
                )
                load_synthetic_meetings(
                    factory=factory,
                    csp_id=report.csp_id,
                    start=start,
                    end=end,
                    seed=demo.synthetic_seed,
                )
    return reports


def prepare_database(settings: Settings, *, demo: bool = True) -> str:
    """Resolve the database, apply migrations, load the demo territory if empty."""
    url = database_url(settings)
    migrate(url)
    if demo:
        engine = make_engine(url)
        try:
            if not has_territory(engine):
                load_demo(factory=make_session_factory(engine), demo_dir=settings.demo_dir)
        finally:
            engine.dispose()
    return url


def load_synthetic_problems(
    *,
    factory: sessionmaker[Session],
    csp_id: int,
    start: date,
    end: date,
    seed: int = 0,
    count: int | None = None,
) -> int:
    """Generate synthetic problems for the CSP (:mod:`geo.synth`, on its finest-known
    grid's cells) and store them, flagged synthetic, with synthetic reporting partners."""
    with factory() as session:
        resolution = session.scalar(
            select(Grid.resolution)
            .where(Grid.csp_id == csp_id, Grid.units == "h3")
            .order_by(Grid.resolution)
        )
        if resolution is None:
            raise NotFoundError(f"CSP {csp_id} has no grid: build one first (psq grid build)")
        units = load_unit_graph(session=session, csp_id=csp_id, resolution=resolution).units
    synthetic = generate(units, start=start, end=end, rng=np.random.default_rng(seed), count=count)
    with transaction(factory) as session:
        partner_ids = {}
        for kind in sorted(set(synthetic.problems["reporter_type"])):
            partner = Partner(
                csp_id=csp_id,
                organisation=f"{PARTNER_TYPES[kind]} (fictif)",
                type=kind,
                synthetic=True,
            )
            session.add(partner)
            session.flush()
            partner_ids[kind] = partner.id
        return insert_problems(
            session=session,
            csp_id=csp_id,
            problems=synthetic.problems,
            synthetic=True,
            events=synthetic.events,
            actions=synthetic.actions,
            evaluations=synthetic.evaluations,
            partner_ids=partner_ids,
        )


def load_synthetic_meetings(
    *, factory: sessionmaker[Session], csp_id: int, start: date, end: date, seed: int = 0
) -> int:
    """Synthetic meetings (:func:`geo.synth.meetings`) for every active GPO of the CSP,
    flagged synthetic; returns their number."""
    rng = np.random.default_rng(seed)
    with transaction(factory) as session:
        gpos = session.scalars(
            select(Gpo).where(Gpo.csp_id == csp_id, Gpo.active).order_by(Gpo.id)
        ).all()
        rows = [
            Meeting(
                gpo_id=gpo.id,
                held_on=day,
                attendees=[PARTNER_TYPES[t] for t in attendees],
                notes="Réunion fictive (données synthétiques de démonstration).",
                synthetic=True,
            )
            for gpo in gpos
            for day, attendees in meetings(start, end, gpo.cadence_days, rng)
        ]
        session.add_all(rows)
        return len(rows)


def load_synthetic_audits(
    *, factory: sessionmaker[Session], csp_id: int, end: date, seed: int = 0, count: int = 12
) -> int:
    """Synthetic référents and safety-study requests (:func:`geo.synth.audit_requests`)
    for the CSP, filed and moved through their steps by the same checks as real ones,
    flagged synthetic; returns the number of requests."""
    with factory() as session:
        rows = session.execute(
            select(Commune.code, Commune.population, func.ST_AsBinary(Commune.geom))
            .join(csp_commune, csp_commune.c.commune_code == Commune.code)
            .where(csp_commune.c.csp_id == csp_id)
            .order_by(Commune.code)
        ).all()
    communes = gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "population": [r[1] for r in rows]},
        geometry=gpd.GeoSeries.from_wkb([bytes(r[2]) for r in rows], crs=4326),
    )
    with factory() as session:
        problems = np.array(
            session.execute(
                select(func.ST_X(Problem.anchor), func.ST_Y(Problem.anchor)).where(
                    Problem.csp_id == csp_id, Problem.reported_on > end - timedelta(days=365)
                )
            ).all(),
            dtype=float,
        ).reshape(-1, 2)
    requests = audit_requests(
        communes, end=end, rng=np.random.default_rng(seed), count=count, attractors=problems
    )
    with transaction(factory) as session:
        referent_ids = [
            create_referent(
                session=session,
                csp_id=csp_id,
                referent_in=ReferentCreate(name=name, role=role, grade=grade),
            )
            for name, role, grade in SYNTHETIC_REFERENTS
        ]
        session.execute(
            update(Referent).where(Referent.id.in_(referent_ids)).values(synthetic=True)
        )
        filed = []
        for k, r in enumerate(requests):
            request_id = create_audit_request(
                session=session,
                request_in=AuditRequestCreate(
                    commune_code=r.commune_code,
                    kind=r.kind,
                    site={"type": "Point", "coordinates": [r.lon, r.lat]},
                    site_name=f"Site fictif n° {k + 1}",
                    need=AUDIT_NEEDS[r.kind],
                    contact_name="Contact fictif en mairie",
                    contact_email=f"securite@mairie-{r.commune_code}.example",
                    confirm_duplicate=True,
                ),
                requested_on=r.requested_on,
            )
            filed.append(request_id)
            for status, on, planned_on in r.steps:
                transition_audit_request(
                    session=session,
                    request_id=request_id,
                    step=AuditTransition(
                        status=status,
                        on=on,
                        planned_on=planned_on,
                        referent_id=referent_ids[k % len(referent_ids)]
                        if status == "planifiee"
                        else None,
                        reason="Demande hors du champ des études de sûreté (fictif)."
                        if status == "refusee"
                        else None,
                        recommendations="Préconisations fictives remises en mairie."
                        if status == "preconisations_remises"
                        else None,
                    ),
                )
        session.execute(
            update(AuditRequest).where(AuditRequest.csp_id == csp_id).values(synthetic=True)
        )
    return len(requests)


def import_problem_file(
    *, factory: sessionmaker[Session], csp_id: int, path: Path, filename: str | None = None
) -> int:
    """Import problems from a CSV or GeoJSON file, all or nothing: every bad row is named
    (:class:`geo.problem_files.RowErrorsError`) and nothing is written."""
    frame = read_problem_file(path, filename)
    with transaction(factory) as session:
        check_inside(frame, csp_outline(session, csp_id), f"CSP {csp_id}")
        return insert_problems(session=session, csp_id=csp_id, problems=frame, synthetic=False)
