"""Reading the audit trail in tests, through ``GET /api/audit-log``."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def trail(client: TestClient, **filters: Any) -> list[dict[str, Any]]:
    """The entries matching ``filters`` (query parameters), newest first."""
    response = client.get("/api/audit-log", params={"limit": 1000, **filters})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def one(client: TestClient, **filters: Any) -> dict[str, Any]:
    """The only entry matching ``filters``."""
    entries = trail(client, **filters)
    assert len(entries) == 1, entries
    return entries[0]
