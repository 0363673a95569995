"""What every ``psq`` command shares: the consoles, the French error report (exit code 2)
and the context on the configured database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from api.cluster import ClusterError
from api.config import Settings
from api.db import migrate
from api.services.context import Context
from api.services.database import database_url
from geo.errors import PsqError
from geo.problem_files import RowErrorsError

console = Console()
err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]Erreur :[/] {message}", highlight=False)
    return typer.Exit(code=2)


def settings() -> Settings:
    return Settings()


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn what a command can run into (bad input, a file that cannot be read, the
    database cluster) into a French message on stderr and exit code 2."""
    try:
        yield
    except RowErrorsError as exc:
        for error in exc.errors:
            err.print(f"ligne {error.row}, {error.column} : {error.reason}", highlight=False)
        raise fail(f"{len(exc.errors)} ligne(s) fautive(s) : rien n'a été importé") from exc
    except (PsqError, ClusterError, OSError) as exc:
        raise fail(str(exc)) from exc


@contextmanager
def database() -> Iterator[Context]:
    """A context on the configured database, migrated; its connections closed after."""
    url = database_url(settings())
    migrate(url)
    ctx = Context.for_url(url)
    try:
        yield ctx
    finally:
        ctx.close()
