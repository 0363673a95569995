"""Costly work is bounded: a proposal larger than the budget (units times sectors) is
refused before any work, and a job stops when cancelled or past its deadline, storing
nothing of its unfinished work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.jobs import JobRunner
from api.repositories import jobs as job_rows
from api.services import jobs
from api.services.context import Context
from geo.accounts import Actor
from geo.sectorize.base import Progress
from psq.app import create_app
from tests.conftest import ADMIN
from tests.roles import bearer_for


def _job(factory: sessionmaker[Session], csp_id: int = 1) -> int:
    with factory.begin() as session:
        session.execute(
            text(
                "INSERT INTO csp (id, code, name, geom) VALUES (:id, 'C', 'CSP', "
                "ST_Multi(ST_MakeEnvelope(6, 47, 6.1, 47.1, 4326))) ON CONFLICT DO NOTHING"
            ),
            {"id": csp_id},
        )
        return job_rows.create_job(
            session=session, kind="sectorize", csp_id=csp_id, parameters={}
        ).id


def _endless(started: threading.Event) -> Callable[[Progress], int]:
    """Work that reports progress every 10 ms and never ends by itself."""

    def work(progress: Progress) -> int:
        started.set()
        while True:
            progress(0.5, "growing")
            time.sleep(0.01)

    return work


def _state(factory: sessionmaker[Session], job_id: int) -> tuple[str, str | None]:
    with factory() as session:
        row = session.execute(
            text("SELECT status, error FROM job WHERE id = :id"), {"id": job_id}
        ).one()
    return row[0], row[1]


def test_a_cancelled_job_stops_at_its_next_report(factory: sessionmaker[Session]) -> None:
    ctx = Context(factory).acting(Actor.cli("tests"))
    runner = JobRunner(factory)
    try:
        job_id = _job(factory)
        started = threading.Event()
        done = runner.submit(job_id=job_id, work=_endless(started))
        assert started.wait(10)
        assert _state(factory, job_id)[0] == "running"
        asked = jobs.cancel_job(ctx, job_id)
        assert asked.status == "cancelling"
        done.result(timeout=10)  # the worker is free again
        assert _state(factory, job_id) == ("cancelled", "annulée à la demande")
        with factory() as session:
            audited = session.execute(
                text("SELECT action, entity, entity_id FROM audit_log WHERE entity = 'job'")
            ).all()
        assert [tuple(a) for a in audited] == [("cancel", "job", str(job_id))]
    finally:
        runner.shutdown()


def test_a_job_past_its_deadline_fails_and_says_why(factory: sessionmaker[Session]) -> None:
    runner = JobRunner(factory, deadline_s=0.3)
    try:
        job_id = _job(factory)
        started = threading.Event()
        runner.submit(job_id=job_id, work=_endless(started)).result(timeout=10)
        status, error = _state(factory, job_id)
        assert status == "failed"
        assert error is not None and error.startswith("délai dépassé")
        assert "PSQ_JOB_DEADLINE_MINUTES" in error
    finally:
        runner.shutdown()


def test_cancel_through_the_api(client: TestClient, factory: sessionmaker[Session]) -> None:
    queued = _job(factory)
    answer = client.post(f"/api/jobs/{queued}/cancel")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelling"

    with factory.begin() as session:
        session.execute(text("UPDATE job SET status = 'done' WHERE id = :id"), {"id": queued})
    again = client.post(f"/api/jobs/{queued}/cancel")
    assert again.status_code == 409
    assert again.json()["detail"] == f"Statut : la tâche n° {queued} est déjà terminée (réussie)"
    assert client.post("/api/jobs/999999/cancel").status_code == 404


def test_a_proposal_over_the_budget_is_refused_before_any_work(
    settings: Settings, demo: sessionmaker[Session]
) -> None:
    with demo() as session:
        csp_id, cells = session.execute(
            text("SELECT csp_id, cell_count FROM grid WHERE resolution = 9 AND units = 'h3'")
        ).one()
    budget = cells * 5 + 1
    small = settings.model_copy(update={"max_proposal_work": budget})
    with TestClient(create_app(small)) as client:
        client.headers.update(bearer_for(client.app.state.context, "admin", email=ADMIN))
        k = 6  # the smallest k past the budget
        refused = client.post(f"/api/csp/{csp_id}/plans", json={"k": k, "resolution": 9})
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["detail"].startswith(
            f"Nombre de secteurs : {k} secteurs sur les {cells} unités de la grille"
        )
        assert "PSQ_MAX_PROPOSAL_WORK" in body["detail"]
        with demo() as session:
            assert session.execute(text("SELECT count(*) FROM job")).scalar_one() == 0
        fits = client.post(f"/api/csp/{csp_id}/plans", json={"k": k - 1, "resolution": 9})
        assert fits.status_code == 202, fits.text
