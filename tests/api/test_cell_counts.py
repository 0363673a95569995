"""The problems per cell kept by the problems' writes (issue 22, migration 0024): after
any sequence of writes (new problems, moved, deleted, flagged synthetic, closed, several
in one statement, a grid built after them), the kept counts give the same cells map as
counting every problem again from its anchor."""

from __future__ import annotations

import json
import random
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.services import grid
from api.services.context import Context
from tests.cell_points import extent_and_shared_vertex

MOVE = "UPDATE problem SET anchor = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE id = :id"


def _same(ctx: Context, csp_id: int, res: int) -> dict[str, Any]:
    kept = json.loads(grid.grid_cells_json(ctx, csp_id, resolution=res))
    counted = json.loads(grid.counted_cells_json(ctx, csp_id, resolution=res))
    assert kept == counted
    return kept


def test_kept_counts_equal_a_full_count_after_random_writes(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    rng = random.Random(22)
    with engine.connect() as conn:
        (x0, y0, x1, y1), vertex = extent_and_shared_vertex(conn, csp_id)
    before = _same(ctx, csp_id, 9)
    total = sum(f["properties"]["problems"] for f in before["features"])
    assert total > 100  # the demo's problems

    def point() -> tuple[float, float]:
        if rng.random() < 0.15:
            return vertex[0], vertex[1]
        return rng.uniform(x0, x1), rng.uniform(y0, y1)

    created: list[int] = []
    for step in range(36):
        kind = rng.choice(["new", "new", "move", "close", "delete", "synthetic", "many"])
        with engine.connect() as conn:
            ids = list(
                conn.scalars(text("SELECT id FROM problem WHERE csp_id = :c"), {"c": csp_id})
            )
        target = rng.choice(ids)
        if kind == "new":
            x, y = point()
            answer = client.post(
                f"/api/csp/{csp_id}/problems",
                json={"category": "nuisances", "title": f"Essai {step}", "lon": x, "lat": y},
            )
            # a point of the extent outside the CSP is refused: nothing written, nothing counted
            assert answer.status_code in (201, 422), answer.text
            if answer.status_code == 201:
                created.append(answer.json()["id"])
            continue
        statement, values = {
            # anywhere, even outside every cell (then it is counted nowhere)
            "move": (MOVE, {"id": target, "x": point()[0], "y": point()[1]}),
            "close": ("UPDATE problem SET status = 'resolu' WHERE id = :id", {"id": target}),
            "delete": ("DELETE FROM problem WHERE id = :id", {"id": target}),
            "synthetic": (
                "UPDATE problem SET synthetic = NOT synthetic WHERE id = :id",
                {"id": target},
            ),
            # several rows in one statement, some moved and some not
            "many": (
                "UPDATE problem SET anchor = CASE WHEN id % 2 = 0 "
                "THEN ST_Translate(anchor, 0.002, -0.001) ELSE anchor END, "
                "synthetic = (id % 3 = 0) WHERE id % 5 = :r AND csp_id = :c",
                {"r": step % 5, "c": csp_id},
            ),
        }[kind]
        with engine.begin() as conn:
            conn.execute(text(statement), values)
        if step % 6 == 5:
            _same(ctx, csp_id, 9)
    assert created  # some new problems were inside the CSP
    after = _same(ctx, csp_id, 9)
    assert after != before
    # what the API serves is the kept answer
    assert client.get(f"/api/csp/{csp_id}/cells", params={"res": 9}).json() == after
    # a grid built after these writes starts from every problem of the CSP
    built = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 7})
    assert built.status_code in (200, 201), built.text
    coarse = _same(ctx, csp_id, 7)
    with engine.connect() as conn:
        inside = conn.scalar(
            text(
                "SELECT count(*) FROM problem p WHERE p.csp_id = :c AND EXISTS (SELECT 1 "
                "FROM cell c JOIN grid g ON g.id = c.grid_id WHERE g.csp_id = :c "
                "AND g.resolution = 7 AND ST_Covers(c.geom, p.anchor))"
            ),
            {"c": csp_id},
        )
    assert sum(f["properties"]["problems"] for f in coarse["features"]) == inside
