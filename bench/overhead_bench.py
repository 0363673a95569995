"""Benchmark: the server's CPU per request of answers that cost no computation (issue 22's
per-request overhead: routing, middlewares, dependencies, the caller, logging…).

Run: .venv/bin/python -m bench.overhead_bench [--requests 1000] [--alternate TREE]
[--repeat 5] [--profile DIR]

A throwaway PostGIS cluster holds the demo territory. The app runs in its own process
(``psq serve``, one process) on loopback; one keep-alive client calls each endpoint
``--requests`` times in a row (after a warm-up), as a chef signed in with a personal
access token (``token``) or with the session cookie of a sign-in (``cookie``), and the
app's and PostgreSQL's CPU seconds over those requests (``/proc``) are printed per
1 000 answers: a figure the machine's load changes far less than latencies.

``--alternate TREE`` serves another source tree (a checkout of the baseline) over the
same database at the same time, and the requests go to each in turn by blocks
(``--repeat`` blocks per tree and endpoint): both trees see the same machine state, which
the other work of a shared machine changes from minute to minute. ``--profile DIR``:
py-spy's collapsed stacks of each app while it answers the last endpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import httpx2 as httpx

from bench.common import ROOT, bearer, served_app, throwaway_database
from bench.load_bench import CSP, prepare, profiled, server_cpu

PASSWORD = "banc d'essai 2026"


def endpoints(gpo: int) -> dict[str, tuple[str, str]]:
    """Name → (path, credential kind): from the cheapest to a cached data answer."""
    return {
        "/api/health/live (no caller)": ("/api/health/live", "none"),
        "/api/me (token)": ("/api/me", "token"),
        "/api/me (session cookie)": ("/api/me", "cookie"),
        "plans of the CSP (token)": (f"/api/csp/{CSP}/plans", "token"),
        "meetings of the GPO (cookie)": (f"/api/gpos/{gpo}/meetings", "cookie"),
    }


class Served:
    """One tree's app, served, with a keep-alive client signed in both ways."""

    def __init__(self, base: str, factory: object, token: dict[str, str]) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        signed = self.http.post(
            "/api/auth/token", data={"username": "chef@bench.example", "password": PASSWORD}
        )
        signed.raise_for_status()
        cookie = {"Cookie": f"psq_session={signed.json()['access_token']}"}
        self.sent = {"none": {}, "token": token, "cookie": cookie}
        self.pid = int(self.http.get("/api/health/ready").json().get("worker", 0))
        self.sampler = server_cpu(factory, [self.pid])  # type: ignore[arg-type]

    def run(self, path: str, kind: str, count: int) -> tuple[float, float]:
        """The app's and PostgreSQL's CPU seconds over ``count`` requests."""
        before = self.sampler.sample()
        for _ in range(count):
            answer = self.http.get(path, headers=self.sent[kind])
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
        after = self.sampler.sample()
        return after[0] - before[0], after[1] - before[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--alternate", type=Path, help="a baseline source tree")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    trees = [("this tree", ROOT)]
    if args.alternate is not None:
        trees.insert(0, ("baseline", args.alternate.resolve()))
    with throwaway_database() as (url, factory, _), contextlib.ExitStack() as stack:
        prepare(factory, 0)
        token = bearer(factory, "chef", gpo_ids=[1])
        served = {
            label: Served(stack.enter_context(served_app(url, root=root)), factory, token)
            for label, root in trees
        }
        block = max(1, args.requests // args.repeat)
        totals: dict[tuple[str, str], list[float]] = {}
        for name, (path, kind) in endpoints(1).items():
            for app in served.values():
                app.run(path, kind, 50)  # warm: the caches filled, the code paths taken
            for _turn in range(args.repeat):  # each tree in turn, by blocks
                for label, app in served.items():
                    used = app.run(path, kind, block)
                    total = totals.setdefault((name, label), [0.0, 0.0, 0.0])
                    total[0] += used[0]
                    total[1] += used[1]
                    total[2] += block
            if args.profile is not None and name == list(endpoints(1))[-1]:
                for label, app in served.items():
                    spies = profiled([app.pid], 10, args.profile, label.replace(" ", "_"))
                    time.sleep(0.5)
                    deadline = time.monotonic() + 10.5
                    while time.monotonic() < deadline:
                        app.run(path, kind, 10)
                    for spy in spies:
                        spy.wait()
            line = "  ".join(
                f"{label}: {1000 * totals[name, label][0] / totals[name, label][2]:5.2f} + "
                f"{1000 * totals[name, label][1] / totals[name, label][2]:4.2f}"
                for label, _ in trees
            )
            print(f"  {name:32} {line}", flush=True)
    print(
        f"\nCPU per 1 000 answers (s; app + PostgreSQL), {args.requests} requests of each "
        f"endpoint per tree, in blocks of {block} alternated:"
    )
    print(f"  {'endpoint':32} " + " ".join(f"{label:>22}" for label, _ in trees))
    for name in endpoints(1):
        cells = []
        for label, _ in trees:
            app_s, pg_s, n = totals[name, label]
            app_ms, pg_ms = 1000 * app_s / n, 1000 * pg_s / n
            cells.append(f"{app_ms:5.2f} + {pg_ms:4.2f} = {app_ms + pg_ms:5.2f}")
        print(f"  {name:32} " + " ".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
