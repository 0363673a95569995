"""``psq sectorize-all``: every CSP of a file designed in one batch.

The CSPs (:mod:`geo.csp_batch`) are first defined from a communes file when one is given
(in this process, one after the other: they share the communes' rows); then each CSP's
grid (built when missing) and proposal run in a worker process of their own
(``--workers``), or as tasks of a Dask distributed cluster (``--scheduler
tcp://HOST:PORT``, the path beyond one machine: every worker reaches the same database).
A line is printed as each CSP ends, then a summary table; a CSP that fails is reported
with its reason and the others go on. Plans are stored as drafts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from api.schemas import PlanCreate
from api.services import grid, plans, territory
from api.services.context import Context
from api.services.database import database_url
from geo.accounts import Actor
from geo.csp_batch import CspRequest, parse_batch
from geo.errors import PsqError
from geo.metrics import french_percent
from geo.territory import read_communes
from psq.cli_common import cli_actor, console, database, fail, reported_errors, settings


def design_one(url: str, request: CspRequest, actor: str) -> dict[str, Any]:
    """One CSP of the batch, in a worker: its grid when missing, its proposal stored as a
    draft. Returns what the summary shows; a failure is returned, never raised."""
    started = time.perf_counter()
    out: dict[str, Any] = {"name": request.name, "ok": False}
    ctx = Context.for_url(url)
    try:
        acting = ctx.acting(Actor(actor))
        csp_id = territory.find_csp_id(acting, request.name)
        if csp_id is None:
            raise PsqError(f"CSP inconnue : {request.name!r}")
        built = grid.list_grids(acting, csp_id).data
        if not any(g.resolution == request.resolution and g.units == "h3" for g in built):
            grid.build_grid(acting, csp_id=csp_id, resolution=request.resolution)
        plan_in = PlanCreate(
            name=f"{request.name} (lot)",
            k=request.k,
            target_workload=request.target_workload,
            tolerance=request.tolerance,
            resolution=request.resolution,
        )
        plan_id, plan = plans.propose_plan(acting, csp_id=csp_id, plan_in=plan_in)
        metrics = plan.metrics
        out |= {
            "ok": True,
            "plan_id": plan_id,
            "k": plan.k,
            "units": plan.graph.n,
            "max_deviation": metrics.max_deviation,
            "contiguous": metrics.contiguous,
            "violations": len(plan.violations),
        }
    except (PsqError, ValidationError) as exc:
        out["error"] = str(exc)
    except Exception as exc:  # one CSP's failure must not stop the batch
        out["error"] = f"erreur inattendue : {type(exc).__name__}: {exc}"
    finally:
        ctx.close()
    out["seconds"] = time.perf_counter() - started
    return out


def _define(requests: list[CspRequest], communes_file: Path | None) -> dict[str, str]:
    """Define the CSPs that list communes from ``communes_file``; CSP name → error."""
    failed: dict[str, str] = {}
    if communes_file is None:
        return failed
    layer = read_communes(communes_file)
    with database() as ctx:
        for request in requests:
            if not request.communes:
                continue
            try:
                territory.import_territory(
                    ctx, layer=layer, csp_name=request.name, commune_codes=list(request.communes)
                )
            except PsqError as exc:
                failed[request.name] = str(exc)
    return failed


def _local(
    url: str, requests: list[CspRequest], actor: str, workers: int
) -> Iterator[dict[str, Any]]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(design_one, url, r, actor): r for r in requests}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker that died
                yield {"name": futures[future].name, "ok": False, "error": repr(exc)}


def _dask(url: str, requests: list[CspRequest], actor: str, scheduler: str) -> Iterator[dict]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = {
            client.submit(design_one, url, r, actor, pure=False, key=f"csp-{i}"): r
            for i, r in enumerate(requests)
        }
        for future in dask_completed(list(futures)):
            try:
                yield future.result()
            except Exception as exc:  # a task that failed on the cluster
                yield {"name": futures[future].name, "ok": False, "error": repr(exc)}


def sectorize_all(
    file: Annotated[Path, typer.Argument(help="Liste des CSP (.csv, .yaml ou .json)")],
    communes_file: Annotated[
        Path | None,
        typer.Option(help="Fichier des communes d'où définir les CSP qui en listent"),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processus de calcul en parallèle (défaut : les cœurs)")
    ] = os.cpu_count() or 1,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Grappe Dask distribuée (tcp://HÔTE:PORT) au lieu des processus locaux"),
    ] = None,
) -> None:
    """Sectorise toutes les CSP d'un fichier, chacune dans son processus (brouillons)."""
    with reported_errors():
        requests = parse_batch(file.read_text(encoding="utf-8"), file.name)
        failed = _define(requests, communes_file)
        url = database_url(settings())
    actor = cli_actor().name
    todo = [r for r in requests if r.name not in failed]
    results: list[dict[str, Any]] = [
        {"name": n, "ok": False, "error": e, "seconds": 0.0} for n, e in failed.items()
    ]
    runner: Callable[[], Iterator[dict[str, Any]]] = (
        (lambda: _dask(url, todo, actor, scheduler))
        if scheduler
        else (lambda: _local(url, todo, actor, workers))
    )
    where = f"la grappe {scheduler}" if scheduler else f"{workers} processus"
    console.print(f"{len(requests)} CSP à sectoriser sur {where}.")
    for result in results:
        console.print(f"[red]ÉCHEC[/] {result['name']} : {result['error']}", highlight=False)
    started = time.perf_counter()
    for result in runner():
        results.append(result)
        done = f"[{len(results)}/{len(requests)}]"
        if result["ok"]:
            console.print(
                f"{done} {result['name']} : plan {result['plan_id']}, {result['k']} secteurs, "
                f"écart max {french_percent(result['max_deviation'])}, "
                f"{result['seconds']:.1f} s",
                highlight=False,
            )
        else:
            console.print(f"{done} [red]ÉCHEC[/] {result['name']} : {result['error']}")
    _summary(results, time.perf_counter() - started)
    if any(not r["ok"] for r in results):
        raise fail(
            "cli_batch_failures", failed=sum(not r["ok"] for r in results), total=len(results)
        )


def _summary(results: list[dict[str, Any]], seconds: float) -> None:
    table = Table(title=f"Sectorisation de {len(results)} CSP ({seconds:.1f} s)")
    for column in ("CSP", "Plan", "Secteurs", "Unités", "Écart max", "Contigu", "Durée", "Issue"):
        table.add_column(column)
    for r in sorted(results, key=lambda r: r["name"]):
        if r["ok"]:
            table.add_row(
                r["name"],
                str(r["plan_id"]),
                str(r["k"]),
                str(r["units"]),
                french_percent(float(r["max_deviation"])),
                "oui" if r["contiguous"] else "non",
                f"{r['seconds']:.1f} s",
                f"{r['violations']} contrainte(s) non tenue(s)" if r["violations"] else "ok",
            )
        else:
            table.add_row(r["name"], "—", "—", "—", "—", "—", f"{r['seconds']:.1f} s", r["error"])
    console.print(table)
