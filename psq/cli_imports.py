"""The ``psq`` commands that bring data in: layers, QPV lists, problems (and synthetic
ones), addresses; registered on the ``psq`` app by :mod:`psq.cli`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from api import clock
from api.services import addresses, demo, problems, territory
from geo.geocoding import read_address_csv
from geo.layers import LayerKind
from psq.cli_common import console, err, reported_errors, resolve_csp
from psq.cli_common import database as _database


def import_layer_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="Fichier vectoriel (GeoJSON, GeoPackage, Shapefile zippé, extrait OpenStreetMap "
            ".osm.pbf…)"
        ),
    ],
    kind: Annotated[LayerKind, typer.Option(help="Nature de la couche")],
    name: Annotated[str, typer.Option(help="Nom de la couche (unique)")],
    default_class: Annotated[
        str | None,
        typer.Option(
            "--class", help="Classe (barrières, bâtiments) ou type (points) de tous les objets"
        ),
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(
            help="Système de coordonnées du fichier (ex. EPSG:2154), s'il n'en déclare pas "
            "ou en déclare un faux : il remplace celui du fichier"
        ),
    ] = None,
) -> None:
    """Importe une couche territoriale ou sociologique, contrôlée sur le territoire
    (bâtiments et rues : extrait OpenStreetMap .osm.pbf, couche BD TOPO…) ; ses étapes
    sont écrites sur la sortie d'erreur."""

    def stage(step: str, count: int) -> None:
        n = f"{count:,}".replace(",", "\u202f")
        said = {
            "reading": f"Lecture de {path.name}…",
            "checking": f"Contrôle de {n} objet(s) sur le territoire…",
            "writing": f"Écriture de {n} objet(s)…",
        }[step]
        err.print(said, highlight=False, markup=False)

    with reported_errors(), _database() as ctx:
        row = territory.import_layer_file(
            ctx,
            path=path,
            kind=kind,
            name=name,
            default_class=default_class,
            crs=crs,
            progress=stage,
        )
    console.print(
        f"Couche « {row.name} » (id {row.id}, {row.kind}) : {row.feature_count} objet(s)."
    )
    for warning in row.warnings:
        console.print(f"[yellow]Attention[/] : {warning}", highlight=False)


def import_qpv_list_command(
    path: Annotated[Path, typer.Argument(help="CSV code_qp, lib_qp, insee_com")],
) -> None:
    """Enregistre une liste de QPV par commune (sans contours)."""
    with reported_errors(), _database() as ctx:
        count = territory.import_qpv_list(ctx, path=path)
    console.print(f"{count} couple(s) commune-QPV enregistré(s) (niveau communal, sans contours).")


def import_problems_command(
    path: Annotated[Path, typer.Argument(help="CSV (colonnes lon/lat ou wkt) ou GeoJSON")],
    csp: Annotated[str, typer.Option(help="CSP : id, code ou nom")],
) -> None:
    """Importe des problématiques, tout ou rien : chaque ligne fautive est signalée."""
    with reported_errors(), _database() as ctx:
        count = problems.import_problem_file(ctx, resolve_csp(ctx, csp), path=path)
    console.print(f"{count} problématique(s) importée(s).")


def synth_problems_command(
    csp: Annotated[str, typer.Option(help="CSP : id, code ou nom")],
    years: Annotated[float, typer.Option(min=0.1, max=20, help="Durée, jusqu'à aujourd'hui")] = 2,
    seed: Annotated[int, typer.Option(min=0, help="Graine aléatoire")] = 0,
    count: Annotated[
        int | None, typer.Option(min=1, help="Nombre (défaut : selon la population)")
    ] = None,
) -> None:
    """Génère des problématiques SYNTHÉTIQUES (marquées comme telles) pour une CSP."""
    end = clock.today()
    with reported_errors(), _database() as ctx:
        made = demo.load_synthetic_problems(
            ctx,
            csp_id=resolve_csp(ctx, csp),
            start=end - timedelta(days=round(365.25 * years)),
            end=end,
            seed=seed,
            count=count,
        )
    console.print(f"{made} problématique(s) synthétique(s) générée(s) ({years:g} an(s)).")


def import_addresses_command(
    path: Annotated[
        Path, typer.Argument(help="Adresses : CSV de la BAN (adresses-DD.csv) ou de la BANO")
    ],
    remplacer: Annotated[
        bool,
        typer.Option(
            "--remplacer",
            help="Retirer les autres adresses des communes du fichier (sinon ajout et mise à jour)",
        ),
    ] = False,
) -> None:
    """Charge la table d'adresses du géocodeur hors ligne (BAN ou BANO) ; toutes les
    adresses doivent être dans le territoire. Une adresse déjà connue (même commune, voie
    et numéro) est mise à jour, les autres sont ajoutées."""
    with reported_errors():
        table = read_address_csv(path)  # a bad file is refused before the database is touched
        with _database() as ctx:
            done = addresses.import_addresses(ctx, table=table, replace=remplacer)
    console.print(
        f"{done.imported} adresse(s) lue(s) : {done.added} ajoutée(s), {done.updated} mise(s) "
        f"à jour, {done.removed} retirée(s)."
    )
