"""What the load work of issue 22 keeps, and when it lets go: the ``counts`` topic of the
problems' revision (migration 0021) moves with what the GPOs' counts and the action
lists' order read, not with a comment; the cached GPO counts and action lists follow a
comment and a status change at once; the readiness check answers 503 within its timeout
when the database does not answer; a token's last use is written once a minute; a large
answer's gzipped form is kept by digest."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.compression import GzipCache
from api.repositories.base import COUNTS, LISTS, MEETINGS, problem_revision
from api.services import meetings, problem_search
from api.services.context import Context
from geo.study import ProblemSearch


def _revisions(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        return (
            problem_revision(session=session, csp_id=1, topics=COUNTS),
            problem_revision(session=session, csp_id=1, topics=LISTS),
        )


def test_the_counts_topic_moves_with_status_not_with_a_comment(
    factory: sessionmaker[Session],
) -> None:
    with factory.begin() as session:
        session.execute(
            text(
                "INSERT INTO csp (id, code, name, geom) VALUES "
                "(1, 'C1', 'CSP 1', ST_Multi(ST_MakeEnvelope(6, 47, 6.1, 47.1, 4326)))"
            )
        )
        session.execute(
            text(
                "INSERT INTO problem (id, csp_id, category, title, reported_on, status_on, "
                "geom, anchor) VALUES (10, 1, 'nuisances', 'Tapage', DATE '2026-01-05', "
                "DATE '2026-01-05', ST_Point(6.05, 47.05, 4326), ST_Point(6.05, 47.05, 4326))"
            )
        )
    start = _revisions(factory)
    with factory.begin() as session:
        session.execute(
            text(
                "INSERT INTO action (id, problem_id, type, start_on, due_on, status) "
                "VALUES (1, 10, 'prevention', DATE '2026-01-10', DATE '2026-02-01', 'prevue')"
            )
        )
    added = _revisions(factory)
    assert added[0] > start[0] and added[1] > start[1]

    # A comment (the note, the version): the lists move, the counts do not.
    with factory.begin() as session:
        session.execute(text("UPDATE action SET note = 'Vu', version = version + 1 WHERE id = 1"))
    noted = _revisions(factory)
    assert noted[0] == added[0] and noted[1] > added[1]

    # A status, a due date: both move.
    for change in ("status = 'en_cours'", "due_on = DATE '2026-03-01'"):
        before = _revisions(factory)
        with factory.begin() as session:
            session.execute(text(f"UPDATE action SET {change} WHERE id = 1"))
        after = _revisions(factory)
        assert after[0] > before[0] and after[1] > before[1], change

    before = _revisions(factory)
    with factory.begin() as session:
        session.execute(text("DELETE FROM action WHERE id = 1"))
    assert _revisions(factory)[0] > before[0]


def _gpo(client: TestClient, csp_id: int, gpo_id: int) -> dict[str, object]:
    listed = client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
    return next(g for g in listed if g["id"] == gpo_id)


@pytest.mark.usefixtures("demo_adopted")
def test_cached_counts_and_lists_follow_a_comment_and_a_status(client: TestClient) -> None:
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])
    listed = client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
    gpo = next(g for g in listed if g["actions_overdue"] > 0)
    actions = client.get("/api/actions", params={"gpo": gpo["id"]}).json()
    # Open ones first, by due date: the first is overdue.
    first = actions["data"][0]
    assert first["overdue"] and first["status"] in ("prevue", "en_cours")

    answer = client.patch(f"/api/actions/{first['id']}", json={"comment": "Passage fait"})
    assert answer.status_code == 200, answer.text
    again = client.get("/api/actions", params={"gpo": gpo["id"]}).json()
    assert [a["id"] for a in again["data"]] == [a["id"] for a in actions["data"]]
    assert again["data"][0]["events"][-1]["comment"] == "Passage fait"
    assert again["data"][0]["version"] == first["version"] + 1
    assert _gpo(client, csp_id, gpo["id"]) == gpo

    # Abandoned: one overdue action less for its GPO, and listed after the open ones.
    answer = client.patch(f"/api/actions/{first['id']}", json={"status": "abandonnee"})
    assert answer.status_code == 200, answer.text
    changed = _gpo(client, csp_id, gpo["id"])
    assert changed["actions_overdue"] == gpo["actions_overdue"] - 1
    after = client.get("/api/actions", params={"gpo": gpo["id"]}).json()
    assert after["count"] == actions["count"]
    still_open = [a["id"] for a in after["data"] if a["status"] in ("prevue", "en_cours")]
    assert first["id"] not in still_open
    assert [a["id"] for a in after["data"]][: len(still_open)] == still_open


@pytest.fixture
def locked_schema(engine: Engine) -> Iterator[None]:
    """``alembic_version`` locked by another transaction for the test's length: the
    readiness check's query waits on it."""
    conn = engine.connect()
    conn.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def test_readiness_answers_503_in_time_when_the_database_does_not(
    client: TestClient, locked_schema: None
) -> None:
    del locked_schema
    answer = client.get("/api/health/ready")
    assert answer.status_code == 503
    assert answer.json()["detail"] == ("base de données : pas de réponse en 2 s (serveur saturé ?)")
    assert client.get("/api/health/live").json() == {"status": "ok"}


