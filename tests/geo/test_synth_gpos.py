"""The synthetic GPO life (:mod:`geo.synth_partners`, :mod:`geo.synth_gpos`): fictitious
people and organisations named from the communes given, meetings at the cadence with one
GPO late, actions in every status whose steps agree with their problems' statuses."""

from __future__ import annotations

from datetime import time, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.problems import ACTION_STATUSES, PARTNER_TYPES
from geo.synth import ACTIONS_FOR, generate
from geo.synth_gpos import GpoLife, History, gpo_life, transport_sectors
from geo.synth_partners import (
    CHIEF_GRADES,
    CommuneInfo,
    GpoInput,
    People,
    of_commune,
    partner_directory,
)
from tests.clock import TODAY  # a Monday

START = TODAY - timedelta(days=730)
# Made-up communes: nothing in the generator may know their names.
COMMUNES = [
    CommuneInfo("99001", "Saint-Exemple", 30_000),
    CommuneInfo("99002", "Essart-les-Bois", 3_000),
    CommuneInfo("99003", "Le Val-Fictif", 6_000),
    CommuneInfo("99004", "Les Hauts-Imaginaires", 1_200),
]


def _fictitious(name: str) -> bool:
    return name.endswith(" (fictif)") or name.endswith(" (fictive)")


def test_of_commune_elides_and_contracts() -> None:
    assert of_commune("Belfort") == "de Belfort"
    assert of_commune("Essert") == "d'Essert"
    assert of_commune("Offemont") == "d'Offemont"
    assert of_commune("Le Valdoie") == "du Valdoie"
    assert of_commune("Les Auxons") == "des Auxons"
    assert of_commune("Hérimoncourt") == "d'Hérimoncourt"


def test_people_are_fictitious_and_never_twice() -> None:
    people = People(np.random.default_rng(3), taken=["Claire Martin (fictive)"])
    drawn = [people.draw() for _ in range(200)]
    names = [p.name for p in drawn]
    assert len(set(names)) == 200 and "Claire Martin (fictive)" not in names
    assert all(_fictitious(n) for n in names)
    assert all(n.endswith("(fictive)") == p.female for n, p in zip(names, drawn, strict=True))
    assert drawn[0].email("x.example").endswith("@x.example")
    assert all(" " not in p.email("x.example") for p in drawn)


def test_the_directory_names_the_communes_given() -> None:
    partners = partner_directory(COMMUNES, csp_name="Exemple", rng=np.random.default_rng(0))
    by_type: dict[str, list[str]] = {}
    for p in partners:
        by_type.setdefault(p.type, []).append(p.organisation)
    # One mairie per commune, by code.
    assert by_type["mairie"] == [
        "Mairie de Saint-Exemple",
        "Mairie d'Essart-les-Bois",
        "Mairie du Val-Fictif",
        "Mairie des Hauts-Imaginaires",
    ]
    # Municipal police from 4 000 inhabitants: Saint-Exemple (30 000), Le Val-Fictif (6 000).
    assert by_type["police_municipale"] == [
        "Police municipale de Saint-Exemple",
        "Police municipale du Val-Fictif",
    ]
    assert len(by_type["bailleur_social"]) == 1  # one per two larger communes
    assert by_type["bailleur_social"][0].startswith("Bailleur social — résidence ")
    assert by_type["bailleur_social"][0].endswith(", Saint-Exemple (fictif)")
    assert len(by_type["education_nationale"]) == 2
    assert by_type["commercant"] == [
        "Union des commerçants de Saint-Exemple (fictif)",
        "Union des commerçants du Val-Fictif (fictif)",
    ]
    assert by_type["transporteur"] == ["Réseau de transport urbain de Saint-Exemple (fictif)"]
    assert by_type["delegue_cohesion"] == ["Délégué cohésion police-population — CSP Exemple"]
    assert set(by_type) <= set(PARTNER_TYPES)
    assert all(_fictitious(p.contact_name) for p in partners)
    assert all(p.contact.endswith(".example") and "@" in p.contact for p in partners)
    assert len({p.contact_name for p in partners}) == len(partners)
    again = partner_directory(COMMUNES, csp_name="Exemple", rng=np.random.default_rng(0))
    assert again == partners


def test_a_transport_gpo_spans_the_sectors_with_most_transport_problems() -> None:
    problems = pd.DataFrame(
        {
            "sector": [0, 1, 1, 2, 2, 2, 3, 3, 3],
            "category": ["transports"] * 3 + ["nuisances"] * 3 + ["transports"] * 3,
        }
    )
    # Transport problems: sector 0 one, sector 1 two, sector 2 none, sector 3 three.
    assert transport_sectors([0, 1, 2, 3], problems) == [0, 1, 3]
    assert transport_sectors([0, 1, 2], problems) == [0, 1]
    assert transport_sectors([2, 5], problems) == [2, 5]  # ties: the lower sectors
    assert transport_sectors([1], problems) == []


