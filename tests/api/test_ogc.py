"""OGC API - Features at ``/ogc``, on the demo as shipped (fictitious problems and
requests): the documents, paging, filters, CRS and errors, the perimeter of each role,
and real clients reading it: GDAL's OAPIF driver (pyogrio), OWSLib and QGIS itself."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pyproj
import pytest
import shapely
from sqlalchemy import func, select

from api.models import Commune, Grid, Layer, Plan, PlanSector, Problem, ProblemPlace
from api.repositories import ogc as repo
from geo import cql2
from geo.messages import field_label
from geo.ogc import CRS84, LAMBERT93
from geo.problems import CATEGORIES
from tests.api.ogc_world import OgcWorld
from tests.clock import TODAY

QGIS_CLASSES = {
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
}


def _get(world: OgcWorld, path: str, role: str | None = "admin", **params: Any) -> httpx.Response:
    headers = world.headers[role] if role else {}
    return httpx.get(f"{world.url}/ogc{path}", params=params, headers=headers, timeout=60)


def _ids(world: OgcWorld, path: str, role: str = "admin", **params: Any) -> list[Any]:
    """The ids of every feature of an items request, following its ``next`` links."""
    ids, url = [], f"{world.url}/ogc{path}"
    answer = httpx.get(url, params=params, headers=world.headers[role], timeout=60)
    while True:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        ids += [f["id"] for f in body["features"]]
        assert body["numberReturned"] == len(body["features"])
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            assert body["numberMatched"] == len(ids)
            return ids
        answer = httpx.get(following[0], headers=world.headers[role], timeout=60)


def _db_ids(world: OgcWorld, stmt: Any) -> list[Any]:
    with world.session() as session:
        return sorted(session.scalars(stmt))


def test_documents_and_the_collections_each_role_reads(ogc_world: OgcWorld) -> None:
    world = ogc_world
    landing = _get(world, "", role=None)
    assert landing.status_code == 200
    rels = {link["rel"] for link in landing.json()["links"]}
    assert {"conformance", "data", "service-desc", "self"} <= rels
    assert set(_get(world, "/conformance").json()["conformsTo"]) >= QGIS_CLASSES
    api = _get(world, "/api").json()
    assert api["openapi"] == "3.0.3" and "/collections/problems/items" in api["paths"]
    assert "text/html" in _get(world, "/collections", f="html").headers["content-type"]

    with world.session() as session:
        plans = session.scalars(select(Plan.id).where(Plan.status != "editing")).all()
        adopted = session.scalars(select(Plan.id).where(Plan.status == "adopted")).all()
        grids = session.scalars(select(Grid.id)).all()
        layers = session.scalars(select(Layer.id)).all()
    fixed = {"communes", "csp", "sectors", "problems", "problem-counts", "study-requests"}
    keyed = {f"plan-{i}" for i in plans} | {f"grid-{i}" for i in grids}
    keyed |= {f"layer-{i}" for i in layers}

    def listed(role: str) -> set[str]:
        answer = _get(world, "/collections", role=role)
        assert answer.status_code == 200, answer.text
        return {c["id"] for c in answer.json()["collections"]}

    assert listed("admin") == fixed | keyed
    # A chef: the adopted plan only, no grid, no aggregate, no study request.
    chef_layers = {f"layer-{i}" for i in layers}
    assert listed("chef") == {"communes", "csp", "sectors", "problems"} | chef_layers | {
        f"plan-{i}" for i in adopted
    }
    assert listed("commune") == {
        "communes",
        "csp",
        "problem-counts",
        "study-requests",
        f"camera-sites-{world.ids['commune']}",
    } | (chef_layers)
    problems = _get(world, "/collections/problems").json()
    assert problems["storageCrs"] == CRS84 and set(problems["crs"]) == {CRS84, LAMBERT93}
    queryables = _get(world, "/collections/problems/queryables")
    assert queryables.headers["content-type"] == "application/schema+json"
    props = queryables.json()["properties"]
    assert props["reported_on"] == {"title": "reported_on", "type": "string", "format": "date"}
    assert props["category"]["type"] == "string" and "geometry" in props


def test_paging_filters_sorting_and_properties(ogc_world: OgcWorld) -> None:
    world = ogc_world
    every = _db_ids(world, select(Problem.id))
    assert sorted(_ids(world, "/collections/problems/items", limit=150)) == every
    with world.session() as session:
        category, day = session.execute(
            select(Problem.category, func.min(Problem.reported_on))
            .group_by(Problem.category)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        middle = date.fromordinal((day.toordinal() + TODAY.toordinal()) // 2)
    # category = '…' AND reported_on >= DATE('…'), and its negation: they split the rest.
    cql = f"category = '{category}' AND reported_on >= DATE('{middle.isoformat()}')"
    chosen = _ids(world, "/collections/problems/items", limit=1000, filter=cql)
    expected = _db_ids(
        world,
        select(Problem.id).where(Problem.category == category, Problem.reported_on >= middle),
    )
    assert sorted(chosen) == expected and expected
    others = _ids(world, "/collections/problems/items", limit=1000, filter=f"NOT ({cql})")
    assert sorted(chosen + others) == every
    # The advanced comparisons against the same rows read from the database.
    cases = {
        f"category IN ('{category}', 'nothing') AND status NOT IN ('clos')": select(
            Problem.id
        ).where(Problem.category == category, Problem.status != "clos"),
        "title LIKE 'R%' OR address IS NULL": select(Problem.id).where(
            Problem.title.like("R%") | Problem.address.is_(None)
        ),
        f"reported_on BETWEEN DATE('{day}') AND DATE('{middle}')": select(Problem.id).where(
            Problem.reported_on.between(day, middle)
        ),
    }
    for cql_text, stmt in cases.items():
        got = _ids(world, "/collections/problems/items", limit=1000, filter=cql_text)
        assert sorted(got) == _db_ids(world, stmt), cql_text
    # datetime is the reporting day's interval; a bbox and S_INTERSECTS agree.
    interval = _ids(world, "/collections/problems/items", limit=1000, datetime=f"../{middle}")
    assert sorted(interval) == _db_ids(
        world, select(Problem.id).where(Problem.reported_on <= middle)
    )
    box = (6.84, 47.62, 6.87, 47.65)
    envelope = func.ST_MakeEnvelope(*box, 4326)
    inside = _db_ids(world, select(Problem.id).where(func.ST_Intersects(Problem.geom, envelope)))
    by_bbox = _ids(world, "/collections/problems/items", bbox=",".join(map(str, box)))
    spatial = f"S_INTERSECTS(geometry, BBOX({', '.join(map(str, box))}))"
    by_filter = _ids(world, "/collections/problems/items", filter=spatial, limit=500)
    assert sorted(by_bbox) == sorted(by_filter) == inside and inside
    # Sorted newest first, with the properties asked for only.
    page = _get(
        world,
        "/collections/problems/items",
        sortby="-reported_on,+id",
        properties="title,reported_on",
    ).json()["features"]
    days = [f["properties"]["reported_on"] for f in page]
    assert days == sorted(days, reverse=True) and {tuple(f["properties"]) for f in page} == {
        ("title", "reported_on")
    }
    one = _get(world, f"/collections/problems/items/{every[0]}").json()
    assert one["id"] == every[0] and one["properties"]["synthetic"] is True


def test_keyset_paging_in_id_order(ogc_world: OgcWorld) -> None:
    """In id order, ``next`` starts after the page's last id (and says its rank):
    the pages it links are those ``offset`` gives; sorted pages keep ``offset`` alone."""
    world = ogc_world
    every = _db_ids(world, select(Problem.id))
    first = _get(world, "/collections/problems/items", limit=7).json()
    assert [f["id"] for f in first["features"]] == every[:7]
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "offset=7" in following and f"after={every[6]}" in following
    second = httpx.get(following, headers=world.headers["admin"], timeout=30).json()
    assert [f["id"] for f in second["features"]] == every[7:14]
    by_offset = _get(world, "/collections/problems/items", limit=7, offset=7).json()
    assert by_offset["features"] == second["features"]
    previous = next(link["href"] for link in second["links"] if link["rel"] == "prev")
    assert "offset=0" in previous and "after" not in previous
    # The last page: no next link, whichever way it was reached.
    last = _get(world, "/collections/problems/items", limit=7, after=every[-3]).json()
    assert [f["id"] for f in last["features"]] == every[-2:]
    sorted_page = _get(world, "/collections/problems/items", limit=7, sortby="-id").json()
    assert [f["id"] for f in sorted_page["features"]] == every[::-1][:7]
    link = next(link["href"] for link in sorted_page["links"] if link["rel"] == "next")
    assert "offset=7" in link and "after" not in link


def test_deep_offsets_start_from_the_sparse_index_of_ids(ogc_world: OgcWorld) -> None:
    """The ids at every n-th rank (here 7th) turn an offset into a keyset start: the page
    after the mark below the offset, minus the rows between, is the offset's page; with a
    filter, the ranks are the filter's. Over HTTP, offsets past the stride give the pages
    plain ``OFFSET`` gives (the demo's problems: fewer than one stride past the mark)."""
    world = ogc_world
    every = _db_ids(world, select(Problem.id))
    with world.session() as session:
        source = repo.problems(session)
        marks = repo.id_marks(session, source, [], 7)
        assert marks == every[6::7]
        # offset 23: after the 3rd mark (rank 21), skip 2.
        page = repo.page(
            session,
            source,
            [],
            names=[],
            sort=[],
            limit=5,
            offset=23,
            srid=4326,
            after=marks[2],
            skip=2,
        )
        assert [f["id"] for f in json.loads(f"[{page.features}]")] == every[23:28]
        assert page.returned == 5 and page.last_id == every[27]
        where = repo.conditions(source, node=cql2.parse("category = 'rassemblements'"))
        chosen = _db_ids(world, select(Problem.id).where(Problem.category == "rassemblements"))
        assert repo.id_marks(session, source, where, 7) == chosen[6::7]
    deep = len(every) - 3
    answer = _get(world, "/collections/problems/items", limit=5, offset=deep).json()
    assert [f["id"] for f in answer["features"]] == every[deep:]
    assert not [link for link in answer["links"] if link["rel"] == "next"]


def test_each_role_reads_its_perimeter_only(ogc_world: OgcWorld) -> None:
    world = ogc_world
    gpo = world.ids["gpo_id"]
    mine = _db_ids(world, select(ProblemPlace.problem_id).where(ProblemPlace.gpo_id == gpo))
    assert sorted(_ids(world, "/collections/problems/items", role="chef", limit=500)) == mine
    other = _db_ids(
        world, select(ProblemPlace.problem_id).where(ProblemPlace.gpo_id != gpo).limit(1)
    )[0]
    assert _get(world, f"/collections/problems/items/{other}", role="chef").status_code == 404
    assert _get(world, "/collections/problems/items", role="commune").status_code == 403
    # A commune: the counts of its own commune's cells, those under 3 masked.
    code = world.ids["commune"]
    cells = _get(world, "/collections/problem-counts/items", role="commune", limit=1000).json()
    assert cells["features"] and {f["properties"]["commune"] for f in cells["features"]} == {code}
    assert all(
        f["properties"]["problems"] is None or f["properties"]["problems"] >= 3
        for f in cells["features"]
    )
    busiest = max(cells["features"], key=lambda f: f["properties"]["problems"] or 0)
    with world.session() as session:
        covered = session.scalar(
            select(func.count(Problem.id)).where(
                func.ST_Covers(
                    func.ST_GeomFromGeoJSON(json.dumps(busiest["geometry"])),
                    Problem.anchor,
                )
            )
        )
    assert busiest["properties"]["problems"] == (covered if covered >= 3 else None)
    # Its problems of the last 12 months (reported from TODAY - 365 days on), the same way.
    with world.session() as session:
        recent = session.scalar(
            select(func.count(Problem.id)).where(
                Problem.reported_on >= date.fromordinal(TODAY.toordinal() - 365),
                func.ST_Covers(
                    func.ST_GeomFromGeoJSON(json.dumps(busiest["geometry"])),
                    Problem.anchor,
                ),
            )
        )
    assert busiest["properties"]["problems_12_months"] == (recent if recent >= 3 else None)
    # Its suggested camera sites: those of its page's coverage answer, ranked.
    sites = _get(world, f"/collections/camera-sites-{code}/items", role="commune").json()
    coverage = httpx.get(
        f"{world.url}/api/communes/{code}/coverage",
        params={"p": 5, "radius": 100},
        headers=world.headers["commune"],
        timeout=60,
    ).json()["sites"]
    assert [f["properties"]["rank"] for f in sites["features"]] == [s["rank"] for s in coverage]
    assert [f["geometry"]["coordinates"] for f in sites["features"]] == [
        [pytest.approx(s["lon"], abs=1e-6), pytest.approx(s["lat"], abs=1e-6)] for s in coverage
    ]
    assert _get(world, f"/collections/camera-sites-{code}/items", role="chef").status_code == 403
    requests = _get(world, "/collections/study-requests/items", role="commune", limit=100).json()
    assert {f["properties"]["commune"] for f in requests["features"]} == {code}


def test_crs_and_errors(ogc_world: OgcWorld) -> None:
    world = ogc_world
    plain = _get(world, "/collections/communes/items", limit=1).json()["features"][0]
    lambert = _get(world, "/collections/communes/items", limit=1, crs=LAMBERT93)
    assert lambert.headers["content-crs"] == f"<{LAMBERT93}>"
    to_l93 = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)
    x, y = plain["geometry"]["coordinates"][0][0][0]
    assert lambert.json()["features"][0]["geometry"]["coordinates"][0][0][0] == pytest.approx(
        to_l93.transform(x, y), abs=0.2
    )
    minx, miny = to_l93.transform(x - 0.001, y - 0.001)
    maxx, maxy = to_l93.transform(x + 0.001, y + 0.001)
    near = _ids(
        world,
        "/collections/communes/items",
        bbox=f"{minx},{miny},{maxx},{maxy}",
        **{"bbox-crs": LAMBERT93},
    )
    assert plain["id"] in near
    refused = {
        ("/collections/problems/items", "bbox=1,2,3"): (400, "bbox"),
        ("/collections/problems/items", "bbox=3,2,1,1"): (400, "bbox"),
        ("/collections/problems/items", "crs=EPSG:3857"): (400, "crs"),
        ("/collections/problems/items", "bbox-crs=urn:x&bbox=1,2,3,4"): (400, "bbox-crs"),
        ("/collections/problems/items", "filter=category =="): (400, "filter"),
        ("/collections/problems/items", "filter=nope = 1"): (400, "filter"),
        ("/collections/problems/items", "filter=priority > 3"): (400, "filter"),
        ("/collections/problems/items", "filter-lang=cql2-json&filter=a"): (400, "filter-lang"),
        ("/collections/problems/items", "limit=0"): (400, "limit"),
        ("/collections/problems/items", "datetime=hier"): (400, "datetime"),
        ("/collections/communes/items", "datetime=2024-01-01"): (400, "datetime"),
        ("/collections/problems/items", "sortby=-nope"): (400, "sortby"),
        ("/collections/problems/items", "sortby=title&after=5"): (400, "after"),
        ("/collections/communes/items", "after=5"): (400, "after"),
        ("/collections/problems/items", "after=-1"): (400, "after"),
        ("/collections/problems/items", "properties=nope"): (400, "properties"),
        ("/collections/nowhere/items", ""): (404, "collectionId"),
        ("/collections/plan-999999", ""): (404, "collectionId"),
        ("/collections/problems/items/123456789", ""): (404, "featureId"),
    }
    for (path, query), (status, parameter) in refused.items():
        answer = httpx.get(
            f"{world.url}/ogc{path}?{query}", headers=world.headers["admin"], timeout=30
        )
        assert answer.status_code == status, (path, query, answer.text)
        body = answer.json()
        # the parameter is named, or its name in words (bbox: « Vue (ouest,sud,est,nord) »)
        named = parameter in body["description"] or field_label(parameter) in body["description"]
        assert set(body) == {"code", "description"} and named, body
    anonymous = _get(world, "/collections/problems/items", role=None)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert "Connexion requise" in anonymous.json()["description"]