def test_a_token_is_marked_used_once_a_minute(client: TestClient, engine: Engine) -> None:
    def last_used() -> object:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT max(last_used_at) FROM api_token WHERE last_used_at IS NOT NULL")
            ).scalar_one()

    assert client.get("/api/me").status_code == 200
    first = last_used()
    assert first is not None
    assert client.get("/api/me").status_code == 200
    assert last_used() == first  # within the minute: not written again
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_token SET last_used_at = now() - interval '2 minutes'"))
    assert client.get("/api/me").status_code == 200
    assert last_used() > first  # type: ignore[operator]


def test_the_gzip_cache_keeps_bodies_by_digest_within_its_budget() -> None:
    cache = GzipCache(budget=100)
    one, two = b"a" * 500, b"b" * 500
    cache.put(cache.key(one), b"1" * 60)
    assert cache.get(cache.key(one)) is not None and cache.get(cache.key(two)) is None
    cache.put(cache.key(two), b"2" * 60)  # over the budget: the oldest goes
    assert cache.get(cache.key(one)) is None and cache.get(cache.key(two)) is not None
    assert len(cache) == 1 and cache.size == 60


def test_the_meetings_list_moves_with_its_rows_not_with_an_action_step(
    factory: sessionmaker[Session],
) -> None:
    """Migration 0024: the meetings list's revision (:data:`MEETINGS`) moves with a
    meeting, its partners and decisions, a partner's name; not with an action step."""

    def revision() -> int:
        with factory() as session:
            return problem_revision(session=session, csp_id=2, topics=MEETINGS)

    with factory.begin() as session:
        session.execute(
            text(
                "INSERT INTO csp (id, code, name, geom) VALUES "
                "(2, 'C2', 'CSP 2', ST_Multi(ST_MakeEnvelope(6, 47, 6.1, 47.1, 4326)))"
            )
        )
    steps = [
        "INSERT INTO gpo (id, csp_id, kind, name, sector) VALUES (5, 2, 'sector', 'GPO 5', 0)",
        "INSERT INTO partner (id, csp_id, organisation, type) VALUES (7, 2, 'Mairie', 'mairie')",
        "INSERT INTO meeting (id, gpo_id, held_on) VALUES (3, 5, DATE '2026-06-20')",
        "INSERT INTO meeting_partner (meeting_id, partner_id) VALUES (3, 7)",
        "UPDATE partner SET organisation = 'Mairie de Belfort' WHERE id = 7",
        "UPDATE meeting SET place = 'Salle 2' WHERE id = 3",
        "INSERT INTO problem (id, csp_id, category, title, reported_on, status_on, geom, "
        "anchor) VALUES (11, 2, 'nuisances', 'Tapage', DATE '2026-01-05', DATE '2026-01-05', "
        "ST_Point(6.05, 47.05, 4326), ST_Point(6.05, 47.05, 4326))",
        "INSERT INTO meeting_decision (meeting_id, problem_id, kind, text) "
        "VALUES (3, 11, 'note', 'Suivi')",
        "INSERT INTO action (id, problem_id, type, start_on, due_on, status) "
        "VALUES (2, 11, 'prevention', DATE '2026-01-10', DATE '2026-02-01', 'prevue')",
    ]
    for statement in steps:
        before = revision()
        with factory.begin() as session:
            session.execute(text(statement))
        after = revision()
        if statement.startswith("INSERT INTO action"):
            assert after == before, statement  # an action: not in the meetings list
        else:
            assert after > before, statement
    before = revision()
    with factory.begin() as session:
        session.execute(text("UPDATE action SET note = 'Vu', status = 'en_cours' WHERE id = 2"))
    assert revision() == before


