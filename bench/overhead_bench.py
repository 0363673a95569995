"""Benchmark: the server's CPU per request of answers that cost no computation (issue 22's
per-request overhead: routing, middlewares, dependencies, the caller, logging…).

Run: .venv/bin/python -m bench.overhead_bench [--requests 1000] [--alternate TREE]
[--repeat 2] [--profile DIR]

A throwaway PostGIS cluster holds the demo territory. The app runs in its own process
(``psq serve``, one process) on loopback; one keep-alive client calls each endpoint
``--requests`` times in a row (after a warm-up), as a chef signed in with a personal
access token (``token``) or with the session cookie of a sign-in (``cookie``), and the
app's and PostgreSQL's CPU seconds over those requests (``/proc``) are printed per
1 000 answers: a figure the machine's load changes far less than latencies.

``--alternate TREE`` serves another source tree (a checkout of the baseline) over the
same database before this one, ``--repeat`` times: baseline, this tree, baseline, this
tree… on one machine state. ``--profile DIR``: py-spy's collapsed stacks of the app while
it answers the cached list (the last endpoint), per tree and turn.
"""

from __future__ import annotations

import argparse
import subprocess
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


def measure(
    url: str,
    factory: object,
    root: Path,
    label: str,
    requests: int,
    token: dict[str, str],
    profile: Path | None,
) -> dict[str, tuple[float, float]]:
    """CPU ms per request (app, PostgreSQL) of each endpoint, served from ``root``."""
    figures: dict[str, tuple[float, float]] = {}
    with served_app(url, timeout=180, root=root) as base, httpx.Client(base_url=base) as http:
        signed = http.post(
            "/api/auth/token", data={"username": "chef@bench.example", "password": PASSWORD}
        )
        signed.raise_for_status()
        cookie = {"Cookie": f"psq_session={signed.json()['access_token']}"}
        sent = {"none": {}, "token": token, "cookie": cookie}
        pid = int(http.get("/api/health/ready").json().get("worker", 0))
        sampler = server_cpu(factory, [pid])  # type: ignore[arg-type]
        for name, (path, kind) in endpoints(1).items():
            for _ in range(50):  # warm: the caches filled, the code paths taken
                answer = http.get(path, headers=sent[kind])
                if answer.status_code != 200:
                    raise RuntimeError(f"{name}: {answer.status_code} {answer.text[:300]}")
            spies: list[subprocess.Popen[bytes]] = []
            if profile is not None and name == list(endpoints(1))[-1]:
                spies = profiled([pid], 10, profile, label.replace(" ", "_"))
                time.sleep(0.5)
            before = sampler.sample()
            count = 0
            deadline = time.monotonic() + (10.5 if spies else 1e9)
            while count < requests or (spies and time.monotonic() < deadline):
                http.get(path, headers=sent[kind])
                count += 1
            after = sampler.sample()
            for spy in spies:
                spy.wait()
            figures[name] = (
                1000 * (after[0] - before[0]) / count,
                1000 * (after[1] - before[1]) / count,
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--alternate", type=Path, help="a baseline source tree")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    with throwaway_database() as (url, factory, _):
        prepare(factory, 0)
        token = bearer(factory, "chef", gpo_ids=[1])
        trees = [("this tree", ROOT)]
        if args.alternate is not None:
            trees.insert(0, ("baseline", args.alternate.resolve()))
        results: dict[str, list[dict[str, tuple[float, float]]]] = {}
        for turn in range(args.repeat):
            for label, root in trees:
                print(f"== {label}, turn {turn + 1}", flush=True)
                figures = measure(
                    url, factory, root, f"{label} {turn + 1}", args.requests, token, args.profile
                )
                for name, (app, pg) in figures.items():
                    print(f"  {name:32} app {app:5.2f} ms + PostgreSQL {pg:5.2f} ms", flush=True)
                results.setdefault(label, []).append(figures)
    print("\nCPU per 1 000 answers (s; app + PostgreSQL), best turn of each tree:")
    names = list(endpoints(1))
    print(f"  {'endpoint':32} " + " ".join(f"{label:>22}" for label, _ in trees))
    for name in names:
        cells = []
        for label, _ in trees:
            app, pg = min((turn[name] for turn in results[label]), key=sum)
            cells.append(f"{app:5.2f} + {pg:4.2f} = {app + pg:5.2f}")
        print(f"  {name:32} " + " ".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
