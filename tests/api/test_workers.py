"""Several server processes (``psq serve --workers N``): the database prepared once, each
request answered by one of the workers, a write through one seen by the others' caches, a
job started through one polled and cancelled through another, Ctrl+C stopping them all;
what must happen once happening once: a job is failed at start-up only when no live
process holds it, one notification worker delivers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.cluster import free_port
from api.config import PROJECT_ROOT
from api.db import head_revision
from api.jobs import JobRunner
from api.models import Notification
from api.services import jobs
from api.services.context import Context
from api.services.notifications import NotificationWorker
from tests.api.test_job_control import _endless, _job, _state
from tests.api.test_notifications import SmtpTestServer, _queue, delivery_to
from tests.conftest import ADMIN
from tests.roles import bearer_for

#: The demo CSP's centre (Belfort), where a problem is recorded.
BELFORT = {"lon": 6.8628, "lat": 47.6379}


def _wait(what: Callable[[], Any], *, timeout: float = 60, pause: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := what()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(pause)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _one_client_per_worker(base: str, headers: dict[str, str], n: int) -> dict[int, httpx.Client]:
    """A keep-alive client connected to each of ``n`` workers, by the worker's pid (which
    readiness reports): new connections until each worker has accepted one."""
    found: dict[int, httpx.Client] = {}
    deadline = time.monotonic() + 90
    while len(found) < n:
        assert time.monotonic() < deadline, f"workers seen: {sorted(found)}"
        client = httpx.Client(base_url=base, headers=headers, timeout=60)
        try:
            pid = int(client.get("/api/health/ready").json()["worker"])
        except (httpx.HTTPError, ValueError, KeyError):
            client.close()
            time.sleep(0.3)  # not started yet
            continue
        if pid in found:
            client.close()
        else:
            found[pid] = client
    return found


@pytest.fixture
def two_workers(
    demo: sessionmaker[Session], database_url: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """``psq serve --workers 2`` on the demo database, its output in a file: the process,
    its base URL and the output's path. Stopped by the test (else killed after)."""
    del demo
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PSQ_BOUND_SECONDS": "0.25",
        "PSQ_JOB_DEADLINE_MINUTES": "1",
    }
    output = tmp_path / "serve.log"
    command = [sys.executable, "-m", "psq.cli", "serve", "--no-demo", "--workers", "2"]
    with output.open("wb") as out:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield server, f"http://127.0.0.1:{port}", output
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(30)


