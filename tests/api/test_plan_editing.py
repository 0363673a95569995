"""Editing plans by hand through the API: working copies, edits and their validation,
optimistic concurrency, locks, saving a version, comparing, adopting, exporting."""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from typing import Any

import geopandas as gpd
import h3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.plan_helpers import adopt, border_cells, propose, wait_for_job


@pytest.fixture
def plan(client: TestClient, csp_id: int) -> dict[str, Any]:
    return propose(client, csp_id, k=4, seed=1)


def working_copy(client: TestClient, plan_id: int) -> dict[str, Any]:
    response = client.post(f"/api/plans/{plan_id}/edit")
    assert response.status_code == 200, response.text
    return response.json()


def sectors_of(client: TestClient, plan_id: int) -> dict[str, int]:
    cells = client.get(f"/api/plans/{plan_id}/cells").json()["features"]
    return {c["properties"]["h3"]: c["properties"]["sector"] for c in cells}


def edit(client: TestClient, plan_id: int, version: int, assignments: dict[str, int]) -> Any:
    return client.post(
        f"/api/plans/{plan_id}/edits", json={"version": version, "assignments": assignments}
    )


def test_edit_undo_save_compare_adopt(
    client: TestClient, plan: dict[str, Any], engine: Engine, csp_id: int
) -> None:
    copy = working_copy(client, plan["id"])
    assert copy["status"] == "editing" and copy["parent_id"] == plan["id"]
    assert working_copy(client, plan["id"])["id"] == copy["id"]  # shared, not a second copy
    state = client.get(f"/api/plans/{copy['id']}/editor").json()
    assert state["metrics"]["max_deviation"] == pytest.approx(plan["metrics"]["max_deviation"])
    assert state["detached"] == []

    before = sectors_of(client, copy["id"])
    moved, source, target = border_cells(before, 3)
    response = edit(client, copy["id"], copy["version"], dict.fromkeys(moved, target))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["version"] == copy["version"] + 1
    assert result["moved"] == dict.fromkeys(moved, target)
    assert result["previous"] == dict.fromkeys(moved, source)
    assert result["sectors"] == sorted([source, target])

    # The figures are those of the stored cells, recomputed independently.
    after = sectors_of(client, copy["id"])
    assert {c for c in after if after[c] != before[c]} == set(moved)
    cells = client.get(f"/api/plans/{copy['id']}/cells").json()["features"]
    loads: dict[int, float] = defaultdict(float)
    for c in cells:
        loads[c["properties"]["sector"]] += c["properties"]["workload"]
    for sector in result["metrics"]["sectors"]:
        assert sector["workload"] == pytest.approx(loads[sector["sector"]], abs=0.05)
    # …and the stored outline of each sector follows its cells: they still tile the CSP.
    with engine.connect() as conn:
        union, total, csp, area0 = conn.execute(
            text(
                "SELECT ST_Area(ST_Union(s.geom)::geography), SUM(ST_Area(s.geom::geography)), "
                "ST_Area(c.geom::geography), "
                "SUM(ST_Area(s.geom::geography)) FILTER (WHERE s.sector = :s) "
                "FROM plan_sector s, csp c WHERE s.plan_id = :p AND c.id = :c GROUP BY c.geom"
            ),
            {"p": copy["id"], "c": csp_id, "s": source},
        ).one()
    assert abs(union - csp) / csp < 1e-4 and abs(total - union) / union < 1e-6
    assert result["metrics"]["sectors"][source]["area_km2"] == pytest.approx(area0 / 1e6, rel=5e-3)

    # Undo is the edit of the previous sectors; redo the edit again.
    undo = edit(client, copy["id"], result["version"], result["previous"]).json()
    assert undo["metrics"]["max_deviation"] == pytest.approx(plan["metrics"]["max_deviation"])
    assert sectors_of(client, copy["id"]) == before
    redo = edit(client, copy["id"], undo["version"], result["moved"]).json()
    assert redo["metrics"] == result["metrics"]

    saved = client.post(
        f"/api/plans/{copy['id']}/save",
        json={"version": redo["version"], "comment": "Trois cellules rattachées à un voisin"},
    )
    assert saved.status_code == 200, saved.text
    version = saved.json()
    assert version["status"] == "draft" and version["name"] == f"{plan['name']} — v2"
    assert version["comment"] == "Trois cellules rattachées à un voisin"
    detail = client.get(f"/api/plans/{version['id']}").json()
    assert any("3 unité(s) changée(s)" in note for note in detail["notes"])
    assert sectors_of(client, version["id"]) == after
    assert sectors_of(client, plan["id"]) == before  # the parent is untouched

    comparison = client.get(f"/api/plans/{version['id']}/compare", params={"with": plan["id"]})
    assert comparison.status_code == 200
    body = comparison.json()
    assert body["changed_count"] == 3
    assert {f["properties"]["h3"] for f in body["cells"]["features"]} == set(moved)
    assert all(f["properties"]["other_sector"] == source for f in body["cells"]["features"])
    assert body["plan"]["metrics"] == result["metrics"]

    assert adopt(client, plan["id"]).json()["status"] == "adopted"
    assert adopt(client, version["id"]).json()["status"] == "adopted"
    assert client.get(f"/api/plans/{plan['id']}").json()["status"] == "archived"