# -- real clients --------------------------------------------------------------------------
def _token(world: OgcWorld, role: str = "admin") -> str:
    return world.headers[role]["Authorization"].removeprefix("Bearer ")


GDAL_SCRIPT = """
import json, sys
import pyogrio
url, token, box = sys.argv[1], sys.argv[2], tuple(map(float, sys.argv[3].split(",")))
# GDAL's OAPIF driver sets its own headers, so that GDAL_HTTP_HEADERS is not sent (GDAL
# 3.12): the bearer token goes through GDAL_HTTP_AUTH=BEARER (GDAL 3.9 and later).
pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token})
source = f"OAPIF:{url}"
out = {"drivers": "OAPIF" in pyogrio.list_drivers(), "counts": {}}
layers = [name for name, _ in pyogrio.list_layers(source)]
for layer in layers:
    out["counts"][layer] = len(pyogrio.read_dataframe(source, layer=layer))
communes = pyogrio.read_dataframe(source, layer="communes", PAGE_SIZE=40)
out["communes"] = dict(zip(communes["code"], [g.wkb_hex for g in communes.geometry]))
out["problems"] = len(pyogrio.read_dataframe(source, layer="problems", PAGE_SIZE=100))
out["framed"] = len(pyogrio.read_dataframe(source, layer="problems", bbox=box))
l93 = pyogrio.read_dataframe(source, layer="csp", CRS="EPSG:2154")
out["l93"] = [l93.crs.to_epsg(), l93.geometry.iloc[0].centroid.x]
print(json.dumps(out))
"""


