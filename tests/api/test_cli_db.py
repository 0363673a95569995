"""The CLI commands no test ran before (issue 24): ``psq db start|stop|status|url|migrate``
on a local cluster of its own, ``psq import-qpv-list``, ``psq grid build`` (H3) and
``psq serve`` (in tests/api/test_workers.py, with its worker processes); their output,
not only their exit codes."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cluster import LocalCluster, free_port
from api.config import PROJECT_ROOT
from api.db import head_revision
from psq.cli import app as cli

QPV_LIST = PROJECT_ROOT / "data" / "boundaries" / "qpv2024_liste_90.csv"


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, int]]:
    """No DATABASE_URL, a var directory and a port of its own: the app's local cluster."""
    base = Path(tempfile.mkdtemp(prefix="psq-cli-db-"))
    base.chmod(0o755)  # the server runs as the postgres user when the tests run as root
    port = free_port()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PSQ_DATABASE_URL", raising=False)
    monkeypatch.setenv("PSQ_VAR_DIR", str(base))
    monkeypatch.setenv("PSQ_LOCAL_DB_PORT", str(port))
    yield base, port
    LocalCluster(base / "postgres", port=port).destroy()
    shutil.rmtree(base, ignore_errors=True)


def test_db_start_status_url_migrate_stop(local: tuple[Path, int]) -> None:
    base, port = local
    runner = CliRunner()

    absent = runner.invoke(cli, ["db", "status"])
    assert absent.exit_code == 3
    assert f"Base locale absente ({base / 'postgres' / 'data'})" in " ".join(absent.output.split())

    started = runner.invoke(cli, ["db", "start"])
    assert started.exit_code == 0, started.output
    # (rich may fold a long line: read it without its white space)
    url = "".join(started.output.split()).split("Baselocaledémarrée:")[1]
    assert url.startswith("postgresql+psycopg://") and f":{port}/" in url

    running = runner.invoke(cli, ["db", "status"])
    assert running.exit_code == 0
    assert re.search(rf"Base locale démarrée \(pid \d+, port {port}\)", running.output)

    told = runner.invoke(cli, ["db", "url"])
    assert (told.exit_code, "".join(told.output.split())) == (0, url)

    migrated = runner.invoke(cli, ["db", "migrate"])
    assert (migrated.exit_code, migrated.output.strip()) == (0, "Schéma à jour.")
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version is not None and version[0] == head_revision()

    stopped = runner.invoke(cli, ["db", "stop"])
    assert (stopped.exit_code, stopped.output.strip()) == (0, "Base locale arrêtée.")
    again = runner.invoke(cli, ["db", "stop"])
    assert again.output.strip() == "La base locale n'était pas démarrée."
    down = runner.invoke(cli, ["db", "status"])
    assert down.exit_code == 3 and "Base locale arrêtée" in down.output


@pytest.fixture
def runner(
    demo: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    del demo
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def test_import_qpv_list(runner: CliRunner, engine: Engine) -> None:
    # The file lists 9 (QPV, commune) pairs: 7 QPVs, two of them on two communes.
    result = runner.invoke(cli, ["import-qpv-list", str(QPV_LIST)])
    assert result.exit_code == 0, result.output
    assert "9 couple(s) commune-QPV enregistré(s)" in result.output
    with engine.connect() as conn:
        pairs = conn.execute(text("SELECT count(*), count(DISTINCT qpv_code) FROM commune_qpv"))
        assert tuple(pairs.one()) == (9, 7)
    missing = runner.invoke(cli, ["import-qpv-list", "/nonexistent/qpv.csv"])
    assert missing.exit_code == 2 and "Erreur" in missing.output


def test_grid_build_h3(runner: CliRunner, engine: Engine) -> None:
    result = runner.invoke(cli, ["grid", "build", "--csp", "1", "--res", "8"])
    assert result.exit_code == 0, result.output
    found = re.search(r"Grille 8 : (\d+) cellules, (\d+) composante\(s\)", result.output)
    assert found, result.output
    with engine.connect() as conn:
        grid_id, cells, components = conn.execute(
            text(
                "SELECT id, cell_count, component_count FROM grid "
                "WHERE csp_id = 1 AND units = 'h3' AND resolution = 8"
            )
        ).one()
        stored = conn.execute(
            text("SELECT count(*), count(DISTINCT component) FROM cell WHERE grid_id = :g"),
            {"g": grid_id},
        ).one()
    assert (int(found[1]), int(found[2])) == (cells, components) == tuple(stored)
    assert all(len(h) == 15 for (h,) in _cells(engine, grid_id))  # H3 indexes, not blocks


def _cells(engine: Engine, grid_id: int) -> list[tuple[str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT h3 FROM cell WHERE grid_id = :g"), {"g": grid_id})
        return [tuple(r) for r in rows]
