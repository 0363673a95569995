"""Running sector proposals through the API in tests: start the job, poll it."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient


def wait_for_job(client: TestClient, job: dict[str, Any]) -> dict[str, Any]:
    """Poll a job until it ends."""
    deadline = time.monotonic() + 120
    while job["status"] in {"queued", "running"}:
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


def run_job(client: TestClient, csp_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Start a proposal and poll its job until it ends."""
    response = client.post(f"/api/csp/{csp_id}/plans", json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in {"queued", "running", "done", "failed"}
    return wait_for_job(client, job)


def propose(client: TestClient, csp_id: int, **body: Any) -> dict[str, Any]:
    """A finished proposal, read back as ``GET /api/plans/{id}``."""
    job = run_job(client, csp_id, body)
    assert job["status"] == "done", job["error"]
    assert job["progress"] == 1.0
    plan = client.get(f"/api/plans/{job['plan_id']}")
    assert plan.status_code == 200
    return plan.json()
