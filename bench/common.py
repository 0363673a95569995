"""What the benchmarks share: a throwaway PostGIS cluster with the schema, for one run,
and the bearer header of an account of the role a measured page is used by."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
