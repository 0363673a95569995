"""``psq import-problems``, ``psq synth-problems`` and ``psq import-addresses``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from psq.cli import app as cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def runner(
    demo: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    del demo
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def count(engine: Engine, where: str = "TRUE") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM problem WHERE {where}")).scalar_one())


def test_import_and_synth(runner: CliRunner, engine: Engine, tmp_path: Path) -> None:
    before = count(engine)
    bad = tmp_path / "bad.csv"
    bad.write_text("category,title,reported_on,lon,lat\nfoo,X,2025-01-01,6.86,47.63\n")
    result = runner.invoke(cli, ["import-problems", str(bad), "--csp", "belfort"])
    assert result.exit_code == 2
    assert "ligne 1, category" in result.output and "rien n'a été importé" in result.output
    good = tmp_path / "good.csv"
    good.write_text("category,title,reported_on,lon,lat\nnuisances,Tapage,2025-01-01,6.86,47.638\n")
    result = runner.invoke(cli, ["import-problems", str(good), "--csp", "belfort"])
    assert result.exit_code == 0, result.output
    assert count(engine) == before + 1

    result = runner.invoke(cli, ["synth-problems", "--csp", "belfort", "--count", "50"])
    assert result.exit_code == 0, result.output
    assert "50 problématique(s) synthétique(s)" in result.output
    assert count(engine, "synthetic") == before + 50
    assert runner.invoke(cli, ["synth-problems", "--csp", "nowhere"]).exit_code == 2


def test_import_addresses(runner: CliRunner, engine: Engine, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["import-addresses", str(FIXTURES / "ban_sample_belfort.csv")])
    assert result.exit_code == 0, result.output
    assert "9 adresse(s)" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM address")).scalar_one() == 9
    # Again: the same addresses are updated, not duplicated.
    again = runner.invoke(cli, ["import-addresses", str(FIXTURES / "ban_sample_belfort.csv")])
    assert again.exit_code == 0, again.output
    assert "9 adresse(s) lue(s) : 0 ajoutée(s), 9 mise(s) à jour, 0 retirée(s)" in again.output
    # A BANO file (no header; INSEE code = the id's first five characters), replacing the
    # addresses of its commune (Offemont, 90075: one in the sample).
    bano = tmp_path / "bano-90.csv"
    bano.write_text(
        "900750001A-7,7,Rue de Belfort,90000,Offemont,C+O,47.6620,6.8780\n"
        "900750002B-3,3bis,Rue des Prés,90000,Offemont,OSM,47.6631,6.8790\n",
        encoding="utf-8",
    )
    replaced = runner.invoke(cli, ["import-addresses", str(bano), "--remplacer"])
    assert replaced.exit_code == 0, replaced.output
    assert "2 adresse(s) lue(s) : 2 ajoutée(s), 0 mise(s) à jour, 1 retirée(s)" in replaced.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM address")).scalar_one() == 10
        suffix = "SELECT number, suffix FROM address WHERE street = 'Rue des Prés'"
        assert tuple(conn.execute(text(suffix)).one()) == ("3", "bis")
