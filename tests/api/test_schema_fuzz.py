"""The app against its own OpenAPI document: a seeded, bounded schemathesis run over every
operation, authenticated as the direction on the demo as shipped, fails on any server
error, any answer its schema does not describe (body, status code, content type), and
any request valid by the schema that is refused as invalid (``positive_data_acceptance``:
a 422 for what the schema says is valid). The operations whose 422 comes from a rule JSON
Schema cannot say (one field against another, against the data, a file's contents) are
listed with their reason in ``schemathesis.toml``, and only that check is relaxed for them.

The sign-in routes are left out: a generated ``POST /api/auth/logout`` would end the
run's own session. ``DELETE`` routes too: they would revoke the run's token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx2 as httpx

from api.services.demo_accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: The accepted exceptions to ``positive_data_acceptance``, each with its reason.
CONFIG = Path(__file__).resolve().with_name("schemathesis.toml")


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
            "--config-file",
            str(CONFIG),
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
            "content_type_conformance,positive_data_acceptance",
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
