"""The ``psq`` command line: database, territory import, listing, serving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.errors import validation_detail
from api.schemas import AdoptionPreview, PlanAdoption, PlanCreate, Units
from api.services import grid, notifications, plans, territory
from api.services.context import Context
from api.services.database import (
    database_url,
    prepare_database,
)
from geo.errors import InvalidInputError
from geo.export import FORMATS, format_for_path, write_layer
from geo.metrics import french_number, french_percent, sector_layer
from geo.plan import SectorPlan
from geo.qgis_styles import sector_style
from geo.territory import read_communes, read_vector
from psq import cli_imports
from psq.cli_batch import sectorize_all
from psq.cli_common import console, fail, reported_errors, resolve_csp
from psq.cli_common import database as _database
from psq.cli_common import settings as _settings
from psq.cli_db import db_app
from psq.cli_users import users_app

app = typer.Typer(
    help="PSQ Secteurs : secteurs de proximité et cartographie des problématiques.",
    no_args_is_help=True,
)
csp_app = typer.Typer(help="Circonscriptions de sécurité publique.", no_args_is_help=True)
grid_app = typer.Typer(help="Grilles H3 des CSP.", no_args_is_help=True)
app.add_typer(grid_app, name="grid")
app.add_typer(db_app, name="db")
app.add_typer(csp_app, name="csp")
app.add_typer(users_app, name="users")
app.command("sectorize-all")(sectorize_all)
app.command("import-layer")(cli_imports.import_layer_command)
app.command("import-qpv-list")(cli_imports.import_qpv_list_command)
app.command("import-problems")(cli_imports.import_problems_command)
app.command("synth-problems")(cli_imports.synth_problems_command)
app.command("import-addresses")(cli_imports.import_addresses_command)


@app.command("import-territory")
def import_territory_command(
    path: Annotated[
        Path, typer.Argument(help="Fichier des communes (GeoJSON, GeoPackage, Shapefile zippé…)")
    ],
    csp_name: Annotated[
        str, typer.Option("--csp-name", help="Nom de la CSP à créer ou mettre à jour")
    ],
    communes: Annotated[
        str | None,
        typer.Option(
            help="Codes INSEE des communes de la CSP, séparés par des virgules (défaut : toutes)"
        ),
    ] = None,
    csp_code: Annotated[
        str | None, typer.Option(help="Code court de la CSP (défaut : dérivé du nom)")
    ] = None,
) -> None:
    """Importe les communes d'un fichier et définit une CSP, en une seule transaction."""
    codes = [c.strip().upper() for c in communes.split(",") if c.strip()] if communes else None
    with reported_errors():
        with console.status(f"Lecture et validation de {path.name}…"):
            layer = read_communes(path)
        with (
            _database() as ctx,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress,
        ):
            task = progress.add_task("Import des communes", total=len(layer.communes))
            report = territory.import_territory(
                ctx,
                layer=layer,
                csp_name=csp_name,
                csp_code=csp_code,
                commune_codes=codes,
                progress=lambda n: progress.advance(task, n),
            )
    verb = "créée" if report.csp_created else "mise à jour"
    console.print(
        f"{report.communes_inserted} commune(s) ajoutée(s), "
        f"{report.communes_updated} mise(s) à jour (projection d'origine {layer.source_crs}). "
        f"CSP « {report.csp_name} » (id {report.csp_id}) {verb} "
        f"avec {report.csp_commune_count} commune(s)."
    )
    if report.repaired:
        console.print(
            f"[yellow]Géométries invalides réparées[/] : {', '.join(report.repaired)}",
            highlight=False,
        )


WeightOption = Annotated[
    list[str] | None,
    typer.Option(help="Poids de charge VARIABLE=POIDS, répétable (ex. population=1)"),
]


def _weights(items: list[str] | None) -> dict[str, float] | None:
    """``--weight VARIABLE=NUMBER`` options as a dict (None when none is given)."""
    if not items:
        return None
    weights = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            weights[key.strip()] = float(value)
        except ValueError:
            raise fail("cli_weight_format", item=item) from None
    return weights


UnitsOption = Annotated[
    str,
    typer.Option(
        help="Unités : h3 (cellules H3 découpées par la CSP) ou blocks (îlots découpés par "
        "les rues, il faut une couche de barrières/routes)"
    ),
]