def _world(seed: int = 7) -> tuple[list[GpoInput], History, list, GpoLife]:
    """Four sector GPOs over a made-up 8 by 8 grid (two columns of cells each), a
    thematic Transports GPO over sectors 0 and 1, two years of synthetic problems."""
    side = 0.004
    boxes = [
        shapely.box(6.8 + i * side, 47.6 + j * side, 6.8 + (i + 1) * side, 47.6 + (j + 1) * side)
        for i in range(8)
        for j in range(8)
    ]
    cells = gpd.GeoDataFrame({"population": np.full(64, 400.0)}, geometry=boxes, crs=4326)
    made = generate(cells, start=START, end=TODAY, rng=np.random.default_rng(seed), count=500)
    x = shapely.get_coordinates(made.problems.geometry.representative_point())[:, 0]
    n = len(made.problems)
    problems = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "sector": np.clip(((x - 6.8) / (2 * side)).astype(int), 0, 3),
            "category": made.problems["category"].to_numpy(),
            "title": made.problems["title"].to_numpy(),
            "status": made.problems["status"].to_numpy(),
            "reporter_type": made.problems["reporter_type"].to_numpy(),
        }
    )
    history = History(
        problems,
        made.events.assign(problem_id=made.events["problem"] + 1),
        made.actions.assign(
            id=np.arange(1, len(made.actions) + 1), problem_id=made.actions["problem"] + 1
        ),
        made.evaluations.assign(problem_id=made.evaluations["problem"] + 1),
    )
    towns = [(c.code, c.name) for c in COMMUNES]
    gpos = [GpoInput(10 + s, "sector", (s,), (), (towns[s],)) for s in range(4)]
    gpos.append(GpoInput(20, "thematic", (0, 1), ("transports",), (towns[0], towns[1])))
    directory = partner_directory(COMMUNES, csp_name="Exemple", rng=np.random.default_rng(1))
    life = gpo_life(
        gpos, history, directory, start=START, today=TODAY, rng=np.random.default_rng(seed)
    )
    return gpos, history, directory, life


@pytest.fixture(scope="module")
def world() -> tuple[list[GpoInput], History, list, GpoLife]:
    return _world()


def test_same_seed_same_life_other_seed_other_life(world) -> None:
    assert _world()[3] == world[3]
    assert _world(8)[3] != world[3]


def test_staff_and_members(world) -> None:
    gpos, _, directory, life = world
    assert {s.gpo_id for s in life.staff} == {g.id for g in gpos}
    for s in life.staff:
        assert s.chief_grade in CHIEF_GRADES and s.deputy_grade
        assert _fictitious(s.chief_name) and _fictitious(s.deputy_name)
        assert s.chief_contact.endswith("@police.example")
        assert s.cadence_days in (15, 30)
    assert next(s for s in life.staff if s.gpo_id == 20).cadence_days == 30
    for g in gpos:
        members = [directory[i] for i in life.members[g.id]]
        assert len(members) >= 3
        mairies = [m.organisation for m in members if m.type == "mairie"]
        assert mairies == [f"Mairie {of_commune(name)}" for _, name in g.communes]
        if g.kind == "thematic":
            assert members[0].type == "transporteur"
        else:
            assert {"mairie", "bailleur_social", "education_nationale"} <= {m.type for m in members}


def test_one_gpo_late_the_others_up_to_date(world) -> None:
    gpos, history, _, life = world
    cadence = {s.gpo_id: s.cadence_days for s in life.staff}
    late = []
    for g in gpos:
        mine = [m for m in life.meetings if m.gpo_id == g.id]
        closed = [m.held_on for m in mine if m.status == "close"]
        planned = [m for m in mine if m.status == "prevue"]
        assert len(planned) == 1 and planned[0].held_on > TODAY
        assert planned[0].starts_at in (time(14, 0), time(9, 30))
        assert planned[0].place.startswith("Salle du conseil, mairie ")
        assert all(present is None for _, present, _ in planned[0].partners)
        assert closed == sorted(closed) and closed[0] >= START and closed[-1] < TODAY
        assert all(day.weekday() < 5 for day in [*closed, planned[0].held_on])
        if (TODAY - closed[-1]).days > cadence[g.id]:
            late.append(g.id)
    assert late == [life.late_gpo]
    # never the GPO with the most open problems
    problems = history.problems
    opened = problems[problems["status"].isin(["signale", "analyse", "actions_en_cours", "evalue"])]
    counts = opened["sector"].value_counts()
    busiest = 10 + max(range(4), key=lambda s: (counts.get(s, 0), -s))
    assert life.late_gpo != busiest


