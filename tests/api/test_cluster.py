"""The local PostgreSQL cluster the app owns: create, reuse, stale pid file, stop."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from api.cluster import LocalCluster, free_port


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    base = Path(tempfile.mkdtemp(prefix="psq-cluster-"))
    base.chmod(0o755)
    cluster = LocalCluster(base / "postgres", port=free_port(), database="app", durable=False)
    yield cluster
    cluster.destroy()
    shutil.rmtree(base, ignore_errors=True)


def _postgis(url: str) -> str:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT postgis_lib_version()").fetchone()
    assert row is not None
    return str(row[0])


def test_lifecycle(cluster: LocalCluster) -> None:
    assert not cluster.status().initialised
    url = cluster.start()
    assert _postgis(url).startswith("3.")
    first = cluster.status()
    assert first.running and first.pid is not None and first.url == url

    # Starting again reuses the running server.
    assert cluster.start() == url
    assert cluster.status().pid == first.pid

    assert cluster.stop() is True
    assert not cluster.status().running
    assert cluster.stop() is False

    # Created once: a restart keeps the port, the data and the database.
    assert cluster.start() == url
    assert _postgis(url).startswith("3.")


def test_stale_pid_file_is_handled(cluster: LocalCluster) -> None:
    url = cluster.start()
    cluster.stop()
    # A pid file left by a crash, naming a live process that is not postgres.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid_file = cluster.data_dir / "postmaster.pid"
        pid_file.write_text(f"{sleeper.pid}\n{cluster.data_dir}\n")
        if os.geteuid() == 0:
            shutil.chown(pid_file, "postgres", "postgres")
        assert not cluster.status().running
        assert cluster.start() == url
        assert cluster.status().running
    finally:
        sleeper.kill()
        sleeper.wait()


def test_pid_file_naming_another_clusters_server_is_stale(cluster: LocalCluster) -> None:
    """After a reboot the pid may belong to another postgres: never take it for ours."""
    base = Path(tempfile.mkdtemp(prefix="psq-other-"))
    base.chmod(0o755)
    other = LocalCluster(base / "pg", port=free_port(), database="other", durable=False)
    try:
        other_url = other.start()
        url = cluster.start()
        cluster.stop()
        pid_file = cluster.data_dir / "postmaster.pid"
        other_pid = other.status().pid
        pid_file.write_text(f"{other_pid}\n{cluster.data_dir}\n")
        if os.geteuid() == 0:
            shutil.chown(pid_file, "postgres", "postgres")
        assert not cluster.status().running
        assert cluster.stop() is False  # and the other server is left alone
        assert other.status().running and _postgis(other_url)
        assert cluster.start() == url
    finally:
        other.destroy()
        shutil.rmtree(base, ignore_errors=True)
