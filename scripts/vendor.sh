#!/usr/bin/env bash
# Refresh the front-end libraries vendored under web/static/vendor/ from the npm registry.
# The pages never load anything from a CDN: what they need is committed there.
# Usage: scripts/vendor.sh   (needs node/npm; run it only to upgrade a library)
set -euo pipefail
cd "$(dirname "$0")/.."
LEAFLET=1.9.4
SWAGGER_UI=5.35.0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null &&
  npm install --no-audit --no-fund "leaflet@$LEAFLET" "swagger-ui-dist@$SWAGGER_UI" >/dev/null)
vendor=web/static/vendor
rm -rf "$vendor"; mkdir -p "$vendor/leaflet/images" "$vendor/swagger-ui"

src="$tmp/node_modules/leaflet"
cp "$src/dist/leaflet.js" "$src/dist/leaflet.css" "$src/LICENSE" "$vendor/leaflet/"
cp "$src/dist/images/"*.png "$vendor/leaflet/images/"

src="$tmp/node_modules/swagger-ui-dist"
cp "$src/swagger-ui-bundle.js" "$src/swagger-ui.css" "$src/favicon-32x32.png" "$src/LICENSE" \
  "$vendor/swagger-ui/"
# The bundle ends with a source map comment whose file is not vendored.
sed -i '/^\/\/# sourceMappingURL=/d' "$vendor/swagger-ui/swagger-ui-bundle.js" "$vendor/swagger-ui/swagger-ui.css"

printf 'leaflet %s\nswagger-ui-dist %s\n' "$LEAFLET" "$SWAGGER_UI" > "$vendor/VERSIONS"
echo "vendored: $(tr '\n' ' ' < "$vendor/VERSIONS")"
