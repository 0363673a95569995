"""The action lists and the open problems kept after action steps (issue 22, migration
0027's ``action_touch``, :func:`api.services.actions.list_actions_json`,
:func:`api.services.kept_lists.open_list`): after random steps (comments, statuses, due
dates, notes), new actions, closed ones, changes of what an entry shows beside the action
(its problem's title and status, a partner's organisation, a GPO's name) and a deleted
problem, each list is the same bytes as one built whole, and a step brings the held
lists up to date instead of reading them again."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api import clock
from api.repositories import actions as repo
from api.repositories import problem_maps, touches
from api.repositories import problems as problems_repo
from api.services import actions, cartography
from api.services.context import Context
from api.services.kept_lists import KeptList

NEXT = {"prevue": ["en_cours", "abandonnee"], "en_cours": ["realisee", "abandonnee"]}
OPEN_LIMIT = 100


def _whole(ctx: Context, gpo_id: int, limit: int = 500, offset: int = 0) -> bytes:
    """The action list built with pydantic from a ranking read whole."""
    with ctx.read() as session:
        ranked = repo.action_ranking(
            session=session, today=clock.today(), gpo_id=gpo_id, limit=limit, offset=offset
        )
        listed = repo.list_actions(session=session, today=clock.today(), ranked=ranked)
        return listed.model_dump_json().encode()


def _whole_open(ctx: Context, csp_id: int, gpo_id: int) -> bytes:
    """The open problems built with pydantic from a ranking read whole."""
    with ctx.read() as session:
        area = problem_maps.study_area(session=session, csp_id=csp_id, gpo_id=gpo_id)
        listed = problems_repo.open_problems(session=session, area=area, limit=OPEN_LIMIT)
        return listed.model_dump_json().encode()


def _served(client: TestClient, csp_id: int, gpo: int) -> list[bytes]:
    answers = [
        client.get("/api/actions", params={"gpo": gpo}),
        client.get("/api/actions", params={"gpo": gpo, "limit": 7, "offset": 4}),
        client.get(f"/api/csp/{csp_id}/open-problems", params={"limit": OPEN_LIMIT, "gpo": gpo}),
    ]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.content for a in answers]


def _from_scratch(ctx: Context, csp_id: int, gpo: int) -> list[bytes]:
    return [
        actions.list_actions_json(Context(ctx.factory), gpo_id=gpo),
        actions.list_actions_json(Context(ctx.factory), gpo_id=gpo, limit=7, offset=4),
        cartography.open_problems_json(Context(ctx.factory), csp_id, gpo_id=gpo, limit=OPEN_LIMIT),
    ]


def _held(ctx: Context, kind: str) -> dict[Any, KeptList]:
    """The lists of this kind the context holds, by key."""
    found = {}
    for key in ctx.lists.held_keys():
        if isinstance(key, tuple) and key[0] == kind:
            held = ctx.lists.held(key)
            assert held is not None
            found[key] = held[1]
    return found


def _pieces(kept: dict[Any, KeptList]) -> dict[tuple[Any, int], bytes]:
    """Each entry's piece, by list and id."""
    return {(key, i): piece for key, k in kept.items() for _, i, piece in k.first if piece}


def _rewritten(before: dict[Any, bytes], after: dict[Any, bytes]) -> set[int]:
    """The ids whose piece was written again (not the same object)."""
    return {i for (key, i), piece in after.items() if before.get((key, i)) is not piece}


