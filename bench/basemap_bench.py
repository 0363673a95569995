"""Benchmark: the base map of Massy, served by the app and drawn by the browser.

Run: .venv/bin/python -m bench.basemap_bench

A throwaway PostGIS cluster gets the territory of Massy (tests/fixtures: its communes, its
4 786 OpenStreetMap road segments, the IDFM railways). Measured:

* the tile server: the tiles of Massy's view at zooms 12 to 17, built by PostGIS
  (``ST_AsMVT``), then served again from the cache;
* the renderer: headless Chromium opens the problems page, the map is put on Massy at
  zooms 14, 16 and 18 (two places each), and the time from the move to the base layer's
  ``load`` event (every visible tile fetched, decoded and drawn by Leaflet.VectorGrid) is
  read.

The weight of the two renderers considered is printed beside (the vendored
``Leaflet.VectorGrid.bundled.min.js``, and MapLibre GL JS 6 from its npm tarball when
``--maplibre DIR`` gives its unpacked ``dist/``).
"""

from __future__ import annotations

import argparse
import gzip
import math
import statistics
import threading
import time
import urllib.request
from pathlib import Path

import uvicorn

from api.cluster import free_port
from api.config import Settings
from api.services.context import Context
from api.services.territory import import_layer_file, import_territory
from bench.common import ROOT, bearer, throwaway_database
from geo.territory import read_communes
from psq.app import create_app
from web.printing import chromium_path

FIXTURES = ROOT / "tests" / "fixtures"
VECTORGRID = ROOT / "web" / "static" / "vendor" / "leaflet.vectorgrid"
CENTRE = (2.2656, 48.7305)  # Massy, the station district


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    phi = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(phi)) / math.pi) / 2 * n)


def weight(path: Path) -> str:
    data = path.read_bytes()
    return f"{len(data) / 1024:.0f} KB ({len(gzip.compress(data)) / 1024:.0f} KB gzipped)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--maplibre", type=Path, help="MapLibre GL JS's unpacked dist/")
    parser.add_argument("--screenshot", type=Path, help="save the page at zoom 16 there")
    args = parser.parse_args()
    print(f"Leaflet.VectorGrid 1.3.0: {weight(VECTORGRID / 'Leaflet.VectorGrid.bundled.min.js')}")
    if args.maplibre:
        for name in ("maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"):
            print(f"MapLibre GL JS {name}: {weight(args.maplibre / name)}")
    with throwaway_database() as (url, factory, _):
        ctx = Context(factory)
        report = import_territory(
            ctx,
            layer=read_communes(FIXTURES / "communes_massy.geojson"),
            csp_name="Massy",
            commune_codes=["91377"],
        )
        for name, file in (("Routes", "roads_osm_massy.geojson"),
                           ("Voies ferrées", "railways_idfm_essonne.geojson")):  # fmt: skip
            import_layer_file(ctx, path=FIXTURES / file, kind="barriers", name=name)
        headers = bearer(factory, "admin")
        app = create_app(Settings(database_url=url))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"

        def get(path: str) -> bytes:
            request = urllib.request.Request(base + path, headers=headers)
            with urllib.request.urlopen(request, timeout=60) as answer:
                return bytes(answer.read())

        if True:
            for z in range(12, 18):
                x, y = tile_of(*CENTRE, z)
                tiles = [(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
                for label in ("built", "cached"):
                    times, sizes = [], []
                    for tx, ty in tiles:
                        t = time.perf_counter()
                        content = get(f"/tiles/{z}/{tx}/{ty}.pbf")
                        times.append(time.perf_counter() - t)
                        sizes.append(len(content))
                    median_ms = statistics.median(times) * 1000
                    median_kb = statistics.median(sizes) / 1024
                    print(f"zoom {z}, 9 tiles {label}: median {median_ms:.1f} ms, max "
                          f"{max(times) * 1000:.1f} ms, size {median_kb:.1f} KB")  # fmt: skip
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
            page = browser.new_context(
                viewport={"width": 1366, "height": 900}, extra_http_headers=headers
            ).new_page()
            page.goto(f"{base}/problematiques?csp={report.csp_id}")
            page.wait_for_selector("body[data-ready=true]", timeout=60_000)
            for z in (14, 16, 18):
                for run in range(2):
                    page.evaluate("delete document.body.dataset.baseMapMs")
                    page.evaluate(
                        "([lon, lat, z]) => { const m = document.querySelector('#map'); "
                        "m.leafletMap.setView([lat, lon], z); }",
                        [CENTRE[0] + 0.01 * run - 0.004, CENTRE[1] + 0.002 * z - 0.03, z],
                    )
                    page.wait_for_selector("body[data-base-map-ms]", timeout=60_000)
                    ms = page.locator("body").get_attribute("data-base-map-ms")
                    print(f"Chromium, Leaflet.VectorGrid, zoom {z} (run {run + 1}): "
                          f"tiles fetched and drawn in {ms} ms")  # fmt: skip
                    if args.screenshot and z == 16 and run == 1:
                        page.screenshot(path=str(args.screenshot))
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main()
