"""Sector plans in tests: run proposals through the API (start the job, poll it) and
find cells to edit."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import h3
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


def border_cells(sectors: dict[str, int], n: int) -> tuple[list[str], int, int]:
    """``n`` cells of a sector that touch another sector (H3 neighbours), on the longest
    border between two sectors: the cells, their sector and the other one."""
    borders: dict[tuple[int, int], list[str]] = defaultdict(list)
    for cell, s in sorted(sectors.items()):
        others = {sectors[nb] for nb in h3.grid_ring(cell, 1) if sectors.get(nb, s) != s}
        for t in sorted(others):
            borders[s, t].append(cell)
    (source, target), cells = max(borders.items(), key=lambda item: len(item[1]))
    assert len(cells) >= n
    return cells[:n], source, target


def border_chain(sectors: dict[str, int], n: int) -> tuple[list[str], int, int]:
    """``n`` cells of a sector that touch another sector, each a neighbour of the next:
    a mouse dragged from one centre to the next crosses only these cells."""
    borders: dict[tuple[int, int], set[str]] = defaultdict(set)
    for cell, s in sectors.items():
        for nb in h3.grid_ring(cell, 1):
            t = sectors.get(nb, s)
            if t != s:
                borders[s, t].add(cell)
    for (source, target), border in sorted(borders.items(), key=lambda i: -len(i[1])):
        for start in sorted(border):
            chain = [start]
            while len(chain) < n:
                nxt = sorted(
                    nb for nb in h3.grid_ring(chain[-1], 1) if nb in border and nb not in chain
                )
                if not nxt:
                    break
                chain.append(nxt[0])
            if len(chain) == n:
                return chain, source, target
    raise AssertionError(f"no chain of {n} border cells")


def adopt(client: TestClient, plan_id: int, **headers: str) -> Any:
    """Adopt a plan as the page does: read its preview, then confirm it (with the adopted
    plan the preview was made on, and a reason when it violates constraints)."""
    preview = client.get(f"/api/plans/{plan_id}/adoption", headers=headers)
    assert preview.status_code == 200, preview.text
    body: dict[str, Any] = {
        "confirm": True,
        "expected_adopted_plan_id": preview.json()["adopted_plan_id"],
    }
    if preview.json()["override_required"]:
        body["override_reason"] = "Adopté pour les tests malgré ses contraintes"
    return client.post(f"/api/plans/{plan_id}/adopt", json=body, headers=headers)


#: An adoption's confirmation when no plan is adopted yet.
CONFIRMED = {"confirm": True, "expected_adopted_plan_id": None}
