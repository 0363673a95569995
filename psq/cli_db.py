"""``psq db``: the database — the app's own local PostGIS cluster (used when
``DATABASE_URL`` is not set), its schema, and backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.db import migrate
from api.services.database import (
    backup_database,
    database_url,
    local_cluster,
    restore_database,
)
from psq.cli_common import console, reported_errors
from psq.cli_common import settings as _settings

db_app = typer.Typer(
    help="Base PostGIS locale (utilisée quand DATABASE_URL n'est pas défini).", no_args_is_help=True
)


@db_app.command("start")
def db_start() -> None:
    """Crée (au premier lancement) et démarre la base locale sous var/postgres."""
    with reported_errors():
        url = local_cluster(_settings()).start()
    console.print(f"Base locale démarrée : {url}")


@db_app.command("stop")
def db_stop() -> None:
    """Arrête la base locale."""
    with reported_errors():
        stopped = local_cluster(_settings()).stop()
    console.print("Base locale arrêtée." if stopped else "La base locale n'était pas démarrée.")


@db_app.command("status")
def db_status() -> None:
    """Indique si la base locale existe et si elle tourne."""
    status = local_cluster(_settings()).status()
    if not status.initialised:
        console.print(f"Base locale absente ({status.data_dir}) : « psq db start » la crée.")
        raise typer.Exit(code=3)
    state = f"démarrée (pid {status.pid}, port {status.port})" if status.running else "arrêtée"
    console.print(f"Base locale {state} — {status.data_dir}")
    if not status.running:
        raise typer.Exit(code=3)


@db_app.command("url")
def db_url() -> None:
    """Affiche l'URL de la base utilisée (DATABASE_URL, sinon la base locale, démarrée)."""
    with reported_errors():
        console.print(database_url(_settings()), highlight=False, soft_wrap=True)


@db_app.command("migrate")
def db_migrate() -> None:
    """Applique les migrations du schéma."""
    with reported_errors():
        migrate(database_url(_settings()))
    console.print("Schéma à jour.")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Fichier de sauvegarde à écrire (ex. psq.dump)")],
) -> None:
    """Sauvegarde toute la base (pg_dump, format personnalisé -Fc) dans FICHIER."""
    with reported_errors():
        size = backup_database(_settings(), file)
    console.print(f"Base sauvegardée dans {file} ({size / 1e6:.1f} Mo).")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="Sauvegarde faite par « psq db backup »")],
    remplacer: Annotated[
        bool, typer.Option("--remplacer", help="Remplacer le contenu d'une base non vide")
    ] = False,
) -> None:
    """Restaure FICHIER (pg_restore) dans une base vide, d'un seul bloc."""
    with reported_errors():
        restore_database(_settings(), file, replace=remplacer)
    console.print(f"Base restaurée depuis {file}.")
