"""The revision the map cache keys on moves only for the CSP and the topic a committed write
changes (migration 0019): a write in one CSP leaves another's cached maps valid, an action
step leaves the heat maps valid, and nothing moves before the commit."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from api.repositories.base import LISTS, MAPS, problem_revision

SQUARE = "ST_Multi(ST_MakeEnvelope({x}, 47, {x} + 0.1, 47.1, 4326))"


def _csp(session: Session, csp_id: int, x: float) -> None:
    session.execute(
        text(
            f"INSERT INTO csp (id, code, name, geom) VALUES (:id, :code, :name, "
            f"{SQUARE.format(x=x)})"
        ),
        {"id": csp_id, "code": f"C{csp_id}", "name": f"CSP {csp_id}"},
    )


def _problem(session: Session, problem_id: int, csp_id: int, x: float) -> None:
    session.execute(
        text(
            "INSERT INTO problem (id, csp_id, category, title, reported_on, status_on, geom, "
            "anchor) VALUES (:id, :csp, 'nuisances', 'Tapage', DATE '2026-01-05', "
            "DATE '2026-01-05', ST_Point(:x, 47.05, 4326), ST_Point(:x, 47.05, 4326))"
        ),
        {"id": problem_id, "csp": csp_id, "x": x + 0.05},
    )


def _revisions(factory: sessionmaker[Session]) -> dict[tuple[int, str], int]:
    with factory() as session:
        return {
            (csp, name): problem_revision(session=session, csp_id=csp, topics=topics)
            for csp in (1, 2)
            for name, topics in (("maps", MAPS), ("lists", LISTS))
        }


Revisions = dict[tuple[int, str], int]


def _moved(before: Revisions, after: Revisions) -> set[tuple[int, str]]:
    """The (CSP, cache) pairs whose revision rose (a revision never goes down)."""
    assert all(after[key] >= before[key] for key in before)
    return {key for key in before if after[key] > before[key]}


def test_a_write_moves_only_its_csp_and_topic(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        _csp(session, 1, 6.0)
        _csp(session, 2, 7.0)
    start = _revisions(factory)

    # New problems in CSP 1: its maps and lists move; CSP 2's do not.
    with factory.begin() as session:
        _problem(session, 10, 1, 6.0)
        _problem(session, 11, 1, 6.0)
        assert _revisions(factory) == start  # not before the commit
    problems = _revisions(factory)
    assert _moved(start, problems) == {(1, "maps"), (1, "lists")}

    # A partner of CSP 1 (a follow-up write): CSP 1's lists move, its maps do not.
    with factory.begin() as session:
        session.execute(
            text(
                "INSERT INTO partner (id, csp_id, organisation, type) "
                "VALUES (5, 1, 'Bailleur social', 'bailleur')"
            )
        )
    partner = _revisions(factory)
    assert _moved(problems, partner) == {(1, "lists")}

    # An action on a problem of CSP 1 reaches CSP 1 through its problem.
    with factory.begin() as session:
        session.execute(
            text(
                "INSERT INTO action (id, problem_id, lead_partner_id, type, start_on, status) "
                "VALUES (1, 10, 5, 'prevention', DATE '2026-01-10', 'en_cours')"
            )
        )
    action = _revisions(factory)
    assert _moved(partner, action) == {(1, "lists")}

    # Moving a problem from CSP 1 to CSP 2 changes both.
    with factory.begin() as session:
        session.execute(text("UPDATE problem SET csp_id = 2 WHERE id = 11"))
    moved = _revisions(factory)
    assert _moved(action, moved) == set(start)

    # A rolled-back write moves nothing.
    with factory() as session:
        _problem(session, 12, 2, 7.0)
        session.rollback()
    assert _revisions(factory) == moved

    # Any update of a problem moves both caches of its CSP.
    with factory.begin() as session:
        session.execute(text("UPDATE problem SET title = 'Tapage nocturne' WHERE id = 10"))
    retitled = _revisions(factory)
    assert _moved(moved, retitled) == {(1, "maps"), (1, "lists")}

    # TRUNCATE names no row: every CSP moves.
    with factory.begin() as session:
        session.execute(text("TRUNCATE problem CASCADE"))
    assert _moved(retitled, _revisions(factory)) == set(start)
