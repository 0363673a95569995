"""Benchmark: the data endpoints of every page under load, with writes going on.

Run: .venv/bin/python -m bench.load_bench [--count 100000] [--seconds 15] [--clients 8]
[--baseline COMMIT] [--only "NAME,NAME"] [--workers N] [--alternate TREE] [--profile DIR]
[--rounds steps,problems]

A throwaway PostGIS cluster holds the demo territory as shipped (Belfort CSP, adopted plan,
GPOs with their synthetic meetings and actions) plus ``--count`` synthetic problems. The
app runs in its own process (``psq serve``, ``--workers`` uvicorn worker processes: 1 by
default) on loopback; a baseline runs with one (its ``psq serve`` may not know more).

For each page's data endpoints, a bounded load generator (``--clients`` threads, each
with its own keep-alive connection, sending the next request when the last answered)
calls them in turn for ``--seconds`` as the role that page is for, while a writer records
an action step every 200 ms (a follow-up write: the maps stay cached) and, in a second
round, also a new problem every second (a write the maps must see: their cache is
recomputed). The first request of each endpoint is timed apart (cold). ``/api/health``
(readiness: two SELECTs) and ``/api/me`` (a token resolved) are measured the same way in
the same run: the floor of this machine. Target: every data endpoint p95 under 100 ms.

Each round also says the server's CPU seconds per 1 000 answers, the app's processes' and
PostgreSQL's (read from ``/proc``: a figure the machine's load changes far less than the
latencies). ``--alternate TREE`` serves another source tree (a checkout of the baseline)
over the same database before this one for each count of ``--workers`` (``2,2``: baseline,
this tree, baseline, this tree); ``--profile DIR`` records py-spy's stacks of each worker
over each round.

With ``--baseline COMMIT`` (``main``, a hash…), the same benchmark is run from this tree,
then from that commit's files (``git archive``: its own code, schema and database,
prepared the same way), one after the other, and a last table compares their p95 per
endpoint. The load average of the machine is printed with each round: on a machine shared
with other work, it says how far the figures are from an idle one's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
from sqlalchemy.orm import Session, sessionmaker

from api import clock
from api.services.context import Context
from api.services.demo import load_demo, load_synthetic_problems
from bench.common import DEMO, bearer, served_app, source_tree, throwaway_database

CSP = 1


@dataclass
class Timings:
    """Latencies in milliseconds per endpoint name, and the failures seen."""

    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, ms: float) -> None:
        with self.lock:
            self.ms[name].append(ms)

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """The CPU time (user + system) process ``pid`` has used, in seconds (``children``:
    with its children that have ended, e.g. PostgreSQL's backends); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    used = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        used += int(fields[13]) + int(fields[14])  # cutime, cstime
    return used / _TICK


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is ``parent``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


@dataclass
class ServerCpu:
    """The CPU the served app's processes and PostgreSQL's use: the app's workers (and
    their supervisor), the postmaster with its backends (living, and ended: counted in
    the postmaster's children's time)."""

    app: list[int]
    postmaster: int

    def sample(self) -> tuple[float, float]:
        app = sum(cpu_seconds(pid) for pid in self.app)
        pg = cpu_seconds(self.postmaster, children=True) + sum(
            cpu_seconds(pid) for pid in child_pids(self.postmaster)
        )
        return app, pg


def server_cpu(factory: sessionmaker[Session], workers: list[int]) -> ServerCpu:
    """The processes :class:`ServerCpu` samples: ``workers`` (the app's worker pids) and
    their parent when it is ``psq serve``'s supervisor, the database's postmaster."""
    from sqlalchemy import text

    app = set(workers)
    for pid in workers:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        if "psq.cli" in Path(f"/proc/{parent}/cmdline").read_text(errors="replace"):
            app.add(parent)
    with factory() as session:
        data = str(session.scalar(text("SELECT current_setting('data_directory')")))
    postmaster = int((Path(data) / "postmaster.pid").read_text().splitlines()[0])
    return ServerCpu(sorted(app), postmaster)


def profiled(
    pids: list[int], seconds: float, folder: Path, name: str
) -> list[subprocess.Popen[bytes]]:
    """py-spy recording each of ``pids`` for ``seconds`` (collapsed stacks, 100 Hz, the
    thread holding the GIL only: where the Python code's CPU goes) into
    ``folder/<name>-<pid>.txt``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    folder.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                *(spy, "record", "--pid", str(pid), "--duration", str(int(seconds))),
                *("--format", "raw", "--nonblocking", "--gil", "--rate", "100"),
                *("-o", str(folder / f"{name}-{pid}.txt")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


def prepare(factory: sessionmaker[Session], count: int) -> None:
    ctx = Context(factory)
    load_demo(ctx, demo_dir=DEMO)
    if count:
        end = clock.today()
        load_synthetic_problems(
            ctx, csp_id=CSP, start=end - timedelta(days=730), end=end, seed=3, count=count
        )


def pages(gpo: int, commune: str) -> dict[str, dict[str, str]]:
    """The data endpoints each role's pages call, by role."""
    today = clock.today()
    period = f"from={today - timedelta(days=364)}&to={today}"
    return {
        "planner": {
            "cells (grid res 9)": f"/api/csp/{CSP}/cells?res=9",
            "plans": f"/api/csp/{CSP}/plans",
            "GPOs of the CSP": f"/api/csp/{CSP}/gpos",
            "activity report": f"/api/reports?csp={CSP}&{period}",
        },
        "chef": {
            "problems (GeoJSON)": f"/api/csp/{CSP}/problems?gpo={gpo}",
            "hotspots": f"/api/csp/{CSP}/hotspots?gpo={gpo}&{period}",
            "heat": f"/api/csp/{CSP}/heat?gpo={gpo}&{period}",
            "comparison": f"/api/csp/{CSP}/hotspots/comparison?gpo={gpo}",
            "trend": f"/api/csp/{CSP}/trend?gpo={gpo}&{period}",
            "open problems": f"/api/csp/{CSP}/open-problems?limit=100&gpo={gpo}",
            "meetings of the GPO": f"/api/gpos/{gpo}/meetings",
            "actions of the GPO": f"/api/actions?gpo={gpo}",
        },
        "commune": {
            "commune cells": f"/api/communes/{commune}/hotspots",
            "commune dashboard": f"/api/communes/{commune}/dashboard",
            "interventions": "/api/interventions?limit=20",
        },
        "partner": {"my actions": "/api/actions?mine=true&limit=2000"},
        "referent": {"studies queue": f"/api/audits?csp={CSP}&order=evidence&evidence=true"},
        "floor": {"/api/health (readiness)": "/api/health/ready", "/api/me": "/api/me"},
    }


def writer(
    base: str,
    headers: dict[str, str],
    actions: list[int],
    problems: bool,
    stop: threading.Event,
    timings: Timings,
) -> None:
    """An action step every 200 ms; with ``problems``, a new problem every second."""
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        i = 0
        while not stop.is_set():
            action = actions[i % len(actions)]
            start = time.perf_counter()
            answer = http.patch(f"/api/actions/{action}", json={"comment": f"Point n° {i}"})
            timings.add("write: action step", (time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                timings.fail(f"PATCH action {action}: {answer.status_code} {answer.text[:200]}")
            if problems and i % 5 == 0:
                start = time.perf_counter()
                answer = http.post(
                    f"/api/csp/{CSP}/problems",
                    json={
                        "category": "nuisances",
                        "title": f"Tapage n° {i}",
                        "lon": 6.8628 + (i % 50) * 1e-4,
                        "lat": 47.6379,
                    },
                )
                timings.add("write: new problem", (time.perf_counter() - start) * 1000)
                if answer.status_code != 201:
                    timings.fail(f"POST problem: {answer.status_code} {answer.text[:200]}")
            i += 1
            stop.wait(0.2)


def hammer(
    base: str,
    paths: dict[str, tuple[str, dict[str, str]]],
    clients: int,
    seconds: float,
    timings: Timings,
) -> None:
    """``clients`` threads calling every path in turn until ``seconds`` have passed."""
    names = list(paths)
    deadline = time.monotonic() + seconds

    def client(worker: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            i = worker
            while time.monotonic() < deadline:
                name = names[i % len(names)]
                path, headers = paths[name]
                i += 1
                start = time.perf_counter()
                answer = http.get(path, headers=headers)
                timings.add(name, (time.perf_counter() - start) * 1000)
                if answer.status_code != 200:
                    timings.fail(f"{name}: {answer.status_code} {answer.text[:200]}")

    threads = [threading.Thread(target=client, args=(w,)) for w in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def one_client_per_worker(base: str, workers: int) -> dict[int, httpx.Client]:
    """A keep-alive client connected to each worker process (new connections until each
    has accepted one; readiness names the process that answers)."""
    found: dict[int, httpx.Client] = {}
    for _ in range(500):
        if len(found) == workers:
            break
        http = httpx.Client(base_url=base, timeout=120)
        pid = int(http.get("/api/health/ready").json().get("worker", 0))
        if pid in found:
            http.close()
        else:
            found[pid] = http
    if len(found) < workers:
        raise RuntimeError(f"{len(found)} worker(s) of {workers} reached")
    return found


def report(
    title: str,
    timings: Timings,
    cold: dict[str, float],
    cpu: tuple[float, float] | None = None,
) -> float:
    """Print a round's table (and ``cpu``: the app's and PostgreSQL's CPU seconds over
    the round, per 1 000 answers); its worst data endpoint p95."""
    print(f"\n{title}")
    print(f"  {'endpoint':28} {'n':>6} {'cold':>7} {'p50':>6} {'p95':>6} {'p99':>6}")
    worst = 0.0
    for name, values in timings.ms.items():
        p95 = percentile(values, 95)
        if name in cold and not name.startswith("/api/"):
            worst = max(worst, p95)
        first = f"{cold[name]:5.0f}ms" if name in cold else "      -"
        print(
            f"  {name:28} {len(values):6d} {first} {statistics.median(values):4.0f}ms "
            f"{p95:4.0f}ms {percentile(values, 99):4.0f}ms"
        )
    for failure in timings.failures[:5]:
        print(f"  FAILED {failure}")
    if timings.failures:
        print(f"  {len(timings.failures)} failed request(s)")
    if cpu is not None:
        answers = sum(len(values) for values in timings.ms.values())
        app, pg = cpu
        print(
            f"  server CPU: app {app:.2f} s, PostgreSQL {pg:.2f} s for {answers} answers: "
            f"{1000 * app / answers:.1f} + {1000 * pg / answers:.1f} = "
            f"{1000 * (app + pg) / answers:.1f} CPU s per 1 000 answers"
        )
    print(
        f"  worst data endpoint p95: {worst:.0f} ms   target < 100 ms -> "
        f"{'PASS' if worst < 100 and not timings.failures else 'FAIL'}"
    )
    return worst


Round = tuple[str, Timings]
_HEADERS: dict[str, dict[str, str]] = {}


def run(
    url: str,
    factory: sessionmaker[Session],
    seconds: float,
    clients: int,
    only: frozenset[str] = frozenset(),
    workers: int = 1,
    root: Path | None = None,
    profile: Path | None = None,
    label: str = "this tree",
    rounds_of: tuple[bool, ...] = (False, True),
) -> list[Round]:
    """The cold requests, then both rounds; what each round measured (``only``: these
    endpoints and the floor, not every page's; ``root``: serve that source tree's code
    instead of this one's; ``profile``: py-spy's collapsed stacks of each worker over
    each round written in that folder)."""
    chef_gpo = 1
    with factory() as session:
        commune = str(session.execute(_first_commune()).scalar_one())
        actions = [int(a) for a in session.execute(_open_actions()).scalars()]
        partner = int(session.execute(_busiest_partner()).scalar_one())
        gpos = [int(g) for g in session.execute(_gpos()).scalars()]
    if not _HEADERS:  # the accounts, made once per database
        _HEADERS.update(
            planner=bearer(factory, "planificateur", csp_ids=[CSP]),
            chef=bearer(factory, "chef", gpo_ids=[chef_gpo]),
            admin=bearer(factory, "admin"),
            commune=bearer(factory, "commune", commune_codes=[commune]),
            partner=bearer(factory, "partenaire", partner_id=partner, gpo_ids=gpos),
            referent=bearer(factory, "referent", csp_ids=[CSP]),
        )
    headers = {**_HEADERS, "floor": _HEADERS["chef"]}
    rounds: list[Round] = []
    served = served_app(url, timeout=120, workers=workers, **({"root": root} if root else {}))
    with served as base:
        paths = {
            name: (path, headers[role])
            for role, endpoints in pages(chef_gpo, commune).items()
            for name, path in endpoints.items()
            if not only or name in only or role == "floor"
        }
        cold: dict[str, float] = {}
        # Each worker process keeps its own caches: each is warmed (the first one's
        # requests timed as the cold ones), so that the rounds measure warm processes.
        per_worker = one_client_per_worker(base, workers)
        sampler = server_cpu(factory, list(per_worker))
        for name, (path, sent) in paths.items():
            for i, http in enumerate(per_worker.values()):
                start = time.perf_counter()
                answer = http.get(path, headers=sent)
                if i == 0:
                    cold[name] = (time.perf_counter() - start) * 1000
                if answer.status_code != 200:
                    raise RuntimeError(f"{name}: {answer.status_code} {answer.text[:300]}")
        for http in per_worker.values():
            http.close()
        for problems in rounds_of:
            timings = Timings()
            stop = threading.Event()
            writes = threading.Thread(
                target=writer,
                args=(base, headers["admin"], actions, problems, stop, timings),
            )
            load_before = os.getloadavg()[0]
            spies = (
                profiled(
                    list(per_worker),
                    seconds,
                    profile,
                    f"{label.replace(' ', '_')}-{workers}w-{'problems' if problems else 'steps'}",
                )
                if profile is not None
                else []
            )
            cpu_before = sampler.sample()
            writes.start()
            hammer(base, paths, clients, seconds, timings)
            stop.set()
            writes.join()
            cpu_after = sampler.sample()
            for spy in spies:
                spy.wait()
            what = "an action step every 200 ms" + (
                " and a new problem every second" if problems else ""
            )
            report(
                f"{label}: {clients} concurrent clients for {seconds:g} s ({workers} server "
                f"process(es)), with {what} "
                f"(load average {load_before:.1f} → {os.getloadavg()[0]:.1f}):",
                timings,
                cold,
                (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]),
            )
            rounds.append((what, timings))
    return rounds


#: A line of :func:`report`'s table: name, n, cold, p50, p95.
_LINE = re.compile(r"^  (.{28}) +(\d+) +(?:\d+ms|-) +(\d+)ms +(\d+)ms")


def parsed_rounds(output: str) -> list[dict[str, tuple[int, int]]]:
    """The p95 and n per endpoint of each round :func:`report` printed in ``output``."""
    rounds: list[dict[str, tuple[int, int]]] = []
    for line in output.splitlines():
        if "concurrent clients" in line:
            rounds.append({})
        elif rounds and (found := _LINE.match(line)):
            rounds[-1][found.group(1).strip()] = (int(found.group(2)), int(found.group(4)))
    return rounds


def compare(baseline: list[dict[str, tuple[int, int]]], current: list[Round]) -> None:
    """p95 per endpoint, the baseline's beside this tree's, round by round."""
    for before, (what, after) in zip(baseline, current, strict=False):
        print(f"\np95 (ms; n answered), baseline → this tree, with {what}:")
        for name, values in after.ms.items():
            n, p95 = before.get(name.strip(), (0, 0))
            shown = f"{p95:5d} ms ({n:4d})" if n else "      -       "
            print(f"  {name:28} {shown} → {percentile(values, 95):5.0f} ms ({len(values):4d})")


def _first_commune():  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    return text(
        "SELECT c.code FROM commune c JOIN problem p ON ST_Intersects(c.geom, p.anchor) "
        "WHERE p.csp_id = :csp GROUP BY c.code ORDER BY count(*) DESC LIMIT 1"
    ).bindparams(csp=CSP)


def _busiest_partner():  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    return text(
        "SELECT a.lead_partner_id FROM action a JOIN problem p ON p.id = a.problem_id "
        "WHERE p.csp_id = :csp AND a.lead_partner_id IS NOT NULL "
        "GROUP BY a.lead_partner_id ORDER BY count(*) DESC LIMIT 1"
    ).bindparams(csp=CSP)


def _gpos():  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    return text("SELECT id FROM gpo WHERE csp_id = :csp ORDER BY id").bindparams(csp=CSP)


def _open_actions():  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    return text(
        "SELECT a.id FROM action a JOIN problem p ON p.id = a.problem_id "
        "WHERE p.csp_id = :csp AND a.status IN ('prevue', 'en_cours') ORDER BY a.id LIMIT 20"
    ).bindparams(csp=CSP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--baseline", help="a commit to measure first, for comparison")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated endpoint names to call (and the floor), e.g. the lists "
        "alone, without the maps' background work; the baseline runs this benchmark file",
    )
    parser.add_argument(
        "--workers",
        default="1",
        help="server processes of this tree (psq serve); several counts, e.g. 1,2,1,2: "
        "served in turn over the same database (the baseline is compared with the last)",
    )
    parser.add_argument(
        "--alternate",
        type=Path,
        help="another source tree (e.g. a checkout of main) served over the same database "
        "before this tree for each count of --workers: baseline and this tree alternate "
        "on one machine state (its schema must be this tree's)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="a folder: py-spy's collapsed stacks of each worker over each round",
    )
    parser.add_argument(
        "--rounds",
        default="steps,problems",
        help="which rounds: steps (action steps only), problems (and a new problem each "
        "second), or both",
    )
    args = parser.parse_args()
    rounds_of = tuple(name.strip() == "problems" for name in args.rounds.split(","))
    only = frozenset(name.strip() for name in args.only.split(",") if name.strip())
    counts = [int(n) for n in args.workers.split(",")]
    with throwaway_database() as (url, factory, _):
        start = time.perf_counter()
        prepare(factory, args.count)
        print(
            f"demo territory + {args.count:,} synthetic problems "
            f"({time.perf_counter() - start:.0f} s to prepare)"
        )
        for workers in counts:
            if args.alternate is not None:
                print(f"\n== {args.alternate} ({workers} server process(es))")
                run(
                    *(url, factory, args.seconds, args.clients, only, workers),
                    root=args.alternate.resolve(),
                    profile=args.profile,
                    label="baseline",
                    rounds_of=rounds_of,
                )
            print(f"\n== this tree ({workers} server process(es))")
            current = run(
                *(url, factory, args.seconds, args.clients, only, workers),
                profile=args.profile,
                rounds_of=rounds_of,
            )
        if args.baseline is None:
            return
    print(f"\n== baseline: {args.baseline}")
    with source_tree(args.baseline) as tree:
        if only:  # the baseline's own benchmark file may not know --only
            shutil.copy(Path(__file__), tree / "bench" / "load_bench.py")
        output = subprocess.run(
            [
                *(sys.executable, "-m", "bench.load_bench", "--count", str(args.count)),
                *("--seconds", str(args.seconds), "--clients", str(args.clients)),
                *(("--only", args.only) if only else ()),
            ],
            cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    print(output)
    compare(parsed_rounds(output), current)


if __name__ == "__main__":
    main()