def test_edit_validation(client: TestClient, plan: dict[str, Any]) -> None:
    copy = working_copy(client, plan["id"])
    sectors = sectors_of(client, copy["id"])
    (cell,), source, target = border_cells(sectors, 1)
    other = next(s for s in range(4) if s not in (source, target))
    version = copy["version"]

    def rejected(assignments: dict[str, int], status: int, *words: str) -> None:
        response = edit(client, copy["id"], version, assignments)
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        for word in words:
            assert word in detail

    rejected({"8a1fb46622dffff": 1}, 422, "8a1fb46622dffff")
    rejected({cell: 9}, 422, "9", "n'existe pas")
    rejected({c: target for c, s in sectors.items() if s == other}, 422, "sans aucune unité")
    # A draft, an adopted or archived plan is never edited in place.
    response = edit(client, plan["id"], plan["version"], {cell: target})
    assert response.status_code == 409 and "pas une copie de travail" in response.json()["detail"]
    assert edit(client, 999_999, 1, {cell: target}).status_code == 404
    assert (
        client.post(
            f"/api/plans/{copy['id']}/edits", json={"version": version, "assignments": {}}
        ).status_code
        == 422
    )

    locks = client.put(
        f"/api/plans/{copy['id']}/locks", json={"version": version, "sectors": [target]}
    )
    assert locks.status_code == 200 and locks.json()["locked_sectors"] == [target]
    version = locks.json()["version"]
    rejected({cell: target}, 422, "verrouillé")
    bad_lock = client.put(
        f"/api/plans/{copy['id']}/locks", json={"version": version, "sectors": [7]}
    )
    assert bad_lock.status_code == 422 and "7" in bad_lock.json()["detail"]
    # Nothing was written by any rejected edit.
    assert sectors_of(client, copy["id"]) == sectors
    assert client.get(f"/api/plans/{copy['id']}").json()["version"] == version
    # A working copy must be saved before it is adopted.
    assert adopt(client, copy["id"]).status_code == 409


def test_stale_version_is_a_conflict(client: TestClient, plan: dict[str, Any]) -> None:
    """Two planners on the same working copy: the second edit, made on the version both
    read, is refused with a 409 and loses nothing of the first."""
    copy = working_copy(client, plan["id"])
    sectors = sectors_of(client, copy["id"])
    (first, second), source, target = border_cells(sectors, 2)
    assert edit(client, copy["id"], copy["version"], {first: target}).status_code == 200
    response = edit(client, copy["id"], copy["version"], {second: target})
    assert response.status_code == 409
    assert f"vous aviez la version {copy['version']})" in response.json()["detail"]
    now = sectors_of(client, copy["id"])
    assert now[first] == target and now[second] == source


