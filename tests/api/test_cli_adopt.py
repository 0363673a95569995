"""``psq adopt``: the preview in French, the confirmation, the override's reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from psq.cli import app as cli
from tests.audit_helpers import one
from tests.plan_helpers import propose


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def adopted(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM plan WHERE status = 'adopted'")).scalars())


def test_adopt_from_the_command_line(
    runner: CliRunner, client: TestClient, csp_id: int, engine: Engine
) -> None:
    first = propose(client, csp_id, k=2, seed=0)
    # Asked, and declined: nothing adopted.
    declined = runner.invoke(cli, ["adopt", str(first["id"])], input="n\n")
    assert declined.exit_code == 1 and adopted(engine) == []
    assert declined.output.count("nouveau GPO") == 2
    done = runner.invoke(cli, ["adopt", str(first["id"]), "--oui"])
    assert done.exit_code == 0, done.output
    assert f"Plan {first['id']} adopté" in done.output and adopted(engine) == [first["id"]]

    communes = propose(client, csp_id, k=2, method="communes")
    assert communes["violations"]
    refused = runner.invoke(cli, ["adopt", str(communes["id"]), "--oui"])
    assert refused.exit_code == 2
    assert "Motif de la dérogation :" in refused.output  # the field, named in words
    assert "donnez le motif de la dérogation" in refused.output
    assert "Contrainte non respectée" in refused.output
    assert adopted(engine) == [first["id"]]
    reason = "Décision du comité de sécurité"
    done = runner.invoke(cli, ["adopt", str(communes["id"]), "--oui", "--motif", reason])
    assert done.exit_code == 0, done.output
    assert "GPO Secteur" in done.output  # the GPOs of the first plan continue
    assert adopted(engine) == [communes["id"]]
    entry = one(client, entity="plan", action="adopt", entity_id=communes["id"])
    assert entry["detail"]["override_reason"] == reason and entry["actor"].startswith("cli:")
