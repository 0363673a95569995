"""Backups of the database with PostgreSQL's own tools: ``pg_dump`` in its custom format
(``-Fc``: compressed, restored selectively and in parallel by ``pg_restore``) and
``pg_restore``.

The tools are those of the PostgreSQL installation the local cluster uses
(:func:`api.cluster.find_bindir`: ``PSQ_PG_BINDIR``, else the newest
``/usr/lib/postgresql/*/bin``), else the ones on ``PATH``. They connect with the
database URL's parts passed in libpq's environment variables (``PGHOST``, ``PGPASSWORD``…),
so that no password appears in a command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from api.cluster import ClusterError, find_bindir
from geo.errors import ConflictError, InvalidInputError, UnavailableError


def pg_tool(name: str) -> Path:
    """The path of a PostgreSQL client tool (``pg_dump``, ``pg_restore``)."""
    try:
        candidate = find_bindir() / name
        if candidate.exists():
            return candidate
    except ClusterError:
        pass
    if found := shutil.which(name):
        return Path(found)
    raise UnavailableError("backup_tool_missing", name=name)


def libpq_environment(url: str) -> dict[str, str]:
    """The environment that points libpq's tools at the database of a SQLAlchemy URL.

    >>> env = libpq_environment("postgresql+psycopg://u:s3cret@db.example:5433/psq")
    >>> {k: env[k] for k in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")}
    {'PGHOST': 'db.example', 'PGPORT': '5433', 'PGUSER': 'u', 'PGPASSWORD': 's3cret', \
'PGDATABASE': 'psq'}
    """
    parsed = make_url(url)
    env = dict(os.environ)
    parts = {
        "PGHOST": parsed.host or parsed.query.get("host"),
        "PGPORT": str(parsed.port) if parsed.port else parsed.query.get("port"),
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    for key, value in parts.items():
        if isinstance(value, tuple):  # a query parameter given twice
            value = value[0]
        if value:
            env[key] = str(value)
    return env


def _dsn(url: str) -> str:
    """A libpq connection string for psycopg (SQLAlchemy's driver suffix removed)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str], url: str, what: str) -> None:
    done = subprocess.run(
        args, env=libpq_environment(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise UnavailableError(
            "backup_tool_failed",
            what=what,
            returncode=str(done.returncode),
            said=" / ".join(said[-5:]),
        )


def backup(url: str, file: Path) -> int:
    """Write the whole database (schema and data, PostGIS included) to ``file`` in
    ``pg_dump``'s custom format; returns the file's size in bytes."""
    if file.is_dir():
        raise InvalidInputError("backup_file_is_directory", field="FICHIER", file=str(file))
    file.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [str(pg_tool("pg_dump")), "--format=custom", "--file", str(file), "--no-password"],
        url,
        "pg_dump",
    )
    return file.stat().st_size


def user_tables(url: str) -> list[str]:
    """The tables of the database that no extension owns (PostGIS' ``spatial_ref_sys``
    is not one of them): none in an empty database."""
    with psycopg.connect(_dsn(url)) as conn:
        rows = conn.execute(
            """
            SELECT n.nspname || '.' || c.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%'
              AND NOT EXISTS (
                SELECT 1 FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
              )
            ORDER BY 1
            """
        ).fetchall()
    return [str(r[0]) for r in rows]


def restore(url: str, file: Path, *, replace: bool = False) -> None:
    """Restore a backup made by :func:`backup` into the database of ``url``, in one
    transaction (all or nothing). The database must be empty (no table of its own);
    with ``replace``, the backup's objects are dropped first and recreated
    (``pg_restore --clean``)."""
    if not file.is_file():
        raise InvalidInputError("backup_file_missing", field="FICHIER", file=str(file))
    with file.open("rb") as f:
        if f.read(5) != b"PGDMP":
            raise InvalidInputError("backup_not_a_dump", field="FICHIER", file=file.name)
    tables = user_tables(url)
    if tables and not replace:
        shown = ", ".join(tables[:8]) + (f" … (+{len(tables) - 8})" if len(tables) > 8 else "")
        raise ConflictError(
            "restore_target_not_empty", field="base", count=len(tables), tables=shown
        )
    args = [
        str(pg_tool("pg_restore")),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-password",
        "--dbname",
        make_url(url).database or "",
    ]
    if replace:
        args += ["--clean", "--if-exists"]
    _run([*args, str(file)], url, "pg_restore")
