"""The lists kept under writes (issue 22, migration 0026): a GPO's problems as GeoJSON,
its open problems, the GPOs' counts and its actions, brought up to date from the problems
written since they were read, are after any sequence of random writes (new problems,
moves to another sector, closings, priorities, dates, titles, deletions, several rows in
one statement, every problem of the CSP in one, an import of more problems than a
statement's touches are written one by one for (migration 0026's ``BULK``), a thematic
GPO's sectors changed, actions added) the same bytes as the lists built from scratch by a
context that kept nothing."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api import clock
from api.repositories import touches
from api.services import actions, cartography, gpos, problem_search
from api.services.context import Context
from api.services.demo import load_synthetic_problems
from geo.study import ProblemSearch
from tests.roles import as_role

#: The writes made in SQL: each takes a problem's id (and a sector's and its GPO's).
SQL = {
    "close": "UPDATE problem SET status = 'resolu' WHERE id = :id",
    "reopen": "UPDATE problem SET status = 'analyse' WHERE id = :id",
    "priority": "UPDATE problem SET priority = 'haute' WHERE id = :id",
    "older": "UPDATE problem SET reported_on = reported_on - 400 WHERE id = :id",
    "newer": "UPDATE problem SET reported_on = :today WHERE id = :id",
    "title": "UPDATE problem SET title = 'Titre changé ' || id WHERE id = :id",
    "delete": "DELETE FROM problem WHERE id = :id",
    "move": "UPDATE problem_place SET sector = :sector, gpo_id = :gpo WHERE problem_id = :id",
    "several": "UPDATE problem SET priority = 'basse' WHERE id BETWEEN :id AND :id + 40",
    "every": "UPDATE problem SET title = title || '.' WHERE csp_id = :csp OR id = :id",
}


def _served(
    client: TestClient, csp_id: int, gpo: int, headers: dict[str, str] | None = None
) -> list[bytes]:
    answers = [
        client.get(f"/api/csp/{csp_id}/problems", params={"gpo": gpo}, headers=headers),
        client.get(
            f"/api/csp/{csp_id}/problems", params={"gpo": gpo, "limit": 15}, headers=headers
        ),
        client.get(
            f"/api/csp/{csp_id}/open-problems", params={"gpo": gpo, "limit": 8}, headers=headers
        ),
        client.get("/api/actions", params={"gpo": gpo}, headers=headers),
    ]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.content for a in answers]


def _from_scratch(ctx: Context, csp_id: int, gpo: int) -> list[bytes]:
    fresh = Context(ctx.factory)  # nothing kept
    search = ProblemSearch(gpo_id=gpo)
    return [
        problem_search.search_problems_json(Context(ctx.factory), csp_id, search, limit=5000),
        problem_search.search_problems_json(Context(ctx.factory), csp_id, search, limit=15),
        cartography.open_problems_json(fresh, csp_id, gpo_id=gpo, limit=8),
        actions.list_actions_json(fresh, gpo_id=gpo),
    ]


@pytest.mark.usefixtures("demo_adopted")
def test_kept_lists_equal_lists_built_from_scratch_after_random_writes(
    client: TestClient, engine: Engine
) -> None:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])
    listed = client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
    sector_gpos = {g["sector"]: g["id"] for g in listed if g["kind"] == "sector"}
    thematic = next(g for g in listed if g["kind"] == "thematic")
    watched = [sector_gpos[0], thematic["id"]]
    # the GPO's chef sees every problem of its GPO: the same lists, kept under its own keys
    chef = as_role(client, "chef", gpo_ids=[sector_gpos[0]])
    rng = random.Random(2722)
    for gpo in watched:
        assert _served(client, csp_id, gpo) == _from_scratch(ctx, csp_id, gpo)
    kinds = ["new", "new", "new", "action", "gpo", "import", *SQL]
    rng.shuffle(kinds)
    done: set[str] = set()
    for step in range(len(kinds)):
        kind = kinds[step]
        gpo = rng.choice(watched)
        features = client.get(f"/api/csp/{csp_id}/problems", params={"gpo": gpo}).json()["features"]
        problem = rng.choice(features)
        if kind == "new":
            lon, lat = rng.choice([f for f in features if f["geometry"]["type"] == "Point"])[
                "geometry"
            ]["coordinates"]
            answer = client.post(
                f"/api/csp/{csp_id}/problems",
                json={"category": "transports", "title": f"Nouveau {step}", "lon": lon, "lat": lat},
            )
            assert answer.status_code == 201, answer.text
        elif kind == "import":  # more than BULK rows in one statement: every problem touched
            today = clock.today()
            start = today - timedelta(days=60)
            wholes = "SELECT count(*) FROM problem_touch WHERE csp_id = :csp AND problem_id = 0"
            with engine.connect() as conn:
                before = conn.execute(text(wholes), {"csp": csp_id}).scalar_one()
            load_synthetic_problems(
                ctx, csp_id=csp_id, start=start, end=today, seed=step, count=1200
            )
            with engine.connect() as conn:
                assert conn.execute(text(wholes), {"csp": csp_id}).scalar_one() > before
        elif kind == "action":
            answer = client.post(
                f"/api/problems/{problem['id']}/actions", json={"type": "patrouilles"}
            )
            assert answer.status_code in (201, 409), answer.text  # 409: a closed problem
        elif kind == "gpo":
            sectors = sorted(rng.sample(sorted(sector_gpos), rng.randint(1, 3)))
            found = client.get(f"/api/gpos/{thematic['id']}").json()
            answer = client.patch(
                f"/api/gpos/{thematic['id']}",
                json={"sectors": sectors, "version": found["version"]},
            )
            assert answer.status_code == 200, answer.text
        else:
            sector = rng.choice(sorted(sector_gpos))
            with engine.begin() as conn:
                written_rows = conn.execute(
                    text(SQL[kind]),
                    {
                        "id": problem["id"],
                        "csp": csp_id,
                        "sector": sector,
                        "gpo": sector_gpos[sector],
                        "today": clock.today() - timedelta(days=rng.randint(0, 3)),
                    },
                )
            assert kind != "every" or written_rows.rowcount > 100
        done.add(kind)
        fresh = Context(ctx.factory)
        gpo_list = gpos.list_gpos(fresh, csp_id).model_dump_json().encode()
        assert client.get(f"/api/csp/{csp_id}/gpos").content == gpo_list, (step, kind)
        for watched_gpo in watched:
            served = _served(client, csp_id, watched_gpo)
            assert served == _from_scratch(ctx, csp_id, watched_gpo), (step, kind)
            if watched_gpo == sector_gpos[0]:
                assert _served(client, csp_id, watched_gpo, chef) == served, (step, kind)
    assert done == set(kinds)


def test_touches_since_a_snapshot_say_which_problems_or_none(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    """The problems written since a snapshot; none to go by when the snapshot is older
    than the touches kept (then a list is read again whole)."""
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    with ctx.read() as session:
        touches.one_snapshot(session)
        held = touches.snapshot(session)
    problem = client.get(f"/api/csp/{csp_id}/problems", params={"limit": 2}).json()
    first, second = (f["id"] for f in problem["features"])
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE problem SET title = 'Vu' WHERE id IN (:a, :b)"), {"a": first, "b": second}
        )
    with ctx.read() as session:
        touches.one_snapshot(session)
        assert touches.touched_since(session, csp_ids=[csp_id], snapshot=held) == {first, second}
        assert touches.touched_since(session, csp_ids=[csp_id + 1], snapshot=held) == set()
        assert touches.touched_since(session, csp_ids=[csp_id], snapshot=held, retained=0) is None
