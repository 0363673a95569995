"""Where the database is and what it holds: the local PostGIS cluster, migrations, and the
demo territory loaded into an empty database."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
from sqlalchemy.exc import ProgrammingError

from api import backup, db
from api.cluster import LocalCluster
from api.config import Settings
from api.db import migrate
from api.repositories import csp
from api.schemas import HealthPublic
from api.services.context import Context
from api.services.demo import load_demo
from geo.errors import UnavailableError


def local_cluster(settings: Settings) -> LocalCluster:
    return LocalCluster(settings.var_dir / "postgres", port=settings.local_db_port)


def database_url(settings: Settings) -> str:
    """``DATABASE_URL`` when set, else the local cluster's, started if needed."""
    return settings.database_url or local_cluster(settings).start()


def backup_database(settings: Settings, file: Path) -> int:
    """Back the database up (``DATABASE_URL``, else the local cluster) into ``file``
    (:func:`api.backup.backup`); returns the file's size in bytes."""
    return backup.backup(database_url(settings), file)


def restore_database(settings: Settings, file: Path, *, replace: bool = False) -> None:
    """Restore a backup into the database (``DATABASE_URL``, else the local cluster): an
    empty one, or any with ``replace`` (:func:`api.backup.restore`)."""
    backup.restore(database_url(settings), file, replace=replace)


def has_territory(ctx: Context) -> bool:
    with ctx.read() as session:
        return csp.any_csp(session=session)


def prepare_database(settings: Settings, *, demo: bool = True) -> str:
    """Resolve the database, apply migrations, load the demo territory if empty."""
    url = database_url(settings)
    migrate(url)
    if demo:
        ctx = Context.for_url(url)
        try:
            if not has_territory(ctx):
                load_demo(ctx, demo_dir=settings.demo_dir)
        finally:
            ctx.close()
    return url


def readiness(ctx: Context) -> HealthPublic:
    """The database answers, with PostGIS, and its schema is at the code's newest
    migration; else :class:`UnavailableError` (503) saying what is missing. A database
    that cannot be reached raises SQLAlchemy's ``OperationalError`` (503 too)."""
    head = db.head_revision()
    with ctx.read() as session:
        try:
            postgis = db.postgis_version(session)
        except ProgrammingError:
            raise UnavailableError("database_without_postgis") from None
        current = db.current_revision(session)
    if current != head:
        raise UnavailableError("database_not_migrated", current=current or "aucune", head=head)
    return HealthPublic(
        status="ok", database="ok", postgis=postgis, migration=head, worker=os.getpid()
    )


#: Readiness answers within this many seconds, else 503: a probe must not hang.
READY_TIMEOUT_S = 2.0
#: The readiness checks run on threads of their own, never queued behind the worker
#: threads that slow requests hold (anyio's default pool: 40 threads).
_READY_THREADS = anyio.CapacityLimiter(2)


async def readiness_within(ctx: Context, timeout: float = READY_TIMEOUT_S) -> HealthPublic:
    """:func:`readiness` on the readiness threads, refused with 503 past ``timeout``
    seconds (the thread is left to finish on its own)."""
    try:
        with anyio.fail_after(timeout):
            return await anyio.to_thread.run_sync(
                readiness, ctx, abandon_on_cancel=True, limiter=_READY_THREADS
            )
    except TimeoutError:
        raise UnavailableError("database_no_answer", seconds=timeout) from None


def postgis_version(ctx: Context) -> str:
    """The PostGIS library's version: answers only when the database is reachable."""
    with ctx.read() as session:
        return db.postgis_version(session)
