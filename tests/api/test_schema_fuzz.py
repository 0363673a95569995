"""The app against its own OpenAPI document: a seeded, bounded schemathesis run over every
operation, authenticated as the direction on the demo as shipped, fails on any server
error, any answer its schema does not describe (body, status code, content type).

The sign-in routes are left out: a generated ``POST /api/auth/logout`` would end the
run's own session. ``DELETE`` routes too: they would revoke the run's token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx2 as httpx

from api.services.demo_accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_every_operation_answers_as_its_schema_says(live_demo: str) -> None:
    signed_in = httpx.post(
        f"{live_demo}/api/auth/token",
        data={"username": DEMO_ACCOUNTS["admin"], "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    ARTIFACTS.mkdir(exist_ok=True)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{live_demo}/openapi.json",
            "-H",
            f"Authorization: Bearer {token}",
            "--seed",
            "1",
            "--max-examples",
            "4",
            "--phases",
            "examples,coverage,fuzzing",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,"
            "content_type_conformance",
            "--exclude-method",
            "DELETE",
            "--exclude-path-regex",
            "/api/auth/.*",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    (ARTIFACTS / "schemathesis.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
    assert run.returncode == 0, run.stdout[-6000:]
    assert "Tested: " in run.stdout
