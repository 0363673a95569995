"""Where the database is and what it holds: the local PostGIS cluster, migrations, and the
demo territory loaded into an empty database."""

from __future__ import annotations

from api import db
from api.cluster import LocalCluster
from api.config import Settings
from api.db import migrate
from api.repositories import csp
from api.services.context import Context
from api.services.demo import load_demo


def local_cluster(settings: Settings) -> LocalCluster:
    return LocalCluster(settings.var_dir / "postgres", port=settings.local_db_port)


def database_url(settings: Settings) -> str:
    """``DATABASE_URL`` when set, else the local cluster's, started if needed."""
    return settings.database_url or local_cluster(settings).start()


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


def postgis_version(ctx: Context) -> str:
    """The PostGIS library's version: answers only when the database is reachable."""
    with ctx.read() as session:
        return db.postgis_version(session)
