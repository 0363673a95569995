"""Benchmark: ``psq sectorize-all`` on the Essonne's 194 communes grouped into about twenty
CSPs, with 1 and 2 worker processes.

Run: .venv/bin/python -m bench.batch_bench [--csps 20] [--resolution 9]

A throwaway PostGIS cluster is started (as the tests do). The communes
(``tests/fixtures/communes_91.geojson``, real) are grouped into CSPs by a k-means of
their centroids (the groups are illustrative, not the real CSPs, and may come in several
parts); each CSP asks for sectors of about 30 000 workload, ±10 %. A first run (2 workers)
defines the CSPs and builds their grids; then the same batch runs with 1 and with 2
workers, grids already built, each timed from the command's start to its end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import yaml  # type: ignore[import-untyped]
from scipy.cluster.vq import kmeans2

from api.cluster import LocalCluster, free_port
from api.db import migrate

ROOT = Path(__file__).resolve().parents[1]
COMMUNES = ROOT / "tests" / "fixtures" / "communes_91.geojson"


def batch_file(path: Path, count: int, resolution: int) -> int:
    communes = gpd.read_file(COMMUNES).to_crs(2154)
    xy = np.column_stack([communes.geometry.centroid.x, communes.geometry.centroid.y])
    _, label = kmeans2(xy, count, seed=np.random.default_rng(91), minit="++")
    rows = []
    for group in sorted(set(label.tolist())):
        members = communes.loc[label == group]
        rows.append(
            {
                "name": f"CSP test {group + 1:02d}",
                "communes": members["code_insee"].tolist(),
                "target_workload": 30_000,
                "tolerance": 0.10,
                "resolution": resolution,
            }
        )
    path.write_text(yaml.safe_dump(rows, allow_unicode=True))
    return len(rows)


def run(url: str, batch: Path, workers: int, define: bool) -> tuple[float, str]:
    command = [sys.executable, "-m", "psq.cli", "sectorize-all", str(batch)]
    command += ["--workers", str(workers)]
    if define:
        command += ["--communes-file", str(COMMUNES)]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        env=os.environ | {"DATABASE_URL": url, "COLUMNS": "160"},
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - started, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csps", type=int, default=20)
    parser.add_argument("--resolution", type=int, default=9)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="psq-bench-"))
    base.chmod(0o755)
    cluster = LocalCluster(base / "pg", port=free_port(), database="bench", durable=False)
    try:
        url = cluster.start()
        migrate(url)
        batch = base / "csp.yaml"
        count = batch_file(batch, args.csps, args.resolution)
        first, output = run(url, batch, 2, define=True)
        print(output.strip().splitlines()[-1] if output.strip() else "")
        print(f"{count} CSPs, resolution {args.resolution}")
        print(f"define + grids + design, 2 workers: {first:.1f} s")
        for workers in (1, 2):
            seconds, output = run(url, batch, workers, define=False)
            failed = output.count("ÉCHEC")
            print(f"design only, {workers} worker(s): {seconds:.1f} s ({failed} failure line(s))")
        print(output)
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
