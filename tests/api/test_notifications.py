"""The notification outbox (issue 17): written in the event's transaction, delivered by
SMTP to a real local server (aiosmtpd), retried with backoff, never sent twice; the
reminders of actions and GPO cadences; the direction's view of the outbox."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.models import Notification
from api.repositories import notifications as repo


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Notification)) or 0)


def test_enqueue_belongs_to_the_callers_transaction(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        new_id = repo.enqueue(
            session, kind="test", recipient="a@example.org", subject="S", body="B"
        )
        assert new_id is not None
        session.rollback()
    assert _count(factory) == 0
    with factory() as session, session.begin():
        repo.enqueue(session, kind="test", recipient="A@Example.org", subject="S", body="B")
    with factory() as session:
        row = session.scalars(select(Notification)).one()
    assert (row.recipient, row.status, row.attempts) == ("a@example.org", "pending", 0)


def test_a_dedupe_key_is_queued_once(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        first = repo.enqueue(
            session, kind="t", recipient="a@example.org", subject="S", body="B", dedupe_key="k"
        )
        second = repo.enqueue(
            session, kind="t", recipient="a@example.org", subject="S2", body="B", dedupe_key="k"
        )
    assert first is not None
    assert second is None
    assert _count(factory) == 1