def test_gdal_reads_every_collection(ogc_world: OgcWorld) -> None:
    """GDAL's OAPIF driver (through pyogrio, in its own process: the test server runs in
    this one, and pyogrio holds the interpreter while GDAL fetches the next page): every
    collection, counts and geometries as in the database, pages followed, a bbox and a
    CRS honoured."""
    world = ogc_world
    box = (6.84, 47.62, 6.87, 47.65)
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            GDAL_SCRIPT,
            f"{world.url}/ogc",
            _token(world),
            ",".join(map(str, box)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["drivers"]
    listed = {c["id"] for c in _get(world, "/collections").json()["collections"]}
    assert set(out["counts"]) == listed
    for layer, n in out["counts"].items():
        assert n == _get(world, f"/collections/{layer}/items", limit=1).json()["numberMatched"], (
            layer
        )
    # Geometries as stored, read over pages of 40 (the demo's 101 communes: 3 pages).
    with world.session() as session:
        stored = dict(session.execute(select(Commune.code, func.ST_AsBinary(Commune.geom))).all())
    assert set(out["communes"]) == set(stored)
    for code, wkb in out["communes"].items():
        assert shapely.equals_exact(
            shapely.from_wkb(bytes.fromhex(wkb)), shapely.from_wkb(bytes(stored[code])), 1e-6
        ), code
    assert out["problems"] == len(_db_ids(world, select(Problem.id)))
    # A bbox, sent to the server as bbox=…
    envelope = func.ST_MakeEnvelope(*box, 4326)
    inside = _db_ids(world, select(Problem.id).where(func.ST_Intersects(Problem.geom, envelope)))
    assert out["framed"] == len(inside) > 0
    # Lambert-93 asked of the server (crs=…): the geometries come in metres.
    epsg, x = out["l93"]
    assert epsg == 2154 and 900_000 < x < 1_100_000


def test_owslib_lists_collections_and_queryables(ogc_world: OgcWorld) -> None:
    from owslib.ogcapi.features import Features

    world = ogc_world
    api = Features(f"{world.url}/ogc", headers=world.headers["chef"])
    ids = {c["id"] for c in api.collections()["collections"]}
    assert "problems" in ids and not any(i.startswith("grid-") for i in ids)
    assert "category" in api.collection_queryables("problems")["properties"]
    items = api.collection_items("problems", limit=5)
    assert items["numberReturned"] == 5


QGIS_SCRIPT = """
import json, os, sys, zipfile
from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsProject, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
url, token, gpkg, project_zip, workdir = sys.argv[1:6]
auth = QgsApplication.authManager()
auth.setMasterPassword("mot de passe des tests", True)
# QGIS 3.22 (Debian 12) has no « API header » method: a Basic configuration whose
# password is the personal access token (the app accepts it so).
config = QgsAuthMethodConfig("Basic")
config.setName("psq")
config.setConfig("username", "qgis")
config.setConfig("password", token)
assert auth.storeAuthenticationConfig(config)[0]
out = {}
layer = QgsVectorLayer(f"url='{url}' typename='sectors' authcfg={config.id()}", "s", "OAPIF")
out["oapif"] = [layer.isValid(), layer.featureCount(), layer.crs().authid()]
out["oapif_names"] = sorted(f["name"] for f in layer.getFeatures())


def described(layer):
    renderer = layer.renderer()
    kind = renderer.type() if renderer else None
    classes = len(renderer.categories()) if kind == "categorizedSymbol" else (
        len(renderer.ranges()) if kind == "graduatedSymbol" else 0
    )
    return [layer.isValid(), kind, classes, layer.labelsEnabled(), layer.crs().authid()]


name = gpkg.rsplit("/", 1)[1].rsplit(".", 1)[0]
out["gpkg"] = described(QgsVectorLayer(f"{gpkg}|layername={name}", "secteurs", "ogr"))
zipfile.ZipFile(project_zip).extractall(workdir)
qgz = next(p for p in zipfile.ZipFile(project_zip).namelist() if p.endswith(".qgz"))
project = QgsProject.instance()
out["project_read"] = project.read(f"{workdir}/{qgz}")
out["project_crs"] = project.crs().authid()
out["project"] = {l.name(): described(l) + [l.featureCount()] for l in project.mapLayers().values()}
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 may crash while tearing its project down at exit
"""


def test_styled_exports_open_styled_in_qgis(ogc_world: OgcWorld, tmp_path: Path) -> None:
    """QGIS itself (Debian's python3-qgis, headless): a collection through its OAPIF
    provider with a token; the plan's GeoPackage export with its default style; the
    CSP's project export, in Lambert-93, its layers styled."""
    world = ogc_world
    admin = world.headers["admin"]
    with world.session() as session:
        plan_id, csp_id = session.execute(
            select(Plan.id, Plan.csp_id).where(Plan.status == "adopted").limit(1)
        ).one()
        names = sorted(
            session.scalars(select(PlanSector.name).where(PlanSector.plan_id == plan_id))
        )
        everything = session.scalar(select(func.count(Problem.id)).where(Problem.csp_id == csp_id))
    exported = httpx.get(
        f"{world.url}/api/plans/{plan_id}/export",
        params={"format": "gpkg", "crs": 2154},
        headers=admin,
        timeout=60,
    )
    assert exported.status_code == 200, exported.text
    gpkg = tmp_path / exported.headers["content-disposition"].split('"')[1]
    gpkg.write_bytes(exported.content)
    with sqlite3.connect(gpkg) as db:
        ((table, default, qml, sld),) = db.execute(
            "SELECT f_table_name, useAsDefault, styleQML, styleSLD FROM layer_styles"
        ).fetchall()
    assert table == gpkg.stem and default == 1
    assert "categorizedSymbol" in qml and all(f'label="{n}"' in qml for n in names)
    assert "StyledLayerDescriptor" in sld and "TextSymbolizer" in sld
    project = httpx.get(f"{world.url}/api/csp/{csp_id}/qgis-project", headers=admin, timeout=60)
    assert project.status_code == 200, project.text
    project_zip = tmp_path / "project.zip"
    project_zip.write_bytes(project.content)
    run = subprocess.run(
        [
            "/usr/bin/python3",
            "-c",
            QGIS_SCRIPT,
            f"{world.url}/ogc",
            _token(world),
            str(gpkg),
            str(project_zip),
            str(tmp_path / "project"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_RUNTIME_DIR": str(tmp_path),
            "HOME": str(tmp_path),
        },
    )
    results = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert run.returncode == 0 and results, run.stderr[-3000:]
    out = json.loads(results[0].removeprefix("RESULT "))
    assert out["oapif"] == [True, len(names), "EPSG:4326"] and out["oapif_names"] == names
    assert out["gpkg"] == [True, "categorizedSymbol", len(names), True, "EPSG:2154"]
    assert out["project_read"] and out["project_crs"] == "EPSG:2154", json.dumps(out)
    assert out["project"] == {
        "Problématiques": [
            True,
            "categorizedSymbol",
            len(CATEGORIES),
            False,
            "EPSG:2154",
            everything,
        ],
        "Secteurs (plan adopté)": [
            True,
            "categorizedSymbol",
            len(names),
            True,
            "EPSG:2154",
            len(names),
        ],
        "Communes": [True, "singleSymbol", 0, False, "EPSG:2154", out["project"]["Communes"][-1]],
    }


def test_every_collection_serves_its_features_one_by_one(ogc_world: OgcWorld) -> None:
    """Each collection a role lists: its collection document, its queryables, its first
    feature, and that feature again by its id, the same."""
    seen = 0
    for role in ("admin", "commune"):
        listed = _get(ogc_world, "/collections", role=role).json()["collections"]
        for collection in listed:
            cid = collection["id"]
            assert _get(ogc_world, f"/collections/{cid}", role=role).json()["id"] == cid
            queryables = _get(ogc_world, f"/collections/{cid}/queryables", role=role)
            assert queryables.status_code == 200 and queryables.json()["properties"]
            first = _get(ogc_world, f"/collections/{cid}/items", role=role, limit=1).json()
            if not first["features"]:
                continue
            feature = first["features"][0]
            alone = _get(ogc_world, f"/collections/{cid}/items/{feature['id']}", role=role)
            assert alone.status_code == 200, (cid, alone.text)
            assert alone.json()["id"] == feature["id"]
            assert alone.json()["properties"] == feature["properties"]
            seen += 1
    assert seen >= 9  # every kind but the empty ones