@pytest.mark.usefixtures("demo_adopted")
def test_kept_lists_equal_whole_ones_after_random_steps(client: TestClient, engine: Engine) -> None:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])
    gpos = client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
    gpo = max(gpos, key=lambda g: g["actions_due"] + g["actions_overdue"])["id"]
    first = _served(client, csp_id, gpo)
    assert first == _from_scratch(ctx, csp_id, gpo)
    assert first[0] == _whole(ctx, gpo) and first[1] == _whole(ctx, gpo, 7, 4)
    assert first[2] == _whole_open(ctx, csp_id, gpo)
    assert client.get("/api/actions", params={"gpo": gpo}).json()["count"] > 5
    rng = random.Random(722)
    kinds = ["comment", "status", "due", "note", "problem", "new", "close"] * 2
    kinds += ["partner", "gpo", "delete"]
    rng.shuffle(kinds)
    written = 0
    for step, kind in enumerate(kinds):
        listed = client.get("/api/actions", params={"gpo": gpo}).json()["data"]
        opened = [a for a in listed if a["status"] in NEXT]
        action = rng.choice(opened if kind == "close" else listed)
        before = _pieces(_held(ctx, "action list")), _pieces(_held(ctx, "open list"))
        if kind in ("problem", "partner", "gpo", "delete"):
            statement = {
                "problem": "UPDATE problem SET title = :t, status = :s WHERE id = :problem",
                "partner": "UPDATE partner SET organisation = organisation || ' ' || :t "
                "WHERE id = (SELECT lead_partner_id FROM action WHERE id = :action)",
                "gpo": "UPDATE gpo SET name = name || ' ' || :t WHERE id = :gpo",
                "delete": "DELETE FROM problem WHERE id = :problem",
            }[kind]
            with engine.begin() as conn:
                conn.execute(
                    text(statement),
                    {
                        "t": f"Titre {step}",
                        "s": rng.choice(["signale", "analyse"]),
                        "problem": action["problem_id"],
                        "action": action["id"],
                        "gpo": gpo,
                    },
                )
        elif kind == "new":
            open_problems = client.get(
                f"/api/csp/{csp_id}/open-problems", params={"limit": OPEN_LIMIT, "gpo": gpo}
            ).json()["data"]
            problem = rng.choice(open_problems)
            answer = client.post(
                f"/api/problems/{problem['id']}/actions",
                json={"type": "patrouilles", "due_on": "2026-06-20"},
            )
            assert answer.status_code in (201, 409), answer.text  # 409: a closed problem
            written += answer.status_code == 201
        else:
            change: dict[str, object] = {
                "comment": {"comment": f"Passage {step}"},
                "status": {"status": rng.choice(NEXT.get(action["status"], ["realisee"]))},
                "close": {"status": rng.choice(["realisee", "abandonnee"]), "comment": "Fini"},
                "due": {"due_on": f"2026-0{rng.randint(5, 9)}-1{rng.randint(0, 9)}"},
                "note": {"note": f"Note {step}", "comment": "Note revue"},
            }[kind]
            answer = client.patch(f"/api/actions/{action['id']}", json=change)
            # 409 or 422: no such transition from a final status (nothing written)
            assert answer.status_code in (200, 409, 422), answer.text
            written += answer.status_code == 200
        served = _served(client, csp_id, gpo)
        assert served == _from_scratch(ctx, csp_id, gpo), (step, kind)
        if kind == "comment":  # one step: only its action's entries written again
            after = _pieces(_held(ctx, "action list")), _pieces(_held(ctx, "open list"))
            assert _rewritten(before[0], after[0]) == {action["id"]}, step
            # the open problems show its version: its problem's entry, when listed
            assert _rewritten(before[1], after[1]) <= {action["problem_id"]}, step
        if kind == "close":  # a finished action comes after every open one
            data = client.get("/api/actions", params={"gpo": gpo}).json()["data"]
            finished = [a["status"] in ("realisee", "abandonnee") for a in data]
            assert finished == sorted(finished)
            assert any(a["id"] == action["id"] for a in data)
    assert written >= 8
    assert served[0] == _whole(ctx, gpo) and served[2] == _whole_open(ctx, csp_id, gpo)


@pytest.mark.usefixtures("demo_adopted")
def test_action_touches_say_which_actions_and_problems(client: TestClient, engine: Engine) -> None:
    """A comment touches its action and its problem (the action's version, which the
    open problems show, moves); a partner renamed every action of the CSP (none to go
    by)."""
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])
    with engine.connect() as conn:
        action_id, problem_id, partner_id = conn.execute(
            text(
                "SELECT a.id, a.problem_id, a.lead_partner_id FROM action a "
                "JOIN problem p ON p.id = a.problem_id WHERE p.csp_id = :csp "
                "AND a.status = 'prevue' AND a.lead_partner_id IS NOT NULL ORDER BY a.id LIMIT 1"
            ),
            {"csp": csp_id},
        ).one()

    def since(snapshot: str) -> touches.FollowUp | None:
        with ctx.read() as session:
            touches.one_snapshot(session)
            return touches.follow_up_since(session, csp_ids=[csp_id], snapshot=snapshot)

    def now() -> str:
        with ctx.read() as session:
            return touches.snapshot(session)

    held = now()
    assert client.patch(f"/api/actions/{action_id}", json={"comment": "Vu"}).status_code == 200
    assert since(held) == touches.FollowUp(
        frozenset(), frozenset({action_id}), frozenset({problem_id})
    )
    held = now()
    with engine.begin() as conn:  # a step written alone (no version): its action only
        conn.execute(
            text(
                'INSERT INTO action_event (action_id, "on", comment, signed_by) '
                "VALUES (:id, '2026-06-15', 'Vu', 'Test')"
            ),
            {"id": action_id},
        )
    assert since(held) == touches.FollowUp(frozenset(), frozenset({action_id}), frozenset())
    held = now()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE partner SET organisation = 'Bailleur' WHERE id = :id"), {"id": partner_id}
        )
    assert since(held) is None
