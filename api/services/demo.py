"""The demo territory (``data/boundaries/demo.toml``): its communes and CSPs, layers, QPV
list and grids, and, flagged synthetic, problems and partner organisations, an adopted
sector plan per CSP whose GPOs get chiefs, members, meetings and actions in every status
(:mod:`geo.synth_gpos`), a thematic « Transports » GPO, référents and safety-study
requests (:mod:`geo.synth`), and one fictitious account per role
(:mod:`api.services.demo_accounts`)."""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy.orm import Session

from api import clock
from api.repositories import audits as audit_rows
from api.repositories import demo_gpos, gpos, grid, problems
from api.repositories.territory import ImportReport
from api.schemas import (
    AuditRequestCreate,
    AuditTransition,
    GpoCreate,
    PlanCreate,
    ReferentCreate,
)
from api.services.addresses import import_addresses
from api.services.audit_log import record_write
from api.services.audits import create_audit_request, transition_audit_request
from api.services.context import Context
from api.services.demo_accounts import DemoSignIn, create_demo_accounts, demo_sign_ins
from api.services.demo_commune import load_demo_commune_space
from api.services.grid import build_grid
from api.services.placement import insert_placed
from api.services.plans import adopt_plan, load_unit_graph, propose_plan
from api.services.territory import (
    import_layer_file,
    import_qpv_list,
    import_territory,
    list_csps,
)
from geo.accounts import Actor, Scope
from geo.errors import InvalidInputError
from geo.geocoding import addresses_inside, read_address_csv
from geo.problems import THEMES
from geo.synth import AUDIT_NEEDS, SYNTHETIC_REFERENTS, audit_requests, generate
from geo.synth_gpos import TRANSPORT_CATEGORIES, gpo_life, transport_sectors
from geo.synth_partners import SynthPartner, partner_directory
from geo.territory import read_communes