def test_detached_cells_are_reported(client: TestClient, plan: dict[str, Any]) -> None:
    copy = working_copy(client, plan["id"])
    sectors = sectors_of(client, copy["id"])
    # A cell of sector 1 deep inside it (two rings of sector 1 around it) given to
    # sector 0: it is cut off from the rest of sector 0, and sector 1 stays in one piece.
    inner = next(
        c
        for c, s in sorted(sectors.items())
        if s == 1 and all(sectors.get(nb) == 1 for nb in h3.grid_disk(c, 2))
    )
    result = edit(client, copy["id"], copy["version"], {inner: 0}).json()
    assert result["detached"] == [inner]
    assert not result["metrics"]["contiguous"]
    assert any(v["constraint"] == "contiguity" for v in result["violations"])


def test_discarding_a_working_copy(client: TestClient, plan: dict[str, Any]) -> None:
    copy = working_copy(client, plan["id"])
    assert client.delete(f"/api/plans/{copy['id']}").status_code == 204
    assert client.get(f"/api/plans/{copy['id']}").status_code == 404
    assert client.get(f"/api/plans/{plan['id']}").status_code == 200
    adopt(client, plan["id"])
    refused = client.delete(f"/api/plans/{plan['id']}")
    assert refused.status_code == 409 and "le plan adopté de sa CSP" in refused.json()["detail"]


def test_compare_with_an_unknown_plan(client: TestClient, plan: dict[str, Any]) -> None:
    response = client.get(f"/api/plans/{plan['id']}/compare", params={"with": 999_999})
    assert response.status_code == 404 and "999999" in response.json()["detail"]


@pytest.mark.parametrize("crs", [4326, 2154])
def test_exports(client: TestClient, plan: dict[str, Any], crs: int, tmp_path: Any) -> None:
    for fmt in ("geojson", "gpkg", "shp"):
        response = client.get(f"/api/plans/{plan['id']}/export", params={"format": fmt, "crs": crs})
        assert response.status_code == 200, response.text
        name = response.headers["content-disposition"].split('filename="')[1].rstrip('"')
        path = tmp_path / name
        path.write_bytes(response.content)
        if fmt == "shp":
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                assert {n.rsplit(".", 1)[1] for n in archive.namelist()} >= {
                    "shp",
                    "shx",
                    "dbf",
                    "prj",
                    "cpg",
                }
            layer = gpd.read_file(f"zip://{path}")
        else:  # a GeoPackage holds its QGIS style too: the sectors are the file's own layer
            layer = gpd.read_file(path, layer=path.stem) if fmt == "gpkg" else gpd.read_file(path)
        assert layer.crs is not None and layer.crs.to_epsg() == crs
        assert len(layer) == 4 and sorted(layer["sector"]) == [0, 1, 2, 3]
        assert "Secteur 1" in set(layer["name"])
        area = layer.to_crs(2154).area.sum() / 1e6
        assert area == pytest.approx(
            sum(s["area_km2"] for s in plan["metrics"]["sectors"]), rel=1e-3
        )
        if fmt == "geojson":
            assert json.loads(response.content)["type"] == "FeatureCollection"
    bad = client.get(f"/api/plans/{plan['id']}/export", params={"format": "kml"})
    assert bad.status_code == 422
    bad = client.get(f"/api/plans/{plan['id']}/export", params={"crs": 3857})
    assert bad.status_code == 422


