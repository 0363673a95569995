"""Engine, sessions and migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def include_object(
    obj: object,  # noqa: ARG001
    name: str | None,  # noqa: ARG001
    type_: str,
    reflected: bool,
    compare_to: object | None,
) -> bool:
    """Alembic filter: tables of the database that no model declares (PostGIS' own
    ``spatial_ref_sys``, ``topology``…) are not ours to compare or drop."""
    return not (type_ == "table" and reflected and compare_to is None)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the database schema to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def postgis_version(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT postgis_lib_version()")).scalar_one())


def copy_frame(session: Session, table: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame's rows into the table's columns of the same names, through the
    session's connection and in its transaction: the fast path of bulk imports
    (geometries as hex EWKB, nulls as None)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in frame.itertuples(index=False, name=None):
            copy.write_row(row)