def read_codes_csv(path: Path) -> list[str]:
    """The ``code_insee`` column of a CSV file."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "code_insee" not in reader.fieldnames:
            raise InvalidInputError(
                "file_columns_expected",
                name=path.name,
                expected=["code_insee"],
                found=list(reader.fieldnames or []),
            )
        return [row["code_insee"].strip() for row in reader if row["code_insee"].strip()]


@dataclass(frozen=True)
class DemoCsp:
    name: str
    code: str
    commune_codes: list[str]
    sectors: int | None = None  # a proposal of this many sectors is adopted
    boundaries: Path | None = None  # its own commune outlines (else the manifest's)
    extra: bool = False  # loaded by the full demo only (psq demo, psq serve)
    blocks: bool = False  # a street-block grid too (needs a barriers layer with roads)


@dataclass(frozen=True)
class DemoLayer:
    name: str
    kind: str
    path: Path
    extra: bool = False


@dataclass(frozen=True)
class DemoTerritory:
    communes: Path
    csps: list[DemoCsp]
    layers: list[DemoLayer]
    qpv_list: Path | None
    grid_resolution: int
    synthetic_problem_years: float = 0.0
    synthetic_seed: int = 0
    addresses: Path | None = None  # BAN or BANO, loaded by the full demo only


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
                boundaries=demo_dir / c["boundaries"] if "boundaries" in c else None,
                extra=bool(c.get("extra", False)),
                blocks=bool(c.get("blocks", False)),
            )
            for c in data["csp"]
        ],
        layers=[
            DemoLayer(
                name=lay["name"],
                kind=lay["kind"],
                path=demo_dir / lay["file"],
                extra=bool(lay.get("extra", False)),
            )
            for lay in data.get("layer", [])
        ],
        addresses=demo_dir / data["addresses"] if "addresses" in data else None,
        qpv_list=demo_dir / data["qpv_list"] if "qpv_list" in data else None,
        grid_resolution=int(data.get("grid_resolution", 9)),
        synthetic_problem_years=float(data.get("synthetic_problem_years", 0)),
        synthetic_seed=int(data.get("synthetic_seed", 0)),
    )


def load_demo(
    ctx: Context,
    *,
    demo_dir: Path,
    progress: Callable[[int], None] | None = None,
    adopt: bool = True,
    end: date | None = None,
    actor: Actor | None = None,
    extras: bool = True,
) -> list[ImportReport]:
    """Import the demo territory described by ``demo_dir/demo.toml``: communes, layers,
    grids, synthetic problems and partners and, when ``adopt``, an adopted sector plan per
    CSP whose GPOs get a synthetic life (:func:`load_synthetic_gpos`), and the demo
    accounts (bound to the first CSP). With ``extras`` (the full demo of ``psq demo`` and
    ``psq serve``), also the CSPs and layers the manifest marks ``extra`` (Massy, its
    streets and railways) and the address table (BANO). The synthetic history ends on
    ``end`` (by default today, by the app's clock: :mod:`api.clock`). Every write is
    recorded as ``actor``: by default the context's, or ``cli:demo`` when the context acts
    for nobody."""
    if actor is None:
        actor = Actor.cli("demo") if ctx.actor == Actor.anonymous() else ctx.actor
    ctx = ctx.acting(actor, ctx.address)
    demo = read_demo_manifest(demo_dir)
    communes = read_communes(demo.communes)
    csps = [csp for csp in demo.csps if extras or not csp.extra]
    reports = [
        import_territory(
            ctx,
            layer=communes if csp.boundaries is None else read_communes(csp.boundaries),
            csp_name=csp.name,
            csp_code=csp.code,
            commune_codes=csp.commune_codes,
            progress=progress,
        )
        for csp in csps
    ]
    for layer in demo.layers:
        if extras or not layer.extra:
            import_layer_file(ctx, path=layer.path, kind=layer.kind, name=layer.name)
    if demo.qpv_list is not None:
        import_qpv_list(ctx, path=demo.qpv_list)
    if extras and demo.addresses is not None:
        # BANO places a few entrances past the simplified commune outlines: those are left
        # out (the import itself refuses a file with any).
        outline = shapely.union_all(communes.communes.geometry.to_numpy())
        import_addresses(ctx, table=addresses_inside(read_address_csv(demo.addresses), outline))
    end = end or clock.today()
    start = end - timedelta(days=round(365.25 * demo.synthetic_problem_years))
    for csp, report in zip(csps, reports, strict=True):
        build_grid(ctx, csp_id=report.csp_id, resolution=demo.grid_resolution)
        if csp.blocks:
            build_grid(ctx, csp_id=report.csp_id, resolution=demo.grid_resolution, units="blocks")
        if demo.synthetic_problem_years > 0:
            load_synthetic_problems(
                ctx,
                csp_id=report.csp_id,
                start=start,
                end=end,
                seed=demo.synthetic_seed,
            )
        if adopt and csp.sectors:
            plan_in = PlanCreate(k=csp.sectors, resolution=demo.grid_resolution, seed=0)
            plan_id, _ = propose_plan(ctx, csp_id=report.csp_id, plan_in=plan_in)
            adopt_plan(ctx, plan_id)
            if demo.synthetic_problem_years > 0:
                load_synthetic_audits(ctx, csp_id=report.csp_id, end=end, seed=demo.synthetic_seed)
                load_synthetic_gpos(
                    ctx,
                    csp_id=report.csp_id,
                    start=start,
                    end=end,
                    seed=demo.synthetic_seed,
                )
    if reports:
        create_demo_accounts(ctx, csp_id=reports[0].csp_id)
        if adopt:
            load_demo_commune_space(ctx, csp_id=reports[0].csp_id, seed=demo.synthetic_seed)
    return reports


def login_demo_accounts(ctx: Context, *, demo_dir: Path, local_database: bool) -> list[DemoSignIn]:
    """The demo accounts the sign-in page lists, or none: only when the app runs on its
    own local database (``psq serve`` without ``DATABASE_URL``) and every CSP in it is
    one of the demo's (by code), so that a real deployment never shows them, even when
    it started from the demo."""
    if not local_database:
        return []
    everything = ctx.acting(ctx.actor, ctx.address, Scope.everything())
    codes = {c.code for c in list_csps(everything).data}
    if not codes or not codes <= {c.code for c in read_demo_manifest(demo_dir).csps}:
        return []
    return demo_sign_ins(everything)


def _directory(session: Session, csp_id: int, seed: int) -> list[SynthPartner]:
    """The CSP's fictitious partners (:func:`geo.synth_partners.partner_directory`)."""
    return partner_directory(
        demo_gpos.commune_infos(session=session, csp_id=csp_id),
        csp_name=demo_gpos.csp_name(session=session, csp_id=csp_id),
        rng=np.random.default_rng([seed, 1]),
    )


def load_synthetic_problems(
    ctx: Context,
    *,
    csp_id: int,
    start: date,
    end: date,
    seed: int = 0,
    count: int | None = None,
) -> int:
    """Generate synthetic problems for the CSP (:mod:`geo.synth`, on its finest-known
    grid's cells) and store them, flagged synthetic, with the CSP's fictitious partner
    organisations (made once): a problem's reporter is the organisation of its type of
    the largest commune until its GPO's life (:func:`load_synthetic_gpos`) picks one of
    the GPO's members."""
    with ctx.read() as session:
        resolution = grid.finest_h3_resolution(session=session, csp_id=csp_id)
        units = load_unit_graph(session, csp_id=csp_id, resolution=resolution).units
    synthetic = generate(units, start=start, end=end, rng=np.random.default_rng(seed), count=count)
    with ctx.write() as session:
        directory = _directory(session, csp_id, seed)
        ids = demo_gpos.partner_ids(session=session, csp_id=csp_id, directory=directory)
        population = {
            c.code: c.population for c in demo_gpos.commune_infos(session=session, csp_id=csp_id)
        }
        partner_ids: dict[str, int] = {}
        for partner, partner_id in sorted(
            zip(directory, ids, strict=True),
            key=lambda t: -population.get(t[0].commune_code or "", 0),
        ):
            partner_ids.setdefault(partner.type, partner_id)
        count = insert_placed(
            session,
            csp_id=csp_id,
            frame=synthetic.problems,
            synthetic=True,
            events=synthetic.events,
            actions=synthetic.actions,
            evaluations=synthetic.evaluations,
            partner_ids=partner_ids,
        )
        record_write(
            session,
            ctx,
            "load_synthetic",
            "problem",
            detail={
                "csp_id": csp_id,
                "count": count,
                "partners": len(ids),
                "start": start,
                "end": end,
                "seed": seed,
            },
        )
        return count


def load_synthetic_gpos(ctx: Context, *, csp_id: int, start: date, end: date, seed: int = 0) -> int:
    """The synthetic life of the CSP's GPOs (:func:`geo.synth_gpos.gpo_life`), flagged
    synthetic: a thematic « Transports » GPO over 2 or 3 sectors (from 2 sectors up),
    every active GPO's chef, deputy, cadence and partners, its meetings (closed ones with
    minutes and decisions since ``start``, a planned one), the lead partner, status and
    signed steps of its problems' actions, and new planned actions. Returns the number
    of meetings."""
    with ctx.write() as session:
        communes = demo_gpos.sector_communes(session=session, csp_id=csp_id)
        history = demo_gpos.history(session=session, csp_id=csp_id)
        rows = demo_gpos.active_gpo_rows(session=session, csp_id=csp_id)
        sectors = sorted(g.sector for g in rows if g.kind == "sector" and g.sector is not None)
        themed = transport_sectors(sectors, history.problems)
        if themed and not any(g.kind == "thematic" and g.theme == "transports" for g in rows):
            gpos.create_thematic_gpo(
                session=session,
                csp_id=csp_id,
                gpo_in=GpoCreate(
                    name=f"GPO thématique {THEMES['transports']}",
                    theme="transports",
                    sectors=themed,
                    categories=list(TRANSPORT_CATEGORIES),
                ),
            )
            rows = demo_gpos.active_gpo_rows(session=session, csp_id=csp_id)
        directory = _directory(session, csp_id, seed)
        partner_ids = demo_gpos.partner_ids(session=session, csp_id=csp_id, directory=directory)
        life = gpo_life(
            demo_gpos.gpo_inputs(rows, communes),
            history,
            directory,
            start=start,
            today=end,
            rng=np.random.default_rng([seed, 2]),
        )
        count = demo_gpos.insert_synthetic_gpo_life(
            session=session, life=life, partner_ids=partner_ids, since=start
        )
        record_write(
            session,
            ctx,
            "load_synthetic",
            "meeting",
            detail={
                "csp_id": csp_id,
                "count": count,
                "gpos": len(rows),
                "actions": len(life.actions),
                "start": start,
                "end": end,
                "seed": seed,
            },
        )
        return count


def load_synthetic_audits(
    ctx: Context, *, csp_id: int, end: date, seed: int = 0, count: int = 12
) -> int:
    """Synthetic référents and safety-study requests (:func:`geo.synth.audit_requests`)
    for the CSP, filed and moved through their steps by the same checks as real ones,
    flagged synthetic; returns the number of requests."""
    with ctx.read() as session:
        communes = grid.csp_communes(session=session, csp_id=csp_id)
        recent = problems.anchors_since(
            session=session, csp_id=csp_id, after=end - timedelta(days=365)
        )
    requests = audit_requests(
        communes, end=end, rng=np.random.default_rng(seed), count=count, attractors=recent
    )
    with ctx.write() as session:
        referent_ids = [
            audit_rows.create_referent(
                session=session,
                csp_id=csp_id,
                referent_in=ReferentCreate(name=name, role=role, grade=grade),
            )
            for name, role, grade in SYNTHETIC_REFERENTS
        ]
        for k, r in enumerate(requests):
            request_id = create_audit_request(
                session,
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
            for status, on, planned_on in r.steps:
                transition_audit_request(
                    session,
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
        audit_rows.mark_synthetic(session=session, csp_id=csp_id, referent_ids=referent_ids)
        record_write(
            session,
            ctx,
            "load_synthetic",
            "audit_request",
            detail={
                "csp_id": csp_id,
                "count": len(requests),
                "referents": len(referent_ids),
                "seed": seed,
            },
        )
    return len(requests)