def _units(units: str) -> Units:
    if units not in ("h3", "blocks"):
        raise fail("cli_units_format", units=units)
    return cast(Units, units)


@grid_app.command("build")
def grid_build(
    csp: Annotated[str, typer.Option(help="CSP : id, code ou nom")],
    res: Annotated[
        int, typer.Option(min=0, max=15, help="Résolution H3 (9 ≈ 0,1 km² ; 10 ≈ 0,015 km²)")
    ] = 9,
    units: UnitsOption = "h3",
    weight: WeightOption = None,
    crossing_distance: Annotated[
        float, typer.Option(help="Distance (m) d'un franchissement")
    ] = 100.0,
) -> None:
    """Construit la grille d'une CSP (cellules H3 ou îlots) : unités, attributs, adjacence."""
    weights = _weights(weight)
    kind = _units(units)
    label = "des îlots" if kind == "blocks" else "de la grille H3"
    with reported_errors(), _database() as ctx:
        csp_id = resolve_csp(ctx, csp)
        with console.status(f"Construction {label} (résolution {res})…"):
            built = grid.build_grid(
                ctx,
                csp_id=csp_id,
                resolution=res,
                units=kind,
                weights=weights,
                crossing_distance_m=crossing_distance,
            )
    noun = "îlots" if built.units == "blocks" else "cellules"
    console.print(
        f"Grille {built.resolution} : {built.cell_count} {noun}, {built.component_count} "
        f"composante(s) connexe(s), {built.blocked_edge_count} arête(s) coupée(s) par une "
        "barrière."
    )


def _check_out(out: Path | None) -> None:
    if out is None:
        return
    try:
        format_for_path(out)
    except InvalidInputError:
        known = ", ".join(f.suffix for f in FORMATS.values())
        raise fail(
            f"--out : extension {out.suffix or '(aucune)'} non reconnue ({known} pour un "
            "Shapefile zippé)"
        ) from None


def _write_plan(plan: SectorPlan, out: Path | None, metrics_json: Path | None) -> None:
    """The sectors (one feature each, with workload and metrics) and the metrics file."""
    if out is not None:
        layer = sector_layer(plan)
        names = layer["name"] if "name" in layer else [f"Secteur {i + 1}" for i in layer["sector"]]
        style = sector_style(list(zip(layer["sector"], names, strict=True)))
        write_layer(layer, out, format_for_path(out), style=style)
        console.print(f"Secteurs écrits dans {out}")
    if metrics_json is not None:
        report = {
            **plan.metrics.as_dict(),
            "notes": list(plan.notes),
            "violations": [v.as_dict() for v in plan.violations],
        }
        metrics_json.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
        console.print(f"Indicateurs écrits dans {metrics_json}")


def _print_plan(plan: SectorPlan) -> None:
    m = plan.metrics
    table = Table(title=f"{plan.k} secteurs")
    for column in ("Secteur", "Charge", "Écart", "Polsby-Popper", "Unités"):
        table.add_column(column, justify="left" if column == "Secteur" else "right")
    for s in m.sectors:
        table.add_row(
            s.name,
            f"{s.workload:,.0f}".replace(",", " "),
            french_percent(s.deviation, sign=True),
            f"{s.polsby_popper:.2f}".replace(".", ","),
            str(s.unit_count),
        )
    console.print(table)
    split = ", ".join(f"{c} ({n})" for c, n in m.split_communes.items()) or "aucune"
    compactness = f"{m.mean_polsby_popper:.2f}".replace(".", ",")
    console.print(
        f"Écart maximal {french_percent(m.max_deviation)} · Polsby-Popper moyen {compactness} · "
        f"contigu : {'oui' if m.contiguous else 'non'} · communes coupées : {split} · "
        f"arêtes franchissant une barrière : {m.barrier_edges_inside}"
    )
    if plan.bound is not None:
        console.print(f"Distance au meilleur plan : {plan.bound.sentence()}", highlight=False)
    pmedian = m.pmedian_distance_m
    distance = "non calculée" if pmedian is None else f"{french_number(pmedian)} m"
    limits = f"{m.cut_length_m / 1000:.1f}".replace(".", ",")
    console.print(
        f"Distance moyenne au centre (p-médian) {distance} · longueur des limites {limits} km"
    )
    for note in plan.notes:
        console.print(f"[cyan]Note[/] : {note}", highlight=False)
    for violation in plan.violations:
        console.print(
            f"[bold yellow]Contrainte non respectée[/] : {violation.message}", highlight=False
        )


