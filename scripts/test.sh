#!/usr/bin/env bash
# The whole test suite: installs what is missing (Python deps, PostGIS, Chromium), then
# ruff, mypy and pytest. pytest starts a throwaway PostGIS cluster and stops it at the end
# (or uses TEST_DATABASE_URL). Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ensure_python_env dev
ensure_postgis
ensure_chromium
cd "$PROJECT_ROOT"
say "ruff"
"$VENV/bin/ruff" check geo api web psq tests notebooks bench
"$VENV/bin/ruff" format --check geo api web psq tests notebooks bench
say "mypy"
"$VENV/bin/mypy"
say "pytest"
"$VENV/bin/pytest" "$@"
