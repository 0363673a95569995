"""Faults, for real: an import killed with ``kill -9`` at each of its stages leaves the
database as it was, and PostgreSQL killed under requests gives clean 503s, then the app
recovers when the server is back, without a restart of the app.

Both run on a cluster of their own (never the suite's shared database): the kills must not
reach the other tests."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from api.cluster import LocalCluster, free_port
from api.config import Settings
from api.db import PING_AFTER_IDLE_S, make_engine, make_session_factory, migrate
from api.schemas import AccountCreate
from api.services import accounts
from api.services.context import Context
from api.services.territory import import_territory
from geo.accounts import Actor
from geo.territory import read_communes
from tests.conftest import DEMO_DIR, serving

ROOT = Path(__file__).resolve().parents[2]
APP_NAME = "psq-fault-import"


@dataclass
class Territory:
    cluster: LocalCluster
    url: str
    csp_id: int
    base: Path
    token: str

    @property
    def dsn(self) -> str:
        return self.url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="module")
def territory() -> Iterator[Territory]:
    """A cluster of its own holding the demo's communes and one CSP (no problem yet), and
    the bearer token of an admin account."""
    base = Path(tempfile.mkdtemp(prefix="psq-faults-"))
    base.chmod(0o755)
    cluster = LocalCluster(base / "pg", port=free_port(), database="faults", durable=False)
    try:
        url = cluster.start()
        migrate(url)
        engine = make_engine(url)
        try:
            ctx = Context(make_session_factory(engine)).acting(Actor.cli("faults"))
            communes = read_communes(DEMO_DIR / "communes_90.geojson")
            report = import_territory(ctx, layer=communes, csp_name="CSP des pannes")
            admin = accounts.create_account(
                ctx,
                AccountCreate(email="admin@faults.example", role="admin", password="panne 2026 !"),
            )
            token = accounts.create_token(ctx, admin.id, "faults").token
        finally:
            engine.dispose()
        yield Territory(cluster, url, report.csp_id, base, token)
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


def _problem_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM problem").fetchone()
    assert row is not None
    return int(row[0])


def _write_problems(path: Path, rows: int) -> None:
    """``rows`` valid problems inside the Territoire de Belfort (around Belfort's centre)."""
    rng = random.Random(7)
    lines = ["category;title;reported_on;lon;lat"]
    for i in range(rows):
        lon = 6.845 + rng.random() * 0.03
        lat = 47.63 + rng.random() * 0.02
        lines.append(f"nuisances;Tapage n° {i};2025-0{1 + i % 9}-1{i % 9};{lon:.6f};{lat:.6f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _import_stage(dsn: str) -> str | None:
    """What the import's connection is doing: ``None`` before it connects, else the
    start of its current (or last) statement and its state."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT state, query FROM pg_stat_activity WHERE application_name = %s "
            "ORDER BY backend_start DESC LIMIT 1",
            (APP_NAME,),
        ).fetchone()
    if row is None:
        return None
    state, query = row
    return f"{state}: {' '.join(str(query).split())[:60]}"


#: The stages of ``psq import-problems`` as seen from PostgreSQL, by what its connection
#: shows: none yet (the interpreter starts), idle after finding the CSP (the file is
#: being read and checked in memory), then streaming the rows with COPY.
STAGES: dict[str, Callable[[str | None, float], bool]] = {
    "starting": lambda stage, elapsed: stage is None and elapsed > 0.3,
    "reading": lambda stage, _: (
        stage is not None and stage.startswith("idle:") and "COPY" not in stage.upper()
    ),
    "copying": lambda stage, _: stage is not None and "COPY" in stage.upper(),
}


def _run_import(territory: Territory, path: Path, kill_at: str | None) -> tuple[int, str]:
    """Run ``psq import-problems``; with ``kill_at`` (a key of :data:`STAGES`), kill it
    with SIGKILL once it reaches that stage. Its exit code and the stage seen at the kill."""
    env = {
        **os.environ,
        "DATABASE_URL": territory.url,
        "PGAPPNAME": APP_NAME,
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "psq.cli", "import-problems", str(path)]
    started = time.monotonic()
    process = subprocess.Popen(
        [*command, "--csp", str(territory.csp_id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    seen = "not killed"
    while kill_at is not None and process.poll() is None:
        stage = _import_stage(territory.dsn)
        if STAGES[kill_at](stage, time.monotonic() - started):
            process.send_signal(signal.SIGKILL)
            seen = stage or "not connected yet"
            break
        time.sleep(0.005)
    process.wait(timeout=120)
    return process.returncode, seen


def _wait_backend_gone(dsn: str) -> None:
    """The killed client's backend ends (and its transaction rolls back) once PostgreSQL
    notices the closed socket."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,)
            ).fetchone()
        if row is not None and row[0] == 0:
            return
        time.sleep(0.1)
    raise AssertionError("the killed import's connection is still open after 30 s")


def test_an_import_killed_at_any_stage_leaves_nothing(territory: Territory) -> None:
    rows = 30_000
    path = territory.base / "problemes.csv"
    _write_problems(path, rows)
    before = _problem_count(territory.dsn)

    for stage in STAGES:
        code, seen = _run_import(territory, path, stage)
        assert code == -signal.SIGKILL, (stage, code, seen)
        _wait_backend_gone(territory.dsn)
        assert _problem_count(territory.dsn) == before, f"killed while {seen}"

    # Nothing is locked or half-written: the same file then imports whole.
    code, _ = _run_import(territory, path, None)
    assert code == 0
    assert _problem_count(territory.dsn) == before + rows
    with psycopg.connect(territory.dsn) as conn:
        audited = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'import' AND entity = 'problem'"
        ).fetchone()
    assert audited == (1,)  # only the import that committed is in the audit trail