def test_reoptimise_keeps_locked_sectors(client: TestClient, plan: dict[str, Any]) -> None:
    copy = working_copy(client, plan["id"])
    before = sectors_of(client, copy["id"])
    # Unbalance the plan by hand, lock one sector, then re-optimise the others.
    moved, source, target = border_cells(before, 6)
    version = edit(client, copy["id"], copy["version"], dict.fromkeys(moved, target)).json()[
        "version"
    ]
    locked = next(s for s in range(4) if s not in (source, target))
    version = client.put(
        f"/api/plans/{copy['id']}/locks", json={"version": version, "sectors": [locked]}
    ).json()["version"]
    response = client.post(f"/api/plans/{copy['id']}/reoptimise", json={"version": version})
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json())
    assert job["status"] == "done", job["error"]
    after = sectors_of(client, copy["id"])
    assert {c for c, s in after.items() if s == locked} == {
        c for c, s in before.items() if s == locked
    }
    state = client.get(f"/api/plans/{copy['id']}/editor").json()
    assert state["version"] > version and state["metrics"]["contiguous"]
    notes = client.get(f"/api/plans/{copy['id']}").json()["notes"]
    assert "Secteurs non verrouillés ré-optimisés (3 sur 4)." in notes
    free = [s for s in state["metrics"]["sectors"] if s["sector"] != locked]
    loads = [s["workload"] for s in free]
    assert (max(loads) - min(loads)) / (sum(loads) / len(loads)) <= 0.1 + 1e-6
    # A stale version is refused at once.
    stale = client.post(f"/api/plans/{copy['id']}/reoptimise", json={"version": version})
    assert stale.status_code == 409


def test_reoptimise_refuses_when_every_sector_is_locked(
    client: TestClient, plan: dict[str, Any]
) -> None:
    copy = working_copy(client, plan["id"])
    locks = client.put(
        f"/api/plans/{copy['id']}/locks",
        json={"version": copy["version"], "sectors": [0, 1, 2, 3]},
    ).json()
    response = client.post(
        f"/api/plans/{copy['id']}/reoptimise", json={"version": locks["version"]}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"Secteurs verrouillés : tous les secteurs du plan {copy['id']} sont verrouillés ; "
        "déverrouillez-en pour ré-optimiser"
    )


def test_compare_with_an_id_out_of_range(client: TestClient, plan: dict[str, Any]) -> None:
    response = client.get(f"/api/plans/{plan['id']}/compare", params={"with": 2**31})
    assert response.status_code == 422


def test_compare_needs_the_same_grid(client: TestClient, plan: dict[str, Any], csp_id: int) -> None:
    assert client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 8}).status_code == 201
    other = propose(client, csp_id, k=2, resolution=8)
    response = client.get(f"/api/plans/{plan['id']}/compare", params={"with": other["id"]})
    assert response.status_code == 422
    assert "H3 résolution 8" in response.json()["detail"]


def test_a_plan_of_another_grid_is_not_edited(
    client: TestClient, plan: dict[str, Any], engine: Engine
) -> None:
    """A plan whose cells are no longer those of the CSP's grid (the grid was rebuilt on
    other communes) cannot be edited or compared: 422, and no working copy is made."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM plan_cell WHERE plan_id = :p "
                "AND h3 = (SELECT MIN(h3) FROM plan_cell WHERE plan_id = :p)"
            ),
            {"p": plan["id"]},
        )
    response = client.post(f"/api/plans/{plan['id']}/edit")
    assert response.status_code == 422 and "grille antérieure" in response.json()["detail"]
    assert client.get(f"/api/csp/{plan['csp_id']}/plans").json()["count"] == 1


def test_delete_checks_the_version(client: TestClient, plan: dict[str, Any]) -> None:
    copy = working_copy(client, plan["id"])
    sectors = sectors_of(client, copy["id"])
    (cell,), _, target = border_cells(sectors, 1)
    assert edit(client, copy["id"], copy["version"], {cell: target}).status_code == 200
    stale = client.delete(f"/api/plans/{copy['id']}", params={"version": copy["version"]})
    assert stale.status_code == 409
    assert client.get(f"/api/plans/{copy['id']}").status_code == 200
    current = client.get(f"/api/plans/{copy['id']}").json()["version"]
    assert client.delete(f"/api/plans/{copy['id']}", params={"version": current}).status_code == 204
