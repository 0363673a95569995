# Shared set-up steps of scripts/run.sh and scripts/test.sh, for Debian.
# Sourced, not executed. Each step does nothing when what it installs is already there.

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$PROJECT_ROOT/.venv"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "root rights needed to run: $*" >&2; return 1
  fi
}

APT_UPDATED=
apt_install() {
  say "apt-get install $*"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The virtual environment with the package installed (editable). $1: extras, e.g. "dev".
ensure_python_env() {
  local extras=${1:-} spec=".[${1:-}]" stamp
  [ -z "$extras" ] && spec="."
  local python=${PYTHON:-python3}
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Python >= 3.11 is required (found: $("$python" --version 2>&1))" >&2; return 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment $VENV"
    "$python" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && "$python" -m venv "$VENV"; }
  fi
  stamp="$VENV/.installed-$(sha1sum "$PROJECT_ROOT/pyproject.toml" | cut -c1-12)-${extras:-base}"
  if [ ! -f "$stamp" ]; then
    say "installing Python dependencies ($spec)"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    (cd "$PROJECT_ROOT" && "$VENV/bin/python" -m pip install -q -e "$spec")
    touch "$stamp"
  fi
}

# PostgreSQL server binaries and PostGIS, from Debian's packages.
ensure_postgis() {
  local initdb version
  initdb=$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$initdb" ]; then
    # Server binaries only: no system-wide cluster is created (the app owns its own).
    as_root mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    apt_install postgresql postgresql-postgis
    return
  fi
  version=$(basename "$(dirname "$(dirname "$initdb")")")
  if [ ! -f "/usr/share/postgresql/$version/extension/postgis.control" ]; then
    apt_install "postgresql-$version-postgis-3"
  fi
}

# QGIS itself, headless (Debian's python3-qgis, run with /usr/bin/python3): the OGC API and
# styled-export tests load the app's collections and files in it.
ensure_qgis() {
  if ! /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
    apt_install python3-qgis qgis-providers
  fi
}

# Debian's Chromium (driven by Playwright), its French language pack (date fields in
# jj/mm/aaaa in the browser tests) and a font for readable screenshots.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || [ ! -f /usr/lib/chromium/locales/fr.pak ]; then
    apt_install chromium chromium-l10n fonts-dejavu-core
  fi
}
