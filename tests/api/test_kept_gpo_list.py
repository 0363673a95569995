"""The GPOs' list kept as bytes (issue 22): served as the same ``bytes`` object until
the CSP's revision of what it shows moves (:data:`api.repositories.base.GPO_LIST`); each
kind of write that changes it (a GPO, its partners, a meeting, a new problem, a problem
closed, an action's status) is in the next read of another process's cache (a second
:class:`Context` over the same database), equal to the list built from scratch; an
action step (a comment) keeps it; a caller is never served the answer kept for another
perimeter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api import clock
from api.services import actions, gpos
from api.services.context import Context
from tests.roles import as_role


def _scratch(ctx: Context, csp_id: int) -> bytes:
    """The list built by a context that kept nothing."""
    return gpos.list_gpos(Context(ctx.factory), csp_id).model_dump_json().encode()


def _by_id(body: bytes) -> dict[int, dict[str, Any]]:
    return {g["id"]: g for g in json.loads(body)["data"]}


@pytest.mark.usefixtures("demo_adopted")
def test_the_gpo_list_follows_each_write_it_shows_and_keeps_across_an_action_step(
    client: TestClient, engine: Engine
) -> None:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    other = Context(ctx.factory)  # another process's caches
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])

    def served() -> bytes:
        """The list as the app serves it, as the other process serves it, both equal to
        the list built from scratch."""
        answer = client.get(f"/api/csp/{csp_id}/gpos")
        assert answer.status_code == 200, answer.text
        assert answer.content == gpos.list_gpos_json(other, csp_id) == _scratch(ctx, csp_id)
        return answer.content

    first = served()
    listed = _by_id(first)
    gpo_id = next(i for i, g in listed.items() if g["kind"] == "sector" and g["open_problems"])
    kept = gpos.list_gpos_json(other, csp_id)
    assert gpos.list_gpos_json(other, csp_id) is kept  # nothing written: the same object

    # An action step (a comment): the list is not written again.
    with engine.connect() as conn:
        action = conn.execute(
            text(
                "SELECT a.id FROM action a JOIN problem_place pp ON pp.problem_id = a.problem_id "
                "WHERE pp.gpo_id = :gpo AND a.status IN ('prevue', 'en_cours') "
                "AND a.due_on < :today ORDER BY a.id LIMIT 1"
            ),
            {"gpo": gpo_id, "today": clock.today()},
        ).scalar_one()
    answer = client.patch(f"/api/actions/{action}", json={"comment": "Passage fait"})
    assert answer.status_code == 200, answer.text
    assert gpos.list_gpos_json(other, csp_id) is kept
    assert served() == first

    # Each write below, through the app, is in the other process's next read.
    def after(write: Any) -> dict[str, Any]:
        before = served()
        write()
        now = served()
        assert now != before
        return _by_id(now)[gpo_id]

    def patch_gpo(**changes: Any) -> None:
        version = client.get(f"/api/gpos/{gpo_id}").json()["version"]
        answer = client.patch(f"/api/gpos/{gpo_id}", json={**changes, "version": version})
        assert answer.status_code == 200, answer.text

    assert after(lambda: patch_gpo(chief_name="Cne Nouveau"))["chief_name"] == "Cne Nouveau"
    partners = listed[gpo_id]["partner_ids"][:-1]
    assert after(lambda: patch_gpo(partner_ids=partners))["partner_ids"] == sorted(partners)

    def plan() -> None:
        held_on = clock.today().isoformat()
        answer = client.post(
            f"/api/gpos/{gpo_id}/meetings", json={"held_on": held_on, "send_invitations": False}
        )
        assert answer.status_code == 201, answer.text

    assert after(plan)["next_meeting_on"] == clock.today().isoformat()

    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p.anchor), ST_Y(p.anchor) FROM problem p JOIN problem_place pp "
                "ON pp.problem_id = p.id WHERE pp.gpo_id = :gpo AND pp.sector IS NOT NULL "
                "AND ST_GeometryType(p.geom) = 'ST_Point' ORDER BY p.id LIMIT 1"
            ),
            {"gpo": gpo_id},
        ).one()
    opened = _by_id(served())[gpo_id]["open_problems"]

    def new_problem() -> None:
        answer = client.post(
            f"/api/csp/{csp_id}/problems",
            json={"category": "nuisances", "title": "Tapage", "lon": lon, "lat": lat},
        )
        assert answer.status_code == 201, answer.text

    frame_key = ("gpo frame", csp_id, other.scope, clock.today())
    frame = other.lists.held(frame_key)
    assert after(new_problem)["open_problems"] == opened + 1
    held = other.lists.held(frame_key)  # the GPOs, their partners and meetings: kept
    assert frame is not None and held is not None and held[1] is frame[1]
    overdue = _by_id(served())[gpo_id]["actions_overdue"]

    def abandon() -> None:
        answer = client.patch(f"/api/actions/{action}", json={"status": "abandonnee"})
        assert answer.status_code == 200, answer.text

    assert after(abandon)["actions_overdue"] == overdue - 1

    def close_one() -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE problem SET status = 'resolu' WHERE id = (SELECT p.id FROM problem p "
                    "JOIN problem_place pp ON pp.problem_id = p.id WHERE pp.gpo_id = :gpo "
                    "AND p.status IN ('signale', 'analyse') ORDER BY p.id LIMIT 1)"
                ),
                {"gpo": gpo_id},
            )

    assert after(close_one)["open_problems"] == opened


@pytest.mark.usefixtures("demo_adopted")
def test_a_kept_gpo_list_is_never_served_to_another_perimeter(client: TestClient) -> None:
    """The list is kept per perimeter: the direction's (every GPO, the chefs' contacts),
    a chef's (its GPO alone), another chef's, a planner's (every GPO, no contact), each
    read after the others were kept, is its own."""
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])
    everything = client.get(f"/api/csp/{csp_id}/gpos").content
    ids = sorted(_by_id(everything))
    one, two = ids[0], ids[1]
    chef_one = as_role(client, "chef", gpo_ids=[one])
    chef_two = as_role(client, "chef", gpo_ids=[two])
    planner = as_role(client, "planificateur", csp_ids=[csp_id])
    for _ in range(2):  # the second time, each is served from what was kept
        answers = {
            name: client.get(f"/api/csp/{csp_id}/gpos", headers=headers)
            for name, headers in (("one", chef_one), ("two", chef_two), ("planner", planner))
        }
        assert all(a.status_code == 200 for a in answers.values())
        assert sorted(_by_id(answers["one"].content)) == [one]
        assert sorted(_by_id(answers["two"].content)) == [two]
        assert _by_id(answers["one"].content)[one]["chief_contact"] is not None
        by_planner = _by_id(answers["planner"].content)
        assert sorted(by_planner) == ids
        assert all(g["chief_contact"] is None for g in by_planner.values())
        assert client.get(f"/api/csp/{csp_id}/gpos").content == everything


@pytest.mark.usefixtures("demo_adopted")
def test_the_actions_page_is_the_same_body_after_a_new_problem_and_a_new_one_after_a_step(
    client: TestClient,
) -> None:
    """A GPO's actions after a new problem (no action of it listed): the same body object
    (neither hashed nor compressed again); after an action step through another process,
    a new body, equal to the one built from scratch."""
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    other = Context(ctx.factory)
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])
    gpo_id = next(
        g["id"]
        for g in client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
        if g["kind"] == "sector" and g["actions_overdue"]
    )
    first = actions.list_actions_json(other, gpo_id=gpo_id)
    answer = client.post(
        f"/api/csp/{csp_id}/problems",
        json={"category": "nuisances", "title": "Tapage", "lon": 6.86, "lat": 47.64},
    )
    assert answer.status_code == 201, answer.text
    assert actions.list_actions_json(other, gpo_id=gpo_id) is first

    listed = json.loads(first)["data"][0]["id"]
    answer = client.patch(f"/api/actions/{listed}", json={"comment": "Vu sur place"})
    assert answer.status_code == 200, answer.text
    again = actions.list_actions_json(other, gpo_id=gpo_id)
    assert again is not first and "Vu sur place" in again.decode()
    assert again == actions.list_actions_json(Context(ctx.factory), gpo_id=gpo_id)
    assert client.get("/api/actions", params={"gpo": gpo_id}).content == again
