#!/usr/bin/env bash
# The whole test suite: installs what is missing (Python deps, PostGIS, Chromium, QGIS), then
# ruff, mypy and pytest. pytest runs one worker per core, each starting a throwaway PostGIS
# cluster and stopping it at the end (or all on TEST_DATABASE_URL, then in one worker).
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ensure_python_env dev
ensure_postgis
ensure_chromium
ensure_qgis
cd "$PROJECT_ROOT"
say "ruff"
"$VENV/bin/ruff" check geo api web psq tests notebooks bench
"$VENV/bin/ruff" format --check geo api web psq tests notebooks bench
say "mypy"
"$VENV/bin/mypy"
say "pytest"
# Two workers on a two-core machine (at most four elsewhere), each with its own throwaway
# PostGIS cluster and Chromium: the suite in about 9 minutes instead of 15. One given
# database (TEST_DATABASE_URL) is emptied by every test: then one worker.
if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  "$VENV/bin/pytest" "$@"
else
  "$VENV/bin/pytest" -n auto --maxprocesses=4 "$@"
fi
