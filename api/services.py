"""Use cases shared by the CLI and the app: database set-up and territory import."""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.cluster import LocalCluster
from api.config import Settings
from api.db import make_engine, make_session_factory, migrate, transaction
from api.models import Csp
from api.repositories.territory import ImportReport, import_territory
from geo.errors import InvalidInputError
from geo.territory import CommuneLayer, read_communes


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


@dataclass(frozen=True)
class DemoTerritory:
    communes: Path
    csps: list[DemoCsp]


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
            )
            for c in data["csp"]
        ],
    )


def has_territory(engine: Engine) -> bool:
    with Session(engine) as session:
        return bool(session.scalar(select(func.count()).select_from(Csp)))


def load_demo(
    *, factory: sessionmaker[Session], demo_dir: Path, progress: Callable[[int], None] | None = None
) -> list[ImportReport]:
    """Import the demo territory described by ``demo_dir/demo.toml``."""
    demo = read_demo_manifest(demo_dir)
    layer = read_communes(demo.communes)
    return [
        import_layer(
            factory=factory,
            layer=layer,
            csp_name=csp.name,
            csp_code=csp.code,
            commune_codes=csp.commune_codes,
            progress=progress,
        )
        for csp in demo.csps
    ]


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
