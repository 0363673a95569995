"""The action lists assembled from each action's detail kept by its digest (issue 22,
:func:`api.repositories.actions.list_actions_pieces`): after random steps (comments,
statuses, due dates, notes) and changes of what a detail shows beside the action (its
problem's title and status), the list is the same bytes as one built whole."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api import clock
from api.repositories import actions as repo
from api.services.context import Context

NEXT = {"prevue": ["en_cours", "abandonnee"], "en_cours": ["realisee", "abandonnee"]}


def _whole(ctx: Context, gpo_id: int) -> bytes:
    with ctx.read() as session:
        ranked = repo.action_ranking(
            session=session, today=clock.today(), gpo_id=gpo_id, limit=500, offset=0
        )
        listed = repo.list_actions(session=session, today=clock.today(), ranked=ranked)
        return listed.model_dump_json().encode()


@pytest.mark.usefixtures("demo_adopted")
def test_assembled_lists_equal_whole_ones_after_random_steps(
    client: TestClient, engine: Engine
) -> None:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])
    gpos = client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
    gpo = max(gpos, key=lambda g: g["actions_due"] + g["actions_overdue"])["id"]
    first = client.get("/api/actions", params={"gpo": gpo})
    assert first.status_code == 200 and first.json()["count"] > 5
    assert first.content == _whole(ctx, gpo)
    rng = random.Random(722)
    written = 0
    for step in range(12):
        listed = client.get("/api/actions", params={"gpo": gpo}).json()["data"]
        action = rng.choice(listed)
        kind = rng.choice(["comment", "status", "due", "note", "problem"])
        if kind == "problem":
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE problem SET title = :t, status = :s WHERE id = :id"),
                    {
                        "t": f"Titre {step}",
                        "s": rng.choice(["signale", "analyse"]),
                        "id": action["problem_id"],
                    },
                )
        else:
            change: dict[str, object] = {
                "comment": {"comment": f"Passage {step}"},
                "status": {"status": rng.choice(NEXT.get(action["status"], ["realisee"]))},
                "due": {"due_on": f"2026-0{rng.randint(5, 9)}-1{rng.randint(0, 9)}"},
                "note": {"note": f"Note {step}", "comment": "Note revue"},
            }[kind]
            answer = client.patch(f"/api/actions/{action['id']}", json=change)
            # 409 or 422: no such transition from a final status (nothing written)
            assert answer.status_code in (200, 409, 422), answer.text
            written += answer.status_code == 200
        got = client.get("/api/actions", params={"gpo": gpo})
        assert got.status_code == 200
        assert got.content == _whole(ctx, gpo), kind
    assert written >= 6
