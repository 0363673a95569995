"""What every ``psq`` command shares: the consoles, the French error report (exit code 2)
and the context on the configured database."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from api import clock
from api.cluster import ClusterError
from api.config import Settings
from api.db import migrate
from api.services import territory
from api.services.context import Context
from api.services.database import database_url
from geo.accounts import Actor
from geo.errors import PsqError
from geo.messages import MESSAGES, render
from geo.problem_files import RowErrorsError

console = Console()
err = Console(stderr=True)


def fail(message: str, **values: object) -> typer.Exit:
    """Say an error on stderr (a code of the message catalogue, :mod:`geo.messages`, with
    its values, or a sentence already rendered) and exit with code 2."""
    text = render(message, **values) if message in MESSAGES else message
    err.print(f"[bold red]Erreur :[/] {text}", highlight=False)
    return typer.Exit(code=2)


def settings() -> Settings:
    found = Settings()
    if found.today is not None:
        clock.freeze(found.today)
    return found


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn what a command can run into (bad input, a file that cannot be read, the
    database cluster) into a French message on stderr and exit code 2."""
    try:
        yield
    except RowErrorsError as exc:
        for error in exc.errors:
            err.print(f"ligne {error.row}, {error.column} : {error.reason}", highlight=False)
        raise fail("cli_rows_refused", count=len(exc.errors)) from exc
    except (PsqError, ClusterError, OSError) as exc:
        raise fail(str(exc)) from exc


def cli_actor() -> Actor:
    """The local system user running the command: ``cli:<user>`` in the audit trail."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        user = f"uid {os.getuid()}"
    return Actor.cli(user)


@contextmanager
def database() -> Iterator[Context]:
    """A context on the configured database, migrated, acting as the system user who runs
    the command (:func:`cli_actor`); its connections closed after."""
    config = settings()
    url = database_url(config)
    migrate(url)
    ctx = Context.for_url(url)
    ctx.bound_budget_s = config.bound_seconds
    try:
        yield ctx.acting(cli_actor())
    finally:
        ctx.close()


def resolve_csp(ctx: Context, csp: str) -> int:
    """A CSP given by id, code or name."""
    found = territory.find_csp_id(ctx, csp)
    if found is None:
        raise fail("cli_csp_unknown", csp=csp)
    return found