#: The objectives' names on the command line (French; the API's English names also pass).
CLI_OBJECTIVES = {"distance": "distance", "limites": "boundary", "mixte": "mix"}


def _objective(text: str) -> str:
    """``limites`` → ``boundary``; an unknown name is refused, named."""
    value = CLI_OBJECTIVES.get(text, text if text in CLI_OBJECTIVES.values() else None)
    if value is None:
        raise fail(
            f"--objective : « {text} » inconnu ; valeurs possibles : {', '.join(CLI_OBJECTIVES)}"
        )
    return value


def _counts(text: str | None) -> list[int]:
    """``5,2,1`` → [5, 2, 1]; a bad value is refused, named."""
    if not text:
        return []
    try:
        return [int(x) for x in text.split(",")]
    except ValueError as exc:
        raise fail("cli_counts_format", text=text) from exc


@app.command("sectorize")
def sectorize(
    csp: Annotated[str, typer.Option(help="CSP : id, code ou nom")],
    k: Annotated[int | None, typer.Option(min=1, help="Nombre de secteurs")] = None,
    target_workload: Annotated[
        float | None, typer.Option(min=0, help="Charge visée par secteur (au lieu de --k)")
    ] = None,
    tolerance: Annotated[
        float, typer.Option(min=0, max=0.5, help="Écart de charge admis (0.05 = ±5 %)")
    ] = 0.05,
    seed: Annotated[int, typer.Option(min=0, help="Graine aléatoire (même graine, même plan)")] = 0,
    res: Annotated[int, typer.Option(min=0, max=15, help="Résolution H3 de la grille")] = 9,
    units: UnitsOption = "h3",
    method: Annotated[
        str,
        typer.Option(
            help="engine (proposition), communes (communes entières) ou exact (solveur, "
            "preuve d'optimalité)"
        ),
    ] = "engine",
    time_limit: Annotated[
        float,
        typer.Option(min=1, max=1800, help="Temps maximal de recherche (s) de la méthode exact"),
    ] = 60,
    whole_commune_population: Annotated[
        float, typer.Option(help="Communes de moins d'habitants jamais coupées")
    ] = 10_000,
    weight: WeightOption = None,
    sectors_per_part: Annotated[
        str | None,
        typer.Option(
            "--secteurs-par-partie",
            help="Secteurs de chaque partie séparée du territoire, la plus chargée "
            "d'abord (ex. 5,2,1) ; par défaut répartis selon la charge",
        ),
    ] = None,
    objective: Annotated[
        str,
        typer.Option(
            help="Ce que la proposition optimise : distance (distance moyenne au centre du "
            "secteur, p-médian), limites (longueur des limites) ou mixte"
        ),
    ] = "limites",
    objective_weight: Annotated[
        float,
        typer.Option(help="Avec --objective mixte : part de la distance, entre 0 et 1"),
    ] = 0.5,
    out: Annotated[Path | None, typer.Option(help="Fichier des secteurs (.geojson, .gpkg)")] = None,
    metrics_json: Annotated[Path | None, typer.Option(help="Fichier JSON des indicateurs")] = None,
) -> None:
    """Propose des secteurs équilibrés, contigus et compacts (enregistrés en brouillon)."""
    _check_out(out)
    if not 0 <= objective_weight <= 1:
        raise fail(
            f"--objective-weight : la part de la distance doit être entre 0 et 1, "
            f"pas {objective_weight:g}"
        )
    try:
        plan_in = PlanCreate(
            method=method,
            time_limit=time_limit,
            k=k,
            target_workload=target_workload,
            tolerance=tolerance,
            seed=seed,
            resolution=res,
            units=_units(units),
            weights=_weights(weight),
            whole_commune_population=whole_commune_population,
            sectors_per_part=_counts(sectors_per_part),
            objective=_objective(objective),
            objective_weight=objective_weight,
        )
    except ValidationError as exc:
        raise fail(validation_detail(exc.errors())) from exc
    with reported_errors(), _database() as ctx:
        csp_id = resolve_csp(ctx, csp)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("Sectorisation", total=1.0)

            def progress(fraction: float, stage: str) -> None:
                bar.update(task, completed=fraction, description=f"Sectorisation ({stage})")

            plan_id, plan = plans.propose_plan(
                ctx, csp_id=csp_id, plan_in=plan_in, progress=progress
            )
    _print_plan(plan)
    _write_plan(plan, out, metrics_json)
    console.print(f"Plan enregistré en brouillon (id {plan_id}).")


