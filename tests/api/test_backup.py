"""``psq db backup`` and ``psq db restore`` (pg_dump -Fc / pg_restore): a round trip into a
fresh database of the test cluster gives the same rows and the same geometries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from psq.cli import app as cli


def _url_of(database_url: str, database: str) -> str:
    return make_url(database_url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """A new, empty database (no PostGIS either) in the test cluster: its URL."""
    name = f"restored_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_url_of(database_url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _url_of(database_url, name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def snapshot(url: str) -> dict[str, object]:
    """Every table's row count and, for every geometry column, the md5 of its values'
    WKB (each value's md5, sorted, so that the rows' physical order does not count)."""
    engine = create_engine(url)
    out: dict[str, object] = {}
    with engine.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ).scalars()
        for table in list(tables):
            out[table] = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        columns = conn.execute(
            text(
                "SELECT f_table_name, f_geometry_column FROM geometry_columns "
                "WHERE f_table_schema = 'public' ORDER BY 1, 2"
            )
        ).all()
        for table, column in columns:
            out[f"{table}.{column}"] = conn.execute(
                text(
                    f"SELECT md5(string_agg(h, ',' ORDER BY h)) FROM (SELECT "
                    f'md5(ST_AsBinary("{column}")) AS h FROM "{table}") AS g'
                )
            ).scalar_one()
    engine.dispose()
    return out


def test_backup_and_restore_round_trip(
    demo: sessionmaker[Session],
    database_url: str,
    fresh_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    del demo  # the demo territory: communes, CSP, layers
    runner = CliRunner()
    monkeypatch.setenv("DATABASE_URL", database_url)
    loaded = snapshot(database_url)
    made = runner.invoke(cli, ["synth-problems", "--csp", "belfort", "--count", "40"])
    assert made.exit_code == 0, made.output
    before = snapshot(database_url)
    assert before["problem"] == loaded["problem"] + 40  # type: ignore[operator]
    assert before["commune"] == 101  # the communes of the Territoire de Belfort (90)
    assert before["problem.geom"] is not None and before["commune.geom"] is not None

    dump = tmp_path / "sauvegardes" / "psq.dump"
    saved = runner.invoke(cli, ["db", "backup", str(dump)])
    assert saved.exit_code == 0, saved.output
    assert "Base sauvegardée" in saved.output and dump.read_bytes()[:5] == b"PGDMP"

    # Not into a database that holds tables, unless --remplacer.
    refused = runner.invoke(cli, ["db", "restore", str(dump)])
    assert refused.exit_code == 2
    assert "n'est pas vide" in refused.output and "--remplacer" in refused.output

    monkeypatch.setenv("DATABASE_URL", fresh_database)
    restored = runner.invoke(cli, ["db", "restore", str(dump)])
    assert restored.exit_code == 0, restored.output
    assert snapshot(fresh_database) == before

    # Again, over what it now holds: --remplacer drops and recreates.
    again = runner.invoke(cli, ["db", "restore", str(dump), "--remplacer"])
    assert again.exit_code == 0, again.output
    assert snapshot(fresh_database) == before


def test_restore_refuses_what_is_not_a_backup(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    junk = tmp_path / "notes.txt"
    junk.write_text("pas une sauvegarde")
    result = CliRunner().invoke(cli, ["db", "restore", str(junk)])
    assert result.exit_code == 2 and "n'est pas une sauvegarde" in result.output
    missing = CliRunner().invoke(cli, ["db", "restore", str(tmp_path / "absent.dump")])
    assert missing.exit_code == 2 and "n'existe pas" in missing.output
