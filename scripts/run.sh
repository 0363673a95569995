#!/usr/bin/env bash
# Run PSQ Secteurs at http://127.0.0.1:8000 : installs what is missing, starts the local
# PostGIS cluster under var/ (unless DATABASE_URL is set), migrates, loads the demo territory
# into an empty database, and serves (Chromium is installed for the A4 PDF/PNG sheets). Extra arguments go to `psq serve` (e.g. --port 8080).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ensure_python_env
[ -n "${DATABASE_URL:-}" ] || ensure_postgis
ensure_chromium  # prints the A4 sheets (PDF, PNG)
exec "$VENV/bin/psq" serve "$@"