@app.command("score")
def score(
    csp: Annotated[str, typer.Option(help="CSP : id, code ou nom")],
    plan_file: Annotated[
        Path, typer.Option("--plan", help="Couche de secteurs existante (polygones)")
    ],
    metrics_json: Annotated[Path | None, typer.Option(help="Fichier JSON des indicateurs")] = None,
    res: Annotated[int, typer.Option(min=0, max=15, help="Résolution H3 de la grille")] = 9,
    units: UnitsOption = "h3",
    save: Annotated[bool, typer.Option(help="Enregistrer le plan importé en brouillon")] = False,
    name: Annotated[str | None, typer.Option(help="Nom du plan enregistré")] = None,
) -> None:
    """Évalue une couche de secteurs existante avec les mêmes indicateurs que les propositions."""
    with reported_errors():
        sectors = read_vector(plan_file)
        with _database() as ctx:
            csp_id = resolve_csp(ctx, csp)
            plan_id, plan = plans.score_sector_layer(
                ctx,
                csp_id=csp_id,
                sectors=sectors,
                resolution=res,
                units=_units(units),
                name=name or plan_file.stem,
                source=plan_file.name,
                save=save,
            )
    _print_plan(plan)
    _write_plan(plan, None, metrics_json)
    if plan_id is not None:
        console.print(f"Plan enregistré en brouillon (id {plan_id}).")


