"""Benchmark: the server CPU each data endpoint spends on its first answer after a write
(a new problem, an action step) and on an answer with nothing written, one request at a
time: what a write costs every process that serves the pages, whatever the machine's load.

Run: .venv/bin/python -m bench.write_cost [--count 100000] [--repeat 12] [--alternate PATH]

The demo and ``--count`` synthetic problems in a throwaway cluster (as ``load_bench``),
served by ``psq serve`` with one worker and the maps computed in the request
(``PSQ_MAP_STALE_SECONDS=0``: the work a background refresh would do is counted in the
request that finds the map old). Every data endpoint of ``load_bench`` is warmed, then,
``--repeat`` times: nothing written, an action step (a comment), a new problem, each
followed by one request to each endpoint in turn, and the CPU time that request took is
read from the kernel (``/proc/<pid>/task/*/schedstat``, nanoseconds): the app's process
(all its threads) and PostgreSQL's backends. Medians per endpoint and kind of write, in
ms. With ``--alternate PATH`` (another source tree, e.g. a checkout of main), that
tree is served too, over the same database at the same time, and each endpoint is asked
of both in turn after each write (the same machine state for both).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.common import ROOT, bearer, served_app, throwaway_database
from bench.load_bench import CSP, _first_commune, _open_actions, pages, prepare


def task_cpu_ns(pid: int) -> int:
    """The CPU time every thread of process ``pid`` has used, in nanoseconds (0 when the
    process is gone)."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def backends(postmaster: int) -> list[int]:
    """PostgreSQL's processes started by ``postmaster`` (its backends, and its helpers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


Measure = Callable[[], tuple[float, float]]


def measure(factory: sessionmaker[Session], app_pid: int) -> Measure:
    """A clock of the CPU the app (``app_pid``) and PostgreSQL used so far, in ms."""
    with factory() as session:
        data = str(session.scalar(text("SELECT current_setting('data_directory')")))
    postmaster = int((Path(data) / "postmaster.pid").read_text().splitlines()[0])

    def now() -> tuple[float, float]:
        pg = sum(task_cpu_ns(pid) for pid in backends(postmaster))
        return task_cpu_ns(app_pid) / 1e6, pg / 1e6

    return now


Costs = dict[str, dict[str, list[tuple[float, float]]]]


Costs = dict[str, dict[str, list[tuple[float, float]]]]


def run(
    url: str, factory: sessionmaker[Session], repeat: int, roots: dict[str, Path]
) -> dict[str, Costs]:
    """The CPU (app, PostgreSQL; ms) of each endpoint's request after each kind of write,
    for each source tree in ``roots`` (by name), each served by its own ``psq serve``
    over the same database at the same time: after each write, each endpoint is asked
    of each tree in turn (the same machine state for both)."""
    with factory() as session:
        commune = str(session.execute(_first_commune()).scalar_one())
        actions = [int(a) for a in session.execute(_open_actions()).scalars()]
    headers = {
        "planner": bearer(factory, "planificateur", csp_ids=[CSP]),
        "chef": bearer(factory, "chef", gpo_ids=[1]),
        "commune": bearer(factory, "commune", commune_codes=[commune]),
    }
    admin = bearer(factory, "admin")
    paths = {
        name: (path, headers[role])
        for role, endpoints in pages(1, commune).items()
        if role != "floor"
        for name, path in endpoints.items()
    }
    costs: dict[str, Costs] = {name: defaultdict(lambda: defaultdict(list)) for name in roots}
    os.environ["PSQ_MAP_STALE_SECONDS"] = "0"
    try:
        with contextlib.ExitStack() as stack:
            clients: dict[str, tuple[httpx.Client, Measure]] = {}
            for name, root in roots.items():
                base = stack.enter_context(served_app(url, timeout=120, root=root))
                http = stack.enter_context(httpx.Client(base_url=base, timeout=120))
                pid = int(http.get("/api/health/ready").json().get("worker", 0))
                clients[name] = (http, measure(factory, pid))

            def get(tree: str, endpoint: str) -> tuple[float, float]:
                http, clock = clients[tree]
                path, sent = paths[endpoint]
                before = clock()
                with http.stream("GET", path, headers=sent) as answer:
                    for _ in answer.iter_raw():  # as sent: gzipped, not decoded here
                        pass
                    if answer.status_code != 200:
                        raise RuntimeError(f"{tree}, {endpoint}: {answer.status_code}")
                after = clock()
                return after[0] - before[0], after[1] - before[1]

            writer = next(iter(clients.values()))[0]
            for _ in range(2):
                for endpoint in paths:
                    for tree in roots:
                        get(tree, endpoint)
            for i in range(repeat):
                for kind in ("nothing", "action step", "new problem"):
                    if kind == "action step":
                        answer = writer.patch(
                            f"/api/actions/{actions[i % len(actions)]}",
                            headers=admin,
                            json={"comment": f"Point n° {i}"},
                        )
                        answer.raise_for_status()
                    elif kind == "new problem":
                        answer = writer.post(
                            f"/api/csp/{CSP}/problems",
                            headers=admin,
                            json={
                                "category": "nuisances",
                                "title": f"Tapage n° {i}",
                                "lon": 6.8628 + (i % 50) * 1e-4,
                                "lat": 47.6379,
                            },
                        )
                        answer.raise_for_status()
                    for endpoint in paths:
                        order = list(roots) if i % 2 == 0 else list(reversed(roots))
                        for tree in order:
                            costs[tree][kind][endpoint].append(get(tree, endpoint))
    finally:
        os.environ.pop("PSQ_MAP_STALE_SECONDS", None)
    return costs


def report(title: str, costs: Costs) -> None:
    kinds = list(costs)
    print(f"\n{title}: CPU per request, median ms (app + PostgreSQL)")
    print(f"  {'endpoint':22}" + "".join(f" {kind:>22}" for kind in kinds))
    names = list(costs[kinds[0]])
    totals = dict.fromkeys(kinds, 0.0)
    for name in names:
        cells = []
        for kind in kinds:
            app = statistics.median(a for a, _ in costs[kind][name])
            pg = statistics.median(p for _, p in costs[kind][name])
            totals[kind] += app + pg
            cells.append(f"{app:7.1f} + {pg:5.1f} = {app + pg:5.1f}")
        print(f"  {name:22}" + "".join(f" {cell:>22}" for cell in cells))
    print(f"  {'sum':22}" + "".join(f" {totals[kind]:22.1f}" for kind in kinds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=12)
    parser.add_argument(
        "--alternate", type=Path, help="another source tree, measured beside this one"
    )
    args = parser.parse_args()
    roots = {"this tree": ROOT}
    if args.alternate is not None:
        roots = {str(args.alternate): args.alternate.resolve(), **roots}
    with throwaway_database() as (url, factory, _):
        prepare(factory, args.count)
        for name, costs in run(url, factory, args.repeat, roots).items():
            report(name, costs)


if __name__ == "__main__":
    main()
