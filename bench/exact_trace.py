"""The exact mode's incumbent and bound against CPU seconds (issue 25).

Runs :class:`geo.sectorize.exact.ExactDesign` on one case of :mod:`bench.exact_bench` and
prints a line each time the job's stage (best plan, bound, gap) changes, with the wall and
CPU seconds (``time.process_time``, every thread) since the start, then the result: so
that runs on a shared machine compare by the gap reached per CPU second.

    .venv/bin/python -m bench.exact_trace [--case s14-12] [--time-limit 300] [--debug]
        [--save plan.npy]
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import numpy as np

from bench.exact_bench import GRAPHS, TOLERANCE
from geo.sectorize import DesignParameters, make_sectorizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="s14-12", help="name-k, as bench.exact_bench")
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--debug", action="store_true", help="the geo.sectorize debug log")
    parser.add_argument("--save", default="", help="a .npy file for the plan's assignment")
    args = parser.parse_args()
    if args.debug:
        logging.basicConfig(format="%(relativeCreated)8.0f ms %(name)s %(message)s")
        logging.getLogger("geo.sectorize").setLevel(logging.DEBUG)
    name, k_text = args.case.split("-")
    np.seterr(all="ignore")
    graph = GRAPHS[name][1]()
    params = DesignParameters(
        k=int(k_text), tolerance=TOLERANCE, method="exact", time_limit=args.time_limit
    )
    started, cpu = time.monotonic(), time.process_time()
    last = [""]

    def progress(_fraction: float, stage: str) -> None:
        if stage != last[0]:
            last[0] = stage
            wall, used = time.monotonic() - started, time.process_time() - cpu
            print(f"{wall:7.1f} s wall {used:7.1f} s CPU  {stage}", flush=True)

    plan = make_sectorizer(params).solve(graph, rng=params.rng(), progress=progress)
    wall, used = time.monotonic() - started, time.process_time() - cpu
    if args.save:
        np.save(args.save, plan.assignment)
    b = plan.bound
    assert b is not None
    print(
        f"{args.case}: {b.status}, plan {b.objective_m:.1f} m, bound {b.lower_m:.1f} m, "
        f"gap {(b.gap or 0):.2%}, {wall:.1f} s wall, {used:.1f} s CPU, "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