def _print_adoption(preview: AdoptionPreview) -> None:
    """The adoption's preview, in French: each sector's GPO and what it gains and loses."""
    km2 = lambda v: f"{v:.2f}".replace(".", ",") + " km²"  # noqa: E731
    for s in preview.sectors:
        console.print(
            f"Secteur {s.sector + 1} ({s.name}) : "
            f"{'nouveau GPO' if s.gpo_name is None else s.gpo_name} ; territoire conservé "
            f"{km2(s.kept_km2)}, gagné {km2(s.gained_km2)}, perdu {km2(s.lost_km2)} ; "
            f"problématiques qui arrivent : {s.problems_in}, qui partent : {s.problems_out}",
            highlight=False,
            soft_wrap=True,
        )
    for r in preview.retired:
        console.print(
            f"{r.gpo_name} : GPO sans territoire (désactivé, historique conservé) ; perdu "
            f"{km2(r.lost_km2)} ; problématiques qui partent : {r.problems_out}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(preview.matching)
    console.print(f"{preview.problems_moving} problématique(s) ouverte(s) changent de GPO.")
    for t in preview.thematic:
        before = ", ".join(str(s + 1) for s in t.sectors_before) or "aucun"
        after = ", ".join(str(s + 1) for s in t.sectors_after) or "aucun"
        console.print(f"{t.gpo_name} (thématique) : secteurs {before} → {after}")
    for v in preview.violations:
        console.print(f"[red]Contrainte non respectée :[/] {v.message}", highlight=False)


@app.command("adopt")
def adopt_command(
    plan_id: Annotated[int, typer.Argument(help="Le plan à adopter")],
    motif: Annotated[
        str | None,
        typer.Option("--motif", help="Motif de la dérogation, si le plan enfreint des contraintes"),
    ] = None,
    yes: Annotated[bool, typer.Option("--oui", help="Adopter sans demander confirmation")] = False,
) -> None:
    """Adopte un plan après avoir montré ce qui change pour chaque GPO."""
    with reported_errors(), _database() as ctx:
        preview = plans.preview_adoption(ctx, plan_id)
        _print_adoption(preview)
        if not yes and not typer.confirm("Adopter ce plan ?"):
            raise typer.Exit(code=1)
        adopted = plans.adopt_plan(
            ctx,
            plan_id,
            PlanAdoption(
                confirm=True,
                expected_adopted_plan_id=preview.adopted_plan_id,
                override_reason=motif,
            ),
        )
    console.print(f"Plan {adopted.id} adopté ({adopted.name}).")


@csp_app.command("list")
def csp_list() -> None:
    """Liste les CSP de la base."""
    with reported_errors():
        ctx = Context.for_url(database_url(_settings()))
    try:
        csps = territory.list_csps(ctx)
    finally:
        ctx.close()
    if not csps.count:
        console.print("Aucune CSP : « psq import-territory FICHIER --csp-name NOM » en crée une.")
        return
    table = Table("id", "code", "nom", "communes", "population", "superficie (km²)")
    for c in csps.data:
        population = "—" if c.population is None else f"{c.population:,}".replace(",", " ")
        table.add_row(
            str(c.id), c.code, c.name, str(c.commune_count), population, f"{c.area_km2:.1f}"
        )
    console.print(table)


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute (défaut 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (défaut 8000)")] = None,
    demo: Annotated[
        bool, typer.Option(help="Charger le territoire de démonstration si la base est vide")
    ] = True,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Processus serveurs (défaut PSQ_WORKERS, sinon un par cœur, au plus 4)",
        ),
    ] = None,
) -> None:
    """Prépare la base (migrations, territoire de démonstration) puis sert l'application,
    dans un ou plusieurs processus."""
    import os

    import uvicorn

    from api.http_server import ServerLimits, protocol_for
    from psq.app import LOCAL_DATABASE_ENV, create_app

    settings = _settings()
    local_database = settings.database_url is None  # the local cluster, started below
    # Once, before any worker starts: the cluster, the migrations, the demo.
    with reported_errors(), console.status("Préparation de la base PostGIS…"):
        url = prepare_database(settings, demo=demo)
    count = workers or settings.workers
    settings = settings.model_copy(update={"database_url": url, "workers": count})
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(
        f"PSQ Secteurs : http://{bind_host}:{bind_port}/  ({count} processus ; Ctrl+C pour arrêter)"
    )
    served: dict[str, Any] = {
        "host": bind_host,
        "port": bind_port,
        "log_level": "info",
        "access_log": False,  # api.logs writes one access line per request, with its id
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # a deadline and a bound for each request's head, refused in French JSON
        "http": protocol_for(
            ServerLimits(settings.header_timeout_seconds, settings.max_header_bytes)
        ),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
    if count == 1:
        uvicorn.run(create_app(settings, local_database=local_database, settle=True), **served)
        return
    # uvicorn's supervisor starts the workers (each builds its app from this environment
    # with psq.app.create_app_from_env), restarts one that dies, and stops them all on
    # Ctrl+C or SIGTERM; the local cluster stays up, as with one process.
    os.environ["DATABASE_URL"] = url
    os.environ[LOCAL_DATABASE_ENV] = "1" if local_database else "0"
    # A worker answers its supervisor's pings only once its modules are imported (several
    # seconds on a busy machine): not killed as hung before 2 minutes.
    uvicorn.run(
        "psq.app:create_app_from_env",
        factory=True,
        workers=count,
        timeout_worker_healthcheck=120,
        **served,
    )


@app.command("notify")
def notify(
    once: Annotated[
        bool, typer.Option("--once", help="Un seul passage (rappels puis envois), puis s'arrête")
    ] = False,
) -> None:
    """Envoie les notifications en attente par e-mail (PSQ_SMTP_URL) et met en file les
    rappels (actions à échéance ou en retard, GPO en retard), toutes les quelques secondes."""
    import time

    settings = _settings()
    with reported_errors():
        delivery = notifications.Delivery.from_settings(settings)
    if not delivery.channels:
        raise fail(
            "Ni PSQ_SMTP_URL ni PSQ_SMS_URL n'est défini : les notifications restent en attente."
        )
    if delivery.server is not None:
        console.print(f"Serveur SMTP : {delivery.server.describe()}", highlight=False)
    if delivery.sms is not None:
        console.print("Passerelle SMS : configurée (PSQ_SMS_URL)", highlight=False)
    with reported_errors(), _database() as ctx:
        while True:
            report = notifications.run_cycle(ctx, delivery)
            if once or report.sent or report.retried or report.failed:
                console.print(
                    f"{report.sent} envoyée(s), {report.retried} à réessayer, "
                    f"{report.failed} abandonnée(s)."
                )
            if once:
                return
            try:
                time.sleep(delivery.poll_seconds)
            except KeyboardInterrupt:
                return


if __name__ == "__main__":
    app()