def _kill_cluster(cluster: LocalCluster) -> None:
    """SIGKILL the postmaster and every backend of this cluster (a crash, not a stop)."""
    pid = cluster.status().pid
    assert pid is not None
    children = [
        int(p)
        for p in os.listdir("/proc")
        if p.isdigit() and _parent_of(int(p)) == pid  # backends and auxiliary processes
    ]
    for victim in [pid, *children]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in [pid, *children]):
        time.sleep(0.05)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_postgresql_killed_under_requests_gives_503_then_recovers(
    territory: Territory, tmp_path: Path
) -> None:
    settings = Settings(database_url=territory.url, var_dir=tmp_path / "var", demo_dir=DEMO_DIR)
    headers = {"Authorization": f"Bearer {territory.token}"}
    paths = ["/api/health/ready", "/api/me", f"/api/csp/{territory.csp_id}", "/api/csp"]
    answers: list[tuple[float, int, str]] = []
    stop = threading.Event()
    lock = threading.Lock()

    with serving(settings) as base:

        def hammer(worker: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
                i = worker
                while not stop.is_set():
                    path = paths[i % len(paths)]
                    i += 1
                    try:
                        answer = http.get(path)
                        row = (time.monotonic(), answer.status_code, answer.text[:300])
                    except httpx.HTTPError as exc:  # a hang or a dropped connection
                        row = (time.monotonic(), 0, repr(exc))
                    with lock:
                        answers.append(row)

        workers = [threading.Thread(target=hammer, args=(w,)) for w in range(4)]
        for worker in workers:
            worker.start()
        try:
            # answers before the kill, however slow the loaded machine's first ones
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with lock:
                    if sum(1 for a in answers if a[1] == 200) >= 4:
                        break
                time.sleep(0.1)
            killed_at = time.monotonic()
            _kill_cluster(territory.cluster)
            time.sleep(2.0)
            restarted_at = time.monotonic()
            territory.cluster.start()  # crash recovery, same port and data
            time.sleep(3.0)
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=30)

    before = [a for a in answers if a[0] < killed_at]
    down = [a for a in answers if killed_at + 0.5 < a[0] < restarted_at]
    after = [a for a in answers if a[0] > restarted_at + 2.0]
    assert before and down and after, (len(before), len(down), len(after))
    statuses = {status for _, status, _ in answers}
    assert statuses <= {200, 503}, sorted(statuses)  # never a 500, never a hang
    assert {s for _, s, _ in before} == {200}
    assert {s for _, s, _ in down} == {503}
    unavailable = next(body for _, s, body in down if s == 503)
    assert "base de données" in unavailable.lower() or "indisponible" in unavailable.lower()
    assert {s for _, s, _ in after} == {200}  # recovered without restarting the app


def test_a_connection_lost_while_idle_is_replaced_a_busy_one_not_pinged(
    database_url: str,
) -> None:
    """A pooled connection idle for ``PING_AFTER_IDLE_S`` is pinged before it is handed
    out: one whose backend ended is replaced, the request never sees it. One back in the
    pool for less is handed out as it is (no round trip): its backend, ended meanwhile,
    fails the statement, which invalidates the pool, and the next checkout is a new one."""
    engine, admin = make_engine(database_url), make_engine(database_url)
    pid = "SELECT pg_backend_pid()"

    def terminate(backend: int) -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")

    try:
        with engine.connect() as conn:
            first = conn.exec_driver_sql(pid).scalar_one()
        terminate(first)
        # just returned: not pinged, its backend is gone
        with engine.connect() as conn, pytest.raises(OperationalError):
            conn.exec_driver_sql(pid)
        with engine.connect() as conn:
            second = conn.exec_driver_sql(pid).scalar_one()
        assert second != first
        terminate(second)
        time.sleep(PING_AFTER_IDLE_S + 0.1)
        with engine.connect() as conn:  # idle long enough: pinged, replaced unseen
            third = conn.exec_driver_sql(pid).scalar_one()
        assert third not in (first, second)
    finally:
        engine.dispose()
        admin.dispose()