def test_two_worker_processes_share_the_database_and_stop_together(
    demo: sessionmaker[Session], two_workers: tuple[subprocess.Popen[bytes], str, Path]
) -> None:
    server, base, output = two_workers
    admin = bearer_for(Context(demo), "admin", email=ADMIN)
    clients = _one_client_per_worker(base, admin, 2)
    (pid_a, a), (pid_b, b) = clients.items()
    try:
        assert pid_a != pid_b and server.pid not in clients
        ready = a.get("/api/health/ready").json()  # (migrated once, by the parent)
        assert (ready["status"], ready["migration"], ready["worker"]) == (
            "ok",
            head_revision(),
            pid_a,  # kept on its worker
        )
        csp = a.get("/api/csp").json()["data"][0]["id"]

        # A list B serves from its cache, then a problem recorded through A: B's next
        # answer holds it (its cache is kept by the problems' revision in the database).
        listed = f"/api/csp/{csp}/problems?limit=1"
        before = b.get(listed).json()
        assert b.get(listed).json() == before  # the cached answer
        made = a.post(
            f"/api/csp/{csp}/problems",
            json={"category": "nuisances", "title": "Tapage (multi-processus)", **BELFORT},
        )
        assert made.status_code == 201, made.text
        after = b.get(listed).json()
        assert after["count"] == before["count"] + 1
        assert after["features"][0]["id"] == made.json()["id"]

        # A job started through A runs in A; B sees it run, cancels it, sees it stop. An
        # exact proposal with a long time limit runs until it is stopped: « annulée »
        # before it holds a plan, else its best plan kept, saying it was stopped.
        started = a.post(
            f"/api/csp/{csp}/plans", json={"k": 4, "method": "exact", "time_limit": 300}
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        _wait(lambda: b.get(f"/api/jobs/{job_id}").json()["status"] == "running")
        asked = b.post(f"/api/jobs/{job_id}/cancel")
        assert asked.status_code == 200 and asked.json()["status"] == "cancelling", asked.text

        def stopped() -> dict[str, Any] | None:
            job: dict[str, Any] = b.get(f"/api/jobs/{job_id}").json()
            return None if job["status"] in {"running", "cancelling"} else job

        ended = _wait(stopped)
        if ended["status"] == "done":
            notes = b.get(f"/api/plans/{ended['plan_id']}").json()["notes"]
            assert any(n.startswith("recherche arrêtée (annulée à la demande)") for n in notes)
        else:
            assert (ended["status"], ended["error"]) == ("cancelled", "annulée à la demande")
    finally:
        for client in clients.values():
            client.close()

    # Ctrl+C: the parent stops both workers and ends.
    server.send_signal(signal.SIGINT)
    assert server.wait(30) == 0
    assert not _alive(pid_a) and not _alive(pid_b)
    said = output.read_text()
    said_flat = " ".join(said.split())  # (rich may fold a long line)
    assert f"PSQ Secteurs : {base}/ (2 processus ; Ctrl+C pour arrêter)" in said_flat
    assert said.count("start-up heap frozen") == 2  # settled in each worker
    assert said.count("Application startup complete.") == 2
    assert said.count("Application shutdown complete.") == 2
    assert "Traceback" not in said


def test_start_up_fails_only_the_jobs_no_live_process_holds(
    factory: sessionmaker[Session],
) -> None:
    """A worker starting beside another that runs a job leaves it running; a job whose
    process is gone (its connection closed, as at a crash) is failed."""
    jobs.fail_interrupted(Context(factory))  # what earlier tests left: counts below are ours
    runner, gone = JobRunner(factory), JobRunner(factory)
    running = 0
    try:
        running, orphan, crashed = _job(factory), _job(factory), _job(factory)
        started = threading.Event()
        runner.submit(job_id=running, work=_endless(started))
        assert started.wait(10)
        gone.claim(crashed)
        assert jobs.fail_interrupted(Context(factory)) == 1
        assert [_state(factory, j)[0] for j in (running, orphan, crashed)] == [
            "running",
            "failed",
            "queued",
        ]
        assert _state(factory, orphan)[1] == "interrupted: the server stopped"
        gone.shutdown()  # its connection closed: its locks are free
        assert jobs.fail_interrupted(Context(factory)) == 1
        assert _state(factory, crashed)[0] == "failed"
        assert _state(factory, running)[0] == "running"
        jobs.cancel_job(Context(factory), running)
        _wait(lambda: _state(factory, running)[0] == "cancelled", timeout=10)
    finally:
        # the endless job stopped even when an assertion above failed (else no end)
        if running and _state(factory, running)[0] in {"queued", "running"}:
            jobs.cancel_job(Context(factory), running)
        runner.shutdown()
        gone.shutdown()


def _sent(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Notification).where(Notification.status == "sent")
            )
            or 0
        )


def test_one_notification_worker_delivers_among_several(
    factory: sessionmaker[Session], smtp: SmtpTestServer
) -> None:
    """Two apps' workers on one database: one delivers, each message once; when it stops,
    the other takes over."""
    delivery = delivery_to(smtp, poll_seconds=0.1)
    workers = [NotificationWorker(Context(factory), delivery) for _ in range(2)]
    try:
        for worker in workers:
            worker.start()
        _queue(factory, 5)
        _wait(lambda: _sent(factory) == 5, timeout=30)
        leaders = [w for w in workers if w.leading]
        assert len(leaders) == 1
        subjects = sorted(str(m.message["Subject"]) for m in smtp.inbox.messages)
        assert subjects == [f"Message {i}" for i in range(5)]  # each once
        leaders[0].stop(timeout=10)
        (other,) = (w for w in workers if w is not leaders[0])
        _queue(factory, 2, subject="Après la relève")
        _wait(lambda: _sent(factory) == 7, timeout=30)
        assert other.leading
        assert len(smtp.inbox.messages) == 7
    finally:
        for worker in workers:
            worker.stop(timeout=10)
