"""Fixtures of the API tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def csp_id(client: TestClient, demo: sessionmaker[Session]) -> int:
    """The id of the demo CSP."""
    del demo
    return int(client.get("/api/csp").json()["data"][0]["id"])
