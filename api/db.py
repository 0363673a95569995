"""Engine, sessions and migrations."""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    # A connection per concurrent request kept open (pool_size), a few more opened when a
    # burst needs them: an overflow connection is closed when returned, and opening one
    # costs a PostgreSQL backend start at every request under load.
    # No JIT: the app's queries run in milliseconds to a few hundred, and PostgreSQL's
    # LLVM compilation, triggered by cost estimates that spatial joins inflate, cost up to
    # 2 s of a 4 s count of problems per cell (EXPLAIN ANALYZE, 100 000 problems).
    engine = create_engine(
        url,
        pool_size=12,
        max_overflow=8,
        connect_args={"options": "-c jit=off"},
    )
    event.listen(engine.pool, "connect", _idle_since)
    event.listen(engine.pool, "checkin", _idle_since)
    event.listen(engine.pool, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


#: A connection back in the pool for less than this is handed out without a ping: under
#: load every request checks a connection out two or three times (its caller, its work),
#: and a ping at each (``pool_pre_ping``) was a round trip to PostgreSQL each time. A
#: connection that died in use fails its statement, which invalidates the whole pool
#: (SQLAlchemy's disconnect handling: a 503 for that request, fresh connections after).
PING_AFTER_IDLE_S = 1.0


def _idle_since(_connection: Any, record: Any, *_: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection idle in the pool for :data:`PING_AFTER_IDLE_S` or more before
    handing it out (what ``pool_pre_ping`` does at every checkout): a dead one is replaced
    (the pool retries with a new connection)."""
    since = record.info.get("idle_since")
    if since is not None and time.monotonic() - since < PING_AFTER_IDLE_S:
        return
    try:
        alive = dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError("the connection was lost while idle") from exc
    if not alive:
        raise DisconnectionError("the connection was lost while idle")


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


@functools.cache
def head_revision() -> str:
    """The newest migration of the code (``0015`` …): read once per process (the
    readiness check asks it on every call)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()
    return str(head)


def current_revision(session: Session) -> str | None:
    """The migration the database's schema is at (None before the first one)."""
    exists = session.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    return session.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))


def postgis_version(session: Session) -> str:
    """The PostGIS library's version (answers only when the database is reachable)."""
    return str(session.scalar(text("SELECT postgis_lib_version()")))


def copy_frame(session: Session, table: str, frame: pd.DataFrame, chunk: int = 200_000) -> None:
    """COPY a DataFrame's rows into the table's columns of the same names, through the
    session's connection and in its transaction: the fast path of bulk imports. The
    rows travel as CSV written by pandas (geometries as hex EWKB; missing values and
    empty strings become NULL)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    sql = f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for start in range(0, len(frame), chunk):
            copy.write(frame.iloc[start : start + chunk].to_csv(header=False, index=False))


def read_query(session: Session, query: str) -> pd.DataFrame:
    """The rows of a query (no parameters: inline only checked integers) read through
    ``COPY … TO STDOUT``: the fast path to bring a million rows into pandas."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    buffer = io.BytesIO()
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy,
    ):
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    return pd.read_csv(buffer)
