"""What the benchmarks share: a throwaway PostGIS cluster with the schema, for one run,
the app served over it in its own process, and the bearer header of an account of the
role a measured page is used by."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy.orm import Session, sessionmaker

from api.cluster import LocalCluster, free_port
from api.db import make_engine, make_session_factory, migrate
from api.schemas import AccountCreate
from api.services import accounts
from api.services.context import Context
from geo.accounts import Actor

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "boundaries"


@contextmanager
def throwaway_database() -> Iterator[tuple[str, sessionmaker[Session], Path]]:
    """A migrated database in a new cluster (no fsync), destroyed on exit: its URL, a
    session factory and a scratch folder removed with it."""
    base = Path(tempfile.mkdtemp(prefix="psq-bench-"))
    base.chmod(0o755)  # the server runs as the postgres user when the benchmark runs as root
    cluster = LocalCluster(base / "pg", port=free_port(), database="bench", durable=False)
    try:
        url = cluster.start()
        migrate(url)
        engine = make_engine(url)
        try:
            yield url, make_session_factory(engine), base
        finally:
            engine.dispose()
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def served_app(
    url: str,
    *,
    timeout: float = 180,
    log: Path | None = None,
    workers: int = 1,
    root: Path = ROOT,
) -> Iterator[str]:
    """The app (``psq serve``, ``workers`` uvicorn worker processes, no demo) over the
    database ``url`` in its own process on loopback, once it is ready
    (``/api/health/ready``; with several workers, once each has answered): its base URL.
    Stopped on exit as Ctrl+C would. ``log``: the app's JSON log lines (one access line
    per request, with its duration and the collector's pauses) are written there.
    ``root``: the source tree whose code is served (another checkout: a baseline)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PSQ_WORKERS": str(workers)}
    if root != ROOT:
        env["PYTHONPATH"] = str(root)
    if log is not None:
        env["PSQ_LOG_FORMAT"] = "json"
    with contextlib.ExitStack() as files:
        errors = files.enter_context(log.open("a")) if log is not None else subprocess.DEVNULL
        server = subprocess.Popen(
            [sys.executable, "-m", "psq.cli", "serve", "--port", str(port), "--no-demo"],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, seen = time.monotonic() + timeout, set()
        while len(seen) < workers:
            try:  # a new connection each time: any worker may accept it
                answer = httpx.get(f"{base}/api/health/ready", timeout=2)
                if answer.status_code == 200:
                    # (a baseline's readiness may not name its worker: one process)
                    seen.add(answer.json().get("worker", 0))
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.3)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


@contextmanager
def source_tree(commit: str) -> Iterator[Path]:
    """The files of ``commit`` (``git archive``) in a scratch folder, removed on exit: the
    code a baseline runs from."""
    folder = Path(tempfile.mkdtemp(prefix="psq-baseline-"))
    try:
        archive = subprocess.run(
            ["git", "archive", commit], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bearer(factory: sessionmaker[Session], role: str, **bindings: Any) -> dict[str, str]:
    """The ``Authorization`` header of a new account ``<role>@bench.example`` of this
    role and bindings (``gpo_ids``, ``csp_ids``…): requests are scoped as that user's."""
    ctx = Context(factory).acting(Actor.cli("bench"))
    account = accounts.create_account(
        ctx,
        AccountCreate(
            email=f"{role}@bench.example", role=role, password="banc d'essai 2026", **bindings
        ),
    )
    token = accounts.create_token(ctx, account.id, "bench").token
    return {"Authorization": f"Bearer {token}"}