def test_attendance_and_minutes(world) -> None:
    life = world[3]
    closed = [m for m in life.meetings if m.status == "close"]
    seats = [(present, who) for m in closed for _, present, who in m.partners]
    share = sum(1 for present, _ in seats if present) / len(seats)
    assert 0.7 < share < 0.9
    assert all(_fictitious(who) for present, who in seats if present)
    assert all(who is None for present, who in seats if not present)
    for m in closed:
        assert [i for i, _, _ in m.partners] == life.members[m.gpo_id]
        assert m.notes and m.notes.endswith("(données synthétiques de démonstration).")
        assert m.attendees and all(_fictitious(a) for a in m.attendees)
        assert m.invited_at is not None and m.closed_at is not None
        assert m.invited_at.date() < m.held_on <= m.closed_at.date() < TODAY


def test_actions_in_every_status_agree_with_their_problems(world) -> None:
    _, history, directory, life = world
    status_of = dict(zip(history.problems["id"], history.problems["status"], strict=True))
    assert {a.status for a in life.actions} == set(ACTION_STATUSES)
    overdue = [a for a in life.actions if a.status in ("prevue", "en_cours") and a.due_on < TODAY]
    assert overdue
    late_done = [a for a in life.actions if a.status == "realisee" and a.end_on > a.due_on]
    on_time = [a for a in life.actions if a.status == "realisee" and a.end_on <= a.due_on]
    assert late_done and on_time
    for a in life.actions:
        problem = status_of[a.problem_id]
        if problem in ("evalue", "resolu", "clos_sans_suite"):
            assert a.status in ("realisee", "abandonnee"), (a, problem)
        if problem in ("signale", "analyse"):
            assert a.status == "prevue" and a.id is None and a.start_on > TODAY
        assert a.lead is None or a.lead in life.members[a.gpo_id]
        assert a.steps[-1].status == a.status
        days = [s.on for s in a.steps]
        assert days == sorted(days) and days[-1] <= TODAY
        assert a.steps[0].status == "prevue" and a.steps[0].on == a.decided_on
        signer = directory[a.lead].contact_name if a.lead is not None else None
        assert all(s.signed_by == signer or signer is None for s in a.steps)
        assert all(_fictitious(s.signed_by) for s in a.steps)
    new = [a for a in life.actions if a.id is None]
    assert new and all(a.type in ACTIONS_FOR[_category(history, a.problem_id)] for a in new)


def _category(history: History, problem_id: int) -> str:
    problems = history.problems
    return str(problems.loc[problems["id"] == problem_id, "category"].iloc[0])


def test_each_sector_gpo_main_mairie_leads_an_overdue_and_soon_due_action(world) -> None:
    gpos, history, _, life = world
    status_of = dict(zip(history.problems["id"], history.problems["status"], strict=True))
    for g in gpos:
        if g.kind != "sector":
            continue
        main = life.members[g.id][0]
        mine = [
            a
            for a in life.actions
            if a.gpo_id == g.id
            and a.lead == main
            and a.status in ("prevue", "en_cours")
            and status_of[a.problem_id] not in ("resolu", "clos_sans_suite")
        ]
        assert len(mine) >= 3
        assert any(a.due_on < TODAY for a in mine)
        assert any(TODAY <= a.due_on <= TODAY + timedelta(days=14) for a in mine)


def test_decisions_follow_the_problems_of_their_gpo(world) -> None:
    gpos, history, _, life = world
    problems = history.problems.set_index("id")
    by_id = {g.id: g for g in gpos}
    events = history.events
    kinds = set()
    for m in life.meetings:
        g = by_id[m.gpo_id]
        for d in m.decisions:
            kinds.add(d.kind)
            sector = problems.loc[d.problem_id, "sector"]
            category = problems.loc[d.problem_id, "category"]
            assert sector in g.sectors
            themed = category == "transports" and sector in (0, 1)
            assert themed == (g.kind == "thematic")
            reported = events[(events["problem_id"] == d.problem_id)]["on"].min()
            assert reported <= m.held_on
            if d.kind == "action":
                action = life.actions[d.action]
                assert action.gpo_id == g.id and action.problem_id == d.problem_id
                assert action.decided_on <= m.held_on
    assert kinds == {"note", "step", "action", "evaluation"}
    # every problem step before the last meeting of its GPO is one decision
    steps = sum(len([d for d in m.decisions if d.kind == "step"]) for m in life.meetings)
    assert steps > 0
