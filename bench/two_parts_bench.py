"""The exact mode on the battery's territories in two parts, two source trees alternated.

The runs are those of ``bench/battery_methods.py`` (battery25) whose territory is in two
design parts with no split of k holding the band, plus the no-population CSP
(:data:`RUNS`). Each run is one ``make_sectorizer(params).solve`` in a child process
(``--one``) that prints one JSON line: the answer (a plan or the refusal's code), the
bound's status and gap, the largest deviation from the mean workload and from the mean
area, the wall and CPU seconds (the child's ``time.process_time``: HiGHS's threads too).

    python -m bench.two_parts_bench [--trees BASE,BRANCH] [--time-limit 10] [--repeat 1]

``--trees`` names source trees put first on ``PYTHONPATH`` in turn (default: this one);
for each run, every tree runs once before the next run (the same machine state). The
script itself is copied into a tree that lacks it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: (territory, whole communes) of ``bench.battery_methods``: the 7 exact runs that found
#: no plan in 10 s, the whole-communes runs of the same territories, and the CSP with no
#: population (every workload 0).
RUNS: list[tuple[str, bool]] = [
    ("essonne-exclave-3", True),
    ("essonne-exclave-3", False),
    ("essonne-two-parts-0", False),
    ("essonne-two-parts-1", False),
    ("essonne-two-parts-3", False),
    ("essonne-two-parts-4", False),
    ("essonne-two-parts-7", False),
    ("essonne-two-parts-0", True),
    ("essonne-two-parts-1", True),
    ("essonne-two-parts-3", True),
    ("essonne-two-parts-7", True),
    ("no-population", False),
]
HERE = Path(__file__).resolve().parents[1]


def one(name: str, whole: bool, time_limit: float) -> dict[str, object]:
    """Solve one run (in the child) and describe its answer."""
    warnings.simplefilter("ignore")
    from bench.battery_methods import CASES, Run, Territory, _graph
    from geo.errors import PsqError
    from geo.sectorize import make_sectorizer
    from tests.geo.test_sector_battery import BELFORT, CSP

    if name == "no-population":  # as bench.battery_methods.harder builds it
        members = BELFORT.loc[CSP].reset_index(drop=True).drop(columns="population")
        area = members.union_all()
        territory = Territory(name, _graph(members.assign(population=np.nan), area), area, 4, 0.1)
    else:  # one territory of the battery, as bench.battery_methods.battery builds it
        case = CASES[name]
        graph = _graph(case["communes"], case["territory"], case["ferries"])  # type: ignore[arg-type]
        territory = Territory(name, graph, case["territory"], int(case["k"]), 0.10)  # type: ignore[arg-type, call-overload]
    graph = territory.graph
    params = Run("exact", "distance", whole).params(territory, time_limit)
    row: dict[str, object] = {"territory": name, "whole": whole}
    wall, cpu = time.monotonic(), time.process_time()
    try:
        plan = make_sectorizer(params).solve(graph, rng=params.rng())
    except PsqError as exc:
        row |= {"answer": f"refused {exc.code}"}
    else:
        area = graph.metric.geometry.area.to_numpy()
        dev = {}
        for what, w in (("workload", graph.workload), ("area", area)):
            loads = np.bincount(plan.assignment, weights=w, minlength=plan.k)
            dev[what] = float(np.abs(loads / loads.mean() - 1).max()) if loads.sum() else 0.0
        bound = plan.bound
        row |= {
            "answer": "plan",
            "status": bound.status if bound else None,
            "gap": bound.gap if bound else None,
            "objective_m": bound.objective_m if bound else None,
            "dev": dev["workload"],
            "area_dev": dev["area"],
            "flags": sorted({v.constraint for v in plan.violations}),
            "parts": any(n.startswith("mode exact partie par partie") for n in plan.notes),
            "proven": any("preuve du solveur" in n for n in plan.notes),
            "by_area": any(n.startswith("charge nulle") for n in plan.notes),
        }
    row |= {"wall_s": time.monotonic() - wall, "cpu_s": time.process_time() - cpu}
    return row


def _tree_ready(tree: Path) -> None:
    target = tree / "bench" / "two_parts_bench.py"
    if target.resolve() != Path(__file__).resolve():
        shutil.copy(Path(__file__), target)


def line(tree: str, row: dict[str, object]) -> str:
    def num(key: str, fmt: str, scale: float = 1.0) -> str:
        value = row.get(key)
        return "" if value is None else format(float(value) * scale, fmt)  # type: ignore[arg-type]

    flags = "+".join(row.get("flags", []))  # type: ignore[arg-type]
    how = ", ".join(
        what for what in ("parts", "proven", "by_area") if row.get(what)
    )  # fmt: skip
    return (
        f"| {row['territory']} | {'whole' if row['whole'] else 'split'} | {tree} | "
        f"{row['answer']} | {row.get('status') or ''} | {num('gap', '.2f', 100)} | "
        f"{num('objective_m', '.0f')} | {num('dev', '.1f', 100)} | "
        f"{num('area_dev', '.1f', 100)} | {flags} | {how} | {num('wall_s', '.1f')} | "
        f"{num('cpu_s', '.1f')} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", default=str(HERE))
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--one", nargs=2, metavar=("TERRITORY", "WHOLE"))
    args = ap.parse_args(argv)
    if args.one:
        name, whole = args.one[0], args.one[1] == "whole"
        print(json.dumps(one(name, whole, args.time_limit)), flush=True)
        return 0
    trees = [Path(t).resolve() for t in args.trees.split(",")]
    for tree in trees:
        _tree_ready(tree)
    print(
        "| territory | communes | tree | answer | bound | gap (%) | p-median (m) | max dev "
        "(%) | area dev (%) | flags | how | wall s | CPU s |\n"
        "|---|---|---|---|---|--:|--:|--:|--:|---|---|--:|--:|",
        flush=True,
    )
    for _ in range(args.repeat):
        for name, whole in RUNS:
            if args.only and args.only not in name:
                continue
            for tree in trees:
                env = os.environ | {"PYTHONPATH": str(tree)}
                out = subprocess.run(
                    [sys.executable, "-m", "bench.two_parts_bench", "--time-limit",
                     str(args.time_limit), "--one", name, "whole" if whole else "split"],
                    cwd=tree, env=env, capture_output=True, text=True, check=True,
                )  # fmt: skip
                row = json.loads(out.stdout.strip().splitlines()[-1])
                print(line(tree.name, row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
