"""What the benchmarks share: a throwaway PostGIS cluster with the schema, for one run."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from api.cluster import LocalCluster, free_port
from api.db import make_engine, make_session_factory, migrate

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
