"""The notification outbox on the direction's journal page, in real Chromium: each
message with its state and its attempts, filtered by state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.repositories import notifications as repo

pytestmark = pytest.mark.browser


def test_the_direction_reads_the_outbox(
    browser: Any, live_demo: str, demo_adopted: sessionmaker[Session], artifacts: Any
) -> None:
    now = datetime.now(UTC)
    with demo_adopted() as session, session.begin():
        repo.enqueue(
            session,
            kind="meeting-invitation",
            recipient="pm@belfort.example",
            subject="Invitation : réunion du GPO Centre",
            body="Bonjour",
            attachment=("reunion.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR"),
        )
        first = repo.claim_next(session, now=now + timedelta(seconds=1))
        assert first is not None
        repo.record_attempt(session, first, at=now, error=None, retry_at=None)
    with demo_adopted() as session, session.begin():
        repo.enqueue(
            session,
            kind="action-overdue",
            recipient="inconnu@belfort.example",
            subject="Action en retard : Prévention",
            body="Bonjour",
        )
        second = repo.claim_next(session, now=now + timedelta(seconds=1))
        assert second is not None
        repo.record_attempt(
            session, second, at=now, error="destinataire refusé (550 <inconnu>)", retry_at=None
        )

    page = browser.new_page(viewport={"width": 1440, "height": 950})
    page.goto(f"{live_demo}/journal")
    page.wait_for_function("document.body.dataset.outboxReady === 'true'")
    assert page.locator("#outbox-error").inner_text() == ""
    rows = page.locator("#outbox-table tbody tr")
    assert rows.count() == 2
    failed, sent = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "inconnu@belfort.example" in failed and "abandonnée" in failed
    assert "échec (destinataire refusé (550 <inconnu>))" in failed
    assert "Invitation : réunion du GPO Centre" in sent and "(reunion.ics)" in sent
    assert "envoyée" in sent
    assert page.locator("#outbox-count").inner_text() == "2 notification(s) affichée(s) sur 2."

    page.get_by_label("État").select_option("sent")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_function("document.querySelectorAll('#outbox-table tbody tr').length === 1")
    assert "pm@belfort.example" in rows.nth(0).inner_text()
    page.locator("#outbox-title").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "journal_notifications.png"))