@pytest.mark.usefixtures("demo_adopted")
def test_a_kept_meetings_list_follows_its_problems_titles_not_a_new_problem(
    client: TestClient, engine: Engine
) -> None:
    """A GPO's meetings list is written again when only the ``problems`` topic moved
    only if a problem its decisions name was written (its title) or the GPO's cadence
    changed: a new problem, another problem's title leave it as it was. Served by two
    contexts (two processes' caches): a write through one is seen by the other's next
    read."""
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    other = Context(ctx.factory)
    with engine.connect() as conn:
        gpo_id, named, csp_id = conn.execute(
            text(
                "SELECT m.gpo_id, d.problem_id, g.csp_id FROM meeting_decision d "
                "JOIN meeting m ON m.id = d.meeting_id JOIN gpo g ON g.id = m.gpo_id "
                "WHERE d.problem_id IS NOT NULL ORDER BY d.id LIMIT 1"
            )
        ).one()
        unnamed = conn.execute(
            text(
                "SELECT p.id FROM problem p WHERE p.csp_id = :csp AND NOT EXISTS "
                "(SELECT 1 FROM meeting_decision d WHERE d.problem_id = p.id) LIMIT 1"
            ),
            {"csp": csp_id},
        ).scalar_one()

    def served() -> bytes:
        answer = client.get(f"/api/gpos/{gpo_id}/meetings")
        assert answer.status_code == 200, answer.text
        assert answer.content == meetings.list_meetings_json(other, gpo_id)
        assert answer.content == meetings.list_meetings_json(Context(ctx.factory), gpo_id)
        return answer.content

    def kept(context: Context) -> bytes:
        held = context.lists.held(("meetings", gpo_id))
        assert held is not None
        return held[1].body  # type: ignore[no-any-return]

    first = served()
    bodies = kept(ctx), kept(other)
    answer = client.post(
        f"/api/csp/{csp_id}/problems",
        json={"category": "nuisances", "title": "Tapage nouveau", "lon": 6.86, "lat": 47.64},
    )
    assert answer.status_code == 201, answer.text
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE problem SET title = 'Autre titre' WHERE id = :id"), {"id": unnamed}
        )
    assert served() == first
    assert (kept(ctx), kept(other)) == bodies and kept(ctx) is bodies[0]  # not written again

    with engine.begin() as conn:
        conn.execute(text("UPDATE problem SET title = 'Titre cité' WHERE id = :id"), {"id": named})
    renamed = served()
    assert b"Titre cit\xc3\xa9" in renamed and renamed != first

    found = client.get(f"/api/gpos/{gpo_id}").json()
    cadence = 15 if found["cadence_days"] != 15 else 30
    answer = client.patch(
        f"/api/gpos/{gpo_id}", json={"cadence_days": cadence, "version": found["version"]}
    )
    assert answer.status_code == 200, answer.text
    assert served() != renamed


@pytest.mark.usefixtures("demo_adopted")
def test_a_write_leaving_a_problems_page_as_it_was_serves_the_same_body(
    client: TestClient, engine: Engine
) -> None:
    """A GPO's page of problems after a write to another GPO's problem is the same body
    object (neither hashed again for its ``ETag`` nor compressed again); after a write to
    one of its problems, a new body, the one built from scratch."""
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    with engine.connect() as conn:
        csp_id, gpo, other = conn.execute(
            text(
                "SELECT g.csp_id, g.id, pp.problem_id FROM gpo g JOIN problem_place pp "
                "ON pp.gpo_id <> g.id JOIN problem p ON p.id = pp.problem_id "
                "WHERE g.kind = 'sector' AND p.csp_id = g.csp_id "
                "AND pp.sector IS DISTINCT FROM g.sector ORDER BY g.id, pp.problem_id LIMIT 1"
            )
        ).one()
    search = ProblemSearch(gpo_id=gpo)
    first = problem_search.search_problems_json(ctx, csp_id, search, limit=5000)
    with engine.begin() as conn:
        conn.execute(text("UPDATE problem SET title = 'Ailleurs' WHERE id = :id"), {"id": other})
    assert problem_search.search_problems_json(ctx, csp_id, search, limit=5000) is first

    listed = json.loads(first)["features"][0]["id"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE problem SET title = 'Ici' WHERE id = :id"), {"id": listed})
    again = problem_search.search_problems_json(ctx, csp_id, search, limit=5000)
    assert again is not first and b'"Ici"' in again
    fresh = Context(ctx.factory)
    assert again == problem_search.search_problems_json(fresh, csp_id, search, limit=5000)
