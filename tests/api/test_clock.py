"""The app's one clock (api/clock.py): frozen on the tests' day on both sides."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api import clock
from api.config import Settings
from tests.clock import TODAY


def test_the_tests_and_the_app_share_one_day(client: TestClient) -> None:
    assert clock.today() == TODAY and clock.now().date() == TODAY
    # The server computes its own "today" per request: the audit trail's export names it.
    response = client.get("/api/audit-log.csv")
    assert response.status_code == 200
    assert f'filename="journal_{TODAY.isoformat()}.csv"' in response.headers["content-disposition"]


def test_without_a_frozen_day_the_clock_is_the_real_one() -> None:
    clock.freeze(None)
    try:
        before = datetime.now(UTC)
        assert clock.today() in (date.today(), before.date(), datetime.now(UTC).date())
        assert before <= clock.now() <= datetime.now(UTC)
    finally:
        clock.freeze(TODAY)
    assert clock.today() == TODAY


def test_psq_today_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSQ_TODAY", "2025-02-28")
    assert clock._from_environment() == date(2025, 2, 28)
    assert Settings().today == date(2025, 2, 28)
    monkeypatch.setenv("PSQ_TODAY", "28/02/2025")
    with pytest.raises(ValueError, match="PSQ_TODAY : « 28/02/2025 »"):
        clock._from_environment()
    with pytest.raises(ValidationError, match="today"):
        Settings()
