"""Fixtures of the API tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.api.massy import import_massy


@pytest.fixture
def csp_id(client: TestClient, demo: sessionmaker[Session]) -> int:
    """The id of the demo CSP."""
    del demo
    return int(client.get("/api/csp").json()["data"][0]["id"])


@pytest.fixture
def massy(factory: sessionmaker[Session]) -> int:
    """Massy and three neighbours as a CSP (no layer yet): the base map's territory."""
    return import_massy(factory)
