#!/usr/bin/env bash
# Refresh the front-end libraries vendored under web/static/vendor/ from the npm registry
# (and two files of the folium sdist from PyPI).
# The pages never load anything from a CDN: what they need is committed there, and
# web/folium_maps.py rewrites folium's CDN links to these copies.
# Usage: scripts/vendor.sh   (needs node/npm, and a Python with pip: $PYTHON, default
# .venv/bin/python or python3; run it only to upgrade a library)
set -euo pipefail
cd "$(dirname "$0")/.."
LEAFLET=1.9.4  # folium 0.20 asks for 1.9.3; 1.9.4 is its bug-fix release
LEAFLET_MARKERCLUSTER=1.5.3  # folium asks for 1.1.0, which predates Leaflet 1.9
SWAGGER_UI=5.35.0
# What a folium 0.20 map loads (see web/folium_maps.py for the CDN URL of each):
JQUERY=3.7.1
BOOTSTRAP=5.2.2
BOOTSTRAP3=3.4.1  # only its Glyphicons (folium.Icon's default prefix); 3.0.0 is not on npm
FONTAWESOME=6.2.0
AWESOME_MARKERS=2.0.5  # folium asks for 2.0.2 (cdnjs), not on npm
D3=3.5.5  # branca's colormap legend
FOLIUM=0.20.0  # leaflet_heat.min.js (HeatMap) and leaflet.awesome.rotate.css
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null &&
  npm install --no-audit --no-fund --ignore-scripts "leaflet@$LEAFLET" \
    "leaflet.markercluster@$LEAFLET_MARKERCLUSTER" "swagger-ui-dist@$SWAGGER_UI" \
    "jquery@$JQUERY" "bootstrap@$BOOTSTRAP" "bootstrap3@npm:bootstrap@$BOOTSTRAP3" \
    "@fortawesome/fontawesome-free@$FONTAWESOME" \
    "leaflet.awesome-markers@$AWESOME_MARKERS" "d3@$D3" >/dev/null)
# The wheel lacks leaflet.awesome.rotate.css: take both files from the sdist.
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: -d "$tmp/pypi" "folium==$FOLIUM"
tar xzf "$tmp/pypi/folium-$FOLIUM.tar.gz" -C "$tmp"

vendor=web/static/vendor
modules="$tmp/node_modules"
rm -rf "$vendor"
mkdir -p "$vendor"/{leaflet/images,leaflet.markercluster,swagger-ui,jquery,bootstrap} \
  "$vendor"/glyphicons/{css,fonts} "$vendor"/fontawesome/{css,webfonts} \
  "$vendor"/leaflet.awesome-markers/images "$vendor"/{d3,folium}

src="$modules/leaflet"
cp "$src/dist/leaflet.js" "$src/dist/leaflet.css" "$src/LICENSE" "$vendor/leaflet/"
cp "$src/dist/images/"*.png "$vendor/leaflet/images/"

src="$modules/leaflet.markercluster"
cp "$src/dist/leaflet.markercluster.js" "$src/dist/MarkerCluster.css" \
  "$src/dist/MarkerCluster.Default.css" "$src/MIT-LICENCE.txt" "$vendor/leaflet.markercluster/"

src="$modules/swagger-ui-dist"
cp "$src/swagger-ui-bundle.js" "$src/swagger-ui.css" "$src/favicon-32x32.png" "$src/LICENSE" \
  "$vendor/swagger-ui/"

cp "$modules/jquery/dist/jquery.min.js" "$modules/jquery/LICENSE.txt" "$vendor/jquery/"

src="$modules/bootstrap"
cp "$src/dist/js/bootstrap.bundle.min.js" "$src/dist/css/bootstrap.min.css" "$src/LICENSE" \
  "$vendor/bootstrap/"

# Bootstrap 3's Glyphicons rules: its licence header, then the @font-face (the only one)
# through the last icon rule. The fonts keep their relative path (../fonts/).
src="$modules/bootstrap3/dist"
awk 'NR <= 5 { print; next }
     /^@font-face/ { on = 1 }
     on { print }
     on && /^\.glyphicon-menu-up:before/ { last = 1 }
     on && last && /^}/ { exit }' "$src/css/bootstrap.css" \
  > "$vendor/glyphicons/css/bootstrap-glyphicons.css"
grep -q '^\.glyphicon-info-sign:before' "$vendor/glyphicons/css/bootstrap-glyphicons.css"
cp "$src/fonts/"glyphicons-halflings-regular.* "$vendor/glyphicons/fonts/"
cp "$modules/bootstrap3/LICENSE" "$vendor/glyphicons/"

src="$modules/@fortawesome/fontawesome-free"
cp "$src/css/all.min.css" "$vendor/fontawesome/css/"
cp "$src/webfonts/"* "$vendor/fontawesome/webfonts/"
cp "$src/LICENSE.txt" "$vendor/fontawesome/"

src="$modules/leaflet.awesome-markers"
cp "$src/dist/leaflet.awesome-markers.js" "$src/dist/leaflet.awesome-markers.css" "$src/LICENSE" \
  "$vendor/leaflet.awesome-markers/"
cp "$src"/dist/images/markers-{soft,shadow}{,@2x}.png "$vendor/leaflet.awesome-markers/images/"

cp "$modules/d3/d3.min.js" "$modules/d3/LICENSE" "$vendor/d3/"

src="$tmp/folium-$FOLIUM"
cp "$src/folium/templates/leaflet_heat.min.js" "$src/folium/templates/leaflet.awesome.rotate.css" \
  "$src/LICENSE.txt" "$vendor/folium/"

# Source map comments name files that are not vendored (the browser would ask for them).
find "$vendor" \( -name '*.js' -o -name '*.css' \) -exec sed -i -E \
  -e '/^\/\/# sourceMappingURL=[^ ]*$/d' -e 's#/\*\# sourceMappingURL=[^*]*\*/##' {} +
if grep -rl '[#@] sourceMappingURL=' "$vendor"; then echo "source map comment left" >&2; exit 1; fi

cat > "$vendor/VERSIONS" <<EOF
leaflet $LEAFLET
leaflet.markercluster $LEAFLET_MARKERCLUSTER
swagger-ui-dist $SWAGGER_UI
jquery $JQUERY
bootstrap $BOOTSTRAP
bootstrap $BOOTSTRAP3 (glyphicons only)
@fortawesome/fontawesome-free $FONTAWESOME
leaflet.awesome-markers $AWESOME_MARKERS
d3 $D3
folium $FOLIUM (leaflet_heat.min.js, leaflet.awesome.rotate.css)
EOF
echo "vendored: $(tr '\n' ';' < "$vendor/VERSIONS") $(du -sh "$vendor" | cut -f1)"
