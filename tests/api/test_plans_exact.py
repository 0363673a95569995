"""The exact mode through the API (a job reporting its incumbent and bound, stopped on
request with its best plan kept), the bound of every engine proposal, and the CLI."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from psq.cli import app as cli
from tests.plan_helpers import propose


def _poll(client: TestClient, job: dict[str, Any], until: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while not until(job):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


def test_exact_proposal_reports_its_bound_and_keeps_its_best_plan_when_stopped(
    client: TestClient, csp_id: int
) -> None:
    refused = client.post(
        f"/api/csp/{csp_id}/plans", json={"k": 4, "method": "exact", "time_limit": 0}
    )
    assert refused.status_code == 422 and "time_limit" in refused.text

    started = client.post(
        f"/api/csp/{csp_id}/plans", json={"k": 4, "method": "exact", "time_limit": 300}
    )
    assert started.status_code == 202, started.text
    # The job's stage shows the incumbent (the engine's plan, warm start) and the bound…
    job = _poll(
        client,
        started.json(),
        lambda j: (
            ((j["stage"] or "").startswith("exact: meilleur plan : ") and "aucun" not in j["stage"])
            or j["status"] not in {"queued", "running"}
        ),
    )
    assert job["status"] == "running", job
    assert ", borne : " in job["stage"]
    # …and « Arrêter la proposition » stops the solver, keeping its best plan.
    assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
    job = _poll(client, job, lambda j: j["status"] not in {"queued", "running", "cancelling"})
    assert job["status"] == "done", job
    plan = client.get(f"/api/plans/{job['plan_id']}").json()
    assert plan["name"] == "Proposition exacte — 4 secteurs"
    assert plan["parameters"]["method"] == "exact" and plan["parameters"]["time_limit"] == 300
    bound = plan["parameters"]["bound"]
    assert bound["method"] == "exact" and bound["status"] == "gap"
    assert 0 < bound["lower_m"] < bound["objective_m"]
    assert bound["gap"] == pytest.approx(
        (bound["objective_m"] - bound["lower_m"]) / bound["objective_m"]
    )
    assert bound["sentence"].startswith("meilleur plan trouvé, à au plus ")
    assert any(n.startswith("recherche arrêtée (annulée à la demande)") for n in plan["notes"])
    assert plan["violations"] == [] and plan["metrics"]["contiguous"]

    # Every engine proposal carries its Lagrangian bound.
    engine = propose(client, csp_id, k=4, seed=1)
    bound = engine["parameters"]["bound"]
    assert bound["method"] == "lagrangian" and bound["status"] == "bound"
    assert 0 < bound["lower_m"] <= bound["objective_m"]
    assert bound["sentence"].startswith("à au plus ")


def test_cli_sectorizes_with_the_exact_mode(
    demo: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    del demo
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(
        cli, ["sectorize", "--csp", "Belfort", "--k", "2", "--method", "exact", "--time-limit", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "Distance au meilleur plan : " in result.output
    assert "Plan enregistré en brouillon" in result.output
