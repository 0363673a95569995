"""Seeded **synthetic** life of the demo's GPOs: who chairs them, who sits in them, their
meetings with minutes and decisions, and the actions of their problems in every status.

Real GPO records are not public; this makes up realistic ones around the synthetic
problems of :mod:`geo.synth` (their dated steps, actions and evaluations are taken as
they are: nothing here rewrites a problem's history). The model:

* **Staff.** Each GPO gets a chef de secteur (a police officer's grade and a fictitious
  name, :data:`geo.synth_partners.CHIEF_GRADES`) and a deputy, both « (fictif) », the
  chef's e-mail on ``police.example``; a sector GPO meets every 15 or 30 days, a thematic
  one every 30 days.
* **Members.** A sector GPO gets the mairie (and the municipal police, when there is one)
  of each commune its sector covers, a social landlord, a collège, the délégué cohésion
  police-population and one or two others (commerce, association, residents); the
  thematic « Transports » GPO (:func:`transport_sectors`) the transport operator, the
  mairie of each of its sectors' main commune, a municipal police and the délégué.
* **Who follows a problem.** A problem of the thematic GPO's categories in its sectors is
  followed by the thematic GPO, any other by its sector's GPO.
* **Meetings.** Counted back from today: the last meeting 1 to ``cadence - 4`` days ago
  (a weekday), so the GPO is « à jour », except exactly one sector GPO (not the one with
  the most open problems), whose last meeting is 4 to 12 days beyond its cadence (« en
  retard »); before it, one meeting every ``cadence ± 3`` days back to the start of the
  period, one in ten skipped. One meeting is planned (``prevue``): a cadence after the
  last one, or 3 to 10 days ahead when that is past, at 14:00 or 9:30, « Salle du
  conseil, mairie de … ». Every member is invited; each is present 80 % of the time
  (the main mairie 95 %), represented by its contact person or, one time in four, by
  another fictitious person. The chef and the deputy are the other attendees.
* **Decisions** of a closed meeting: everything that happened to its problems since the
  previous meeting (a new problem: a note; a status change: a step; an action started:
  an action; an evaluation: an evaluation), dated at the meeting that follows it, and the
  new actions decided there (:func:`gpo_life`).
* **Actions.** An action keeps the dates the life cycle gave it; its lead partner is a
  member of its GPO suited to its type (:data:`LEADS`; none: the police itself). A
  problem evaluated or resolved has its actions done (30 % after their due date) or, for
  one in ten after its first, abandoned; a problem closed without follow-up has them
  abandoned (or done before, 30 %); a problem under way has them under way (overdue when
  their due date has passed) or, one in four, done. At each GPO's last meeting, half of
  its problems under analysis and one in seven of those under way get a new action
  (``prevue`` while it has not started; due 2 to 8 weeks after the meeting). In each
  sector GPO, the main commune's mairie leads at least three unfinished actions, one of
  them overdue and two due within a fortnight. Each action's steps (decided, started,
  reminded when overdue, done or abandoned) are dated and signed by the lead partner's
  contact person (by the chef for the police's own actions).

Everything is pure: the same inputs and seed give the same output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from geo.problems import ACTION_TYPES, OPEN_STATUSES, OUTCOMES, STATUSES
from geo.synth import ACTIONS_FOR
from geo.synth_partners import (
    LEADS,
    GpoInput,
    People,
    Staff,
    SynthPartner,
    gpo_members,
    gpo_staff,
    lead_partner,
    of_commune,
)

#: The categories of the thematic « Transports » GPO (codes of geo.problems.CATEGORIES).
TRANSPORT_CATEGORIES = ("transports",)
REMARKS = (
    "Les partenaires signalent une amélioration aux abords des établissements scolaires.",
    "La mairie propose de renforcer l'éclairage public sur le secteur.",
    "Le bailleur signale de nouvelles dégradations dans les parties communes.",
    "Un point sur la vidéoprotection est demandé pour la prochaine réunion.",
    "Les commerçants font état d'un regain d'incivilités en fin de semaine.",
    "Le délégué cohésion police-population rend compte de sa rencontre avec les habitants.",
    "Une marche exploratoire avec les habitants est proposée pour le mois prochain.",
)
ABANDON_REASONS = (
    "Abandonnée : la problématique est close sans suite.",
    "Abandonnée : une autre mesure a été retenue.",
    "Abandonnée : le partenaire ne peut pas la conduire.",
)


@dataclass(frozen=True)
class History:
    """The problems of the CSP as the life cycle made them: ``problems`` (``id``,
    ``sector``, ``category``, ``title``, ``status``, ``reporter_type``), ``events``
    (``problem_id``, ``status``, ``on``), ``actions`` (``id``, ``problem_id``, ``type``,
    ``start_on``, ``due_on``), ``evaluations`` (``problem_id``, ``evaluated_on``,
    ``outcome``, ``before``, ``after``)."""

    problems: pd.DataFrame
    events: pd.DataFrame
    actions: pd.DataFrame
    evaluations: pd.DataFrame


@dataclass(frozen=True)
class ActionStep:
    on: date
    status: str
    due_on: date | None
    comment: str
    signed_by: str


@dataclass
class SynthAction:
    """An action: ``id`` of a stored one, or None for a new one (``problem_id``, ``type``,
    ``start_on`` then say what it is); ``lead``: index in the partner directory."""

    id: int | None
    problem_id: int
    type: str
    start_on: date
    due_on: date
    status: str
    lead: int | None
    gpo_id: int
    decided_on: date
    end_on: date | None = None  # done or abandoned on
    steps: list[ActionStep] = field(default_factory=list)


@dataclass(frozen=True)
class SynthDecision:
    kind: str  # action, step, evaluation, note
    problem_id: int | None
    text: str
    action: int | None = None  # index in GpoLife.actions


@dataclass(frozen=True)
class SynthMeeting:
    gpo_id: int
    status: str  # close or prevue
    held_on: date
    starts_at: time
    place: str
    attendees: list[str]
    notes: str | None
    invited_at: datetime | None
    closed_at: datetime | None
    #: (partner index, present (None: not yet held), represented by)
    partners: list[tuple[int, bool | None, str | None]]
    decisions: list[SynthDecision]


@dataclass(frozen=True)
class GpoLife:
    staff: list[Staff]
    members: dict[int, list[int]]  # GPO id -> partner indexes
    meetings: list[SynthMeeting]
    actions: list[SynthAction]
    reporters: dict[int, int]  # problem id -> partner index of its reporter
    late_gpo: int | None


def transport_sectors(sectors: Sequence[int], problems: pd.DataFrame) -> list[int]:
    """The 2 or 3 sectors (3 from 4 sectors up) with the most transport problems (ties:
    the lower sector) that a thematic « Transports » GPO spans; none below 2 sectors."""
    if len(sectors) < 2:
        return []
    counts = problems[problems["category"].isin(TRANSPORT_CATEGORIES)]["sector"].value_counts()
    ranked = sorted(sectors, key=lambda s: (-int(counts.get(s, 0)), s))
    return sorted(ranked[: 3 if len(sectors) >= 4 else 2])


def _day(rng: np.random.Generator, lo: date, hi: date) -> date:
    """A uniform day in [lo, hi] (lo when hi is before it)."""
    return lo + timedelta(days=int(rng.integers(0, max(0, (hi - lo).days) + 1)))


def _weekday(day: date, *, forward: bool = False) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1 if forward else -1)
    return day


def _schedule(
    cadence: int, late: bool, start: date, today: date, rng: np.random.Generator
) -> tuple[list[date], date]:
    """The closed meetings' days (oldest first) and the planned one's."""
    gap = cadence + int(rng.integers(4, 13)) if late else int(rng.integers(1, cadence - 3))
    last = _weekday(today - timedelta(days=gap))
    held = [last]
    day = last
    while True:
        day = _weekday(day - timedelta(days=cadence + int(rng.integers(-3, 4))))
        if day < start:
            break
        if rng.random() >= 0.1:
            held.append(day)
    planned = last + timedelta(days=cadence + int(rng.integers(-2, 3)))
    if planned <= today:
        planned = today + timedelta(days=int(rng.integers(3, 11)))
    return held[::-1], _weekday(planned, forward=True)


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _settle(
    action: SynthAction,
    status: str,
    first_on: dict[tuple[int, str], date],
    today: date,
    rng: np.random.Generator,
    *,
    first: bool,
) -> None:
    """The action's status and end date from its problem's ``status`` and the first day
    of each of its problems' statuses (``first_on``); ``first``: the problem's first."""
    s, d = action.start_on, action.due_on
    on_status = lambda st: first_on[(action.problem_id, st)]  # noqa: E731
    if status in ("evalue", "resolu"):
        limit = max(s + timedelta(days=1), on_status("evalue") - timedelta(days=1))
        if not first and rng.random() < 0.1:
            action.status, action.end_on = "abandonnee", _day(rng, s + timedelta(days=1), limit)
            return
        if rng.random() < 0.7 or d + timedelta(days=3) > limit:
            action.end_on = _day(rng, min(s + timedelta(days=7), limit, d), min(d, limit))
        else:
            action.end_on = _day(rng, d + timedelta(days=3), min(limit, d + timedelta(days=20)))
        action.status = "realisee"
    elif status == "clos_sans_suite":
        closed = on_status("clos_sans_suite")
        if rng.random() < 0.3 and s + timedelta(days=7) < closed:
            action.status, action.end_on = "realisee", _day(rng, s + timedelta(days=7), closed)
        else:
            action.status, action.end_on = "abandonnee", closed
    elif rng.random() < 0.25 and s + timedelta(days=7) < today:
        hi = min(today - timedelta(days=1), d + timedelta(days=10))
        action.status, action.end_on = "realisee", _day(rng, s + timedelta(days=7), hi)
    else:
        action.status = "en_cours"


def _focus(actions: list[SynthAction], focal: int, today: date, rng: np.random.Generator) -> None:
    """The focal partner leads three unfinished actions: one overdue, two due soon."""
    unfinished = [a for a in actions if a.status in ("prevue", "en_cours")]
    mine = [a for a in unfinished if a.lead == focal]
    # others' actions, those a mairie may lead first
    others = sorted(
        (a for a in unfinished if a.lead != focal),
        key=lambda a: "mairie" not in LEADS.get(a.type, ()),
    )
    for a in others[: max(0, 3 - len(mine))]:
        a.lead = focal
        mine.append(a)
    started = [a for a in mine if a.status == "en_cours"]
    if not started:
        started = [a for a in unfinished if a.status == "en_cours"][:1]
        for a in started:
            a.lead = focal
            mine.append(a)
    if started and not any(a.due_on < today for a in started):
        late = min(started, key=lambda a: (a.start_on, a.problem_id))
        late.due_on = max(late.start_on + timedelta(days=7), today - timedelta(days=12))
        late.due_on = min(late.due_on, today - timedelta(days=1))
    soon = [a for a in mine if today <= a.due_on <= today + timedelta(days=14)]
    for a in [a for a in mine if a.due_on >= today and a not in soon][: max(0, 2 - len(soon))]:
        a.due_on = max(a.start_on, today + timedelta(days=int(rng.integers(1, 15))))


def _steps(
    action: SynthAction, signer: str, today: date, rng: np.random.Generator
) -> list[ActionStep]:
    due = action.due_on
    steps = [
        ActionStep(action.decided_on, "prevue", due, "Action décidée en réunion du GPO.", signer)
    ]
    if action.status == "prevue":
        return steps
    end = action.end_on or today
    started = min(action.start_on + timedelta(days=int(rng.integers(0, 8))), end)
    started = max(started, action.decided_on)
    steps.append(ActionStep(started, "en_cours", due, "Action engagée.", signer))
    if action.status == "en_cours":
        if due < today and rng.random() < 0.5:
            reminded = max(started, min(today, due + timedelta(days=int(rng.integers(1, 11)))))
            comment = "Échéance dépassée : point à la prochaine réunion du GPO."
            steps.append(ActionStep(reminded, "en_cours", due, comment, signer))
        return steps
    assert action.end_on is not None
    if action.status == "realisee":
        late = action.end_on > due
        comment = (
            f"Action réalisée avec retard (échéance du {_fmt(due)})."
            if late
            else ("Action réalisée.")
        )
    else:
        comment = ABANDON_REASONS[int(rng.integers(len(ABANDON_REASONS)))]
    steps.append(ActionStep(action.end_on, action.status, due, comment, signer))
    return steps


def _owners(gpos: Sequence[GpoInput], problems: pd.DataFrame) -> dict[int, int]:
    """The GPO that follows each problem (see the module docstring)."""
    by_sector = {g.sectors[0]: g.id for g in gpos if g.kind == "sector" and g.sectors}
    thematic = [g for g in gpos if g.kind == "thematic"]
    owners: dict[int, int] = {}
    for pid, sector, category in zip(
        problems["id"], problems["sector"], problems["category"], strict=True
    ):
        theme = next(
            (g.id for g in thematic if category in g.categories and sector in g.sectors), None
        )
        owner = theme if theme is not None else by_sector.get(int(sector))
        if owner is not None:
            owners[int(pid)] = owner
    return owners


def gpo_life(
    gpos: Sequence[GpoInput],
    history: History,
    directory: Sequence[SynthPartner],
    *,
    start: date,
    today: date,
    rng: np.random.Generator,
) -> GpoLife:
    """The synthetic staff, members, meetings and actions of the GPOs (see the module
    docstring); ``directory``: the CSP's partners (:func:`geo.synth_partners.partner_directory`)."""
    people = People(rng, taken=[p.contact_name for p in directory])
    staff = {g.id: gpo_staff(g, people, rng) for g in gpos}
    members = {g.id: gpo_members(g, directory, rng) for g in gpos}
    problems = history.problems
    owners = _owners(gpos, problems)
    status_of = dict(zip(problems["id"].astype(int), problems["status"], strict=True))
    title_of = dict(zip(problems["id"].astype(int), problems["title"], strict=True))
    # one sector GPO late, never the one with the most open problems
    sector_gpos = [g for g in gpos if g.kind == "sector"]
    opened = problems[problems["status"].isin(OPEN_STATUSES)]["sector"].value_counts()
    late_gpo = None
    if sector_gpos:
        busiest = max(sector_gpos, key=lambda g: (int(opened.get(g.sectors[0], 0)), -g.id))
        others = [g for g in sector_gpos if g.id != busiest.id] or sector_gpos
        late_gpo = others[int(rng.integers(len(others)))].id
    schedules = {
        g.id: _schedule(staff[g.id].cadence_days, g.id == late_gpo, start, today, rng) for g in gpos
    }
    first_on = {
        (int(p), str(st)): on
        for (p, st), on in history.events.groupby(["problem_id", "status"])["on"].min().items()
    }
    # the actions of the life cycle, then the new ones of each GPO's last meeting
    actions: list[SynthAction] = []
    settled: set[int] = set()  # problems whose first action is settled
    for row in history.actions.itertuples(index=False):
        pid = int(row.problem_id)
        if pid not in owners:
            continue
        action = SynthAction(
            id=int(row.id),
            problem_id=pid,
            type=str(row.type),
            start_on=row.start_on,
            due_on=row.due_on,
            status="en_cours",
            gpo_id=owners[pid],
            decided_on=row.start_on,
            lead=lead_partner(str(row.type), members[owners[pid]], directory, rng),
        )
        _settle(action, status_of[pid], first_on, today, rng, first=pid not in settled)
        settled.add(pid)
        actions.append(action)
    last_step = history.events.groupby("problem_id")["on"].max()
    category_of = dict(zip(problems["id"].astype(int), problems["category"], strict=True))
    for pid in sorted(owners):
        gpo_id, status = owners[pid], status_of[pid]
        meeting = schedules[gpo_id][0][-1]
        chance = {"analyse": 0.5, "actions_en_cours": 0.15}.get(status, 0.0)
        if last_step[pid] > meeting or rng.random() >= chance:
            continue
        kinds = ACTIONS_FOR[category_of[pid]]
        kind = kinds[int(rng.integers(len(kinds)))]
        begin = meeting + timedelta(days=int(rng.integers(3, 15)))
        if status == "analyse":  # not started: the problem is still under analysis
            begin = max(begin, today + timedelta(days=int(rng.integers(1, 11))))
        actions.append(
            SynthAction(
                id=None,
                problem_id=pid,
                type=kind,
                start_on=begin,
                due_on=meeting + timedelta(days=int(rng.integers(14, 57))),
                status="prevue" if begin > today else "en_cours",
                lead=lead_partner(kind, members[gpo_id], directory, rng),
                gpo_id=gpo_id,
                decided_on=meeting,
            )
        )
        actions[-1].due_on = max(actions[-1].due_on, begin + timedelta(days=7))
    for g in sector_gpos:
        mairies = [i for i in members[g.id] if directory[i].type == "mairie"]
        if mairies:
            mine = [
                a for a in actions if a.gpo_id == g.id and status_of[a.problem_id] in OPEN_STATUSES
            ]
            _focus(mine, mairies[0], today, rng)
    for a in actions:
        signer = (
            directory[a.lead].contact_name if a.lead is not None else staff[a.gpo_id].chief_name
        )
        a.steps = _steps(a, signer, today, rng)
    meetings = _meetings(
        gpos, history, directory, staff, members, schedules, actions, owners, title_of, today, rng
    )
    reporters: dict[int, int] = {}
    for pid, kind in zip(problems["id"].astype(int), problems["reporter_type"], strict=True):
        fit = [i for i in members.get(owners.get(pid, -1), []) if directory[i].type == kind]
        if fit:
            reporters[pid] = fit[int(rng.integers(len(fit)))]
    return GpoLife(list(staff.values()), members, meetings, actions, reporters, late_gpo)


def _count(decisions: list[SynthDecision], kind: str) -> int:
    return sum(1 for d in decisions if d.kind == kind)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _meetings(
    gpos: Sequence[GpoInput],
    history: History,
    directory: Sequence[SynthPartner],
    staff: dict[int, Staff],
    members: dict[int, list[int]],
    schedules: dict[int, tuple[list[date], date]],
    actions: list[SynthAction],
    owners: dict[int, int],
    title_of: dict[int, str],
    today: date,
    rng: np.random.Generator,
) -> list[SynthMeeting]:
    """Each GPO's closed meetings with their decisions and minutes, then its planned one."""
    found: dict[tuple[int, int], list[tuple[date, int, SynthDecision]]] = {}

    days = {g: np.array(held, dtype="datetime64[D]") for g, (held, _) in schedules.items()}

    def attach(gpo_id: int, on: date, order: int, decision: SynthDecision) -> None:
        held = days[gpo_id]
        k = int(np.searchsorted(held, np.datetime64(on, "D")))
        if k < len(held):
            found.setdefault((gpo_id, k), []).append((on, order, decision))

    for row in history.events.itertuples(index=False):
        pid = int(row.problem_id)
        if pid in owners:
            title = title_of[pid]
            if row.status == "signale":
                text = f"Nouvelle problématique signalée le {_fmt(row.on)} ({title})."
                attach(owners[pid], row.on, 0, SynthDecision("note", pid, text))
            else:
                text = f"Passage au statut « {STATUSES[row.status]} » le {_fmt(row.on)}."
                attach(owners[pid], row.on, 1, SynthDecision("step", pid, text))
    for row in history.evaluations.itertuples(index=False):
        pid = int(row.problem_id)
        if pid in owners:
            text = (
                f"Évaluation du {_fmt(row.evaluated_on)} : "
                f"{OUTCOMES[row.outcome].lower()} (signalements : {row.before} avant, "
                f"{row.after} après)."
            )
            attach(owners[pid], row.evaluated_on, 3, SynthDecision("evaluation", pid, text))
    for k, a in enumerate(actions):
        lead = directory[a.lead].organisation if a.lead is not None else "la police nationale"
        text = (
            f"Action « {ACTION_TYPES[a.type]} » pilotée par {lead}, échéance le {_fmt(a.due_on)}."
        )
        attach(a.gpo_id, a.decided_on, 2, SynthDecision("action", a.problem_id, text, k))
    out: list[SynthMeeting] = []
    for g in gpos:
        held, planned = schedules[g.id]
        s = staff[g.id]
        towns = [name for _, name in g.communes] or [""]
        invited = members[g.id]
        previous = None
        for k, day in enumerate(held):
            decisions = [d for _, _, d in sorted(found.get((g.id, k), []), key=lambda t: t[:2])]
            partners: list[tuple[int, bool | None, str | None]] = []
            for n, i in enumerate(invited):
                present = bool(rng.random() < (0.95 if n == 0 else 0.8))
                who = None
                if present:
                    who = directory[i].contact_name
                    if rng.random() < 0.25:
                        who = People(rng, taken=[who]).draw().name
                partners.append((i, present, who))
            chief_in = rng.random() < 0.9
            deputy_in = rng.random() < 0.7 or not chief_in
            attendees = [f"{s.chief_grade} {s.chief_name}"] if chief_in else []
            attendees += [f"{s.deputy_grade} {s.deputy_name}"] if deputy_in else []
            done = sum(
                1
                for a in actions
                if a.gpo_id == g.id
                and a.status == "realisee"
                and a.end_on is not None
                and (previous is None or a.end_on > previous)
                and a.end_on <= day
            )
            absent = [directory[i].organisation for i, present, _ in partners if not present]
            present_count = sum(1 for _, p, _ in partners if p)
            excused = f" ; excusés : {', '.join(absent)}." if absent else "."
            notes = [
                f"Président de séance : {attendees[0]}.",
                f"{present_count} partenaires présents sur {len(partners)} invités{excused}",
                f"{_count(decisions, 'note')} nouvelle(s) problématique(s) depuis la "
                f"précédente réunion, {_count(decisions, 'step')} changement(s) de statut "
                f"examiné(s), {_count(decisions, 'action')} action(s) décidée(s) ou "
                f"engagée(s), {done} action(s) réalisée(s).",
            ]
            if rng.random() < 0.6:
                notes.append(REMARKS[int(rng.integers(len(REMARKS)))])
            notes.append("Compte rendu fictif (données synthétiques de démonstration).")
            town = towns[0] if rng.random() < 0.7 else towns[int(rng.integers(len(towns)))]
            closed = min(day + timedelta(days=int(rng.integers(1, 4))), today - timedelta(days=1))
            out.append(
                SynthMeeting(
                    gpo_id=g.id,
                    status="close",
                    held_on=day,
                    starts_at=time(14, 0) if rng.random() < 0.6 else time(9, 30),
                    place=f"Salle du conseil, mairie {of_commune(town)}"
                    if town
                    else "Commissariat",
                    attendees=attendees,
                    notes=" ".join(notes),
                    invited_at=_at(day - timedelta(days=int(rng.integers(7, 15))), 9),
                    closed_at=_at(max(day, closed), 18),
                    partners=partners,
                    decisions=decisions,
                )
            )
            previous = day
        invite = planned - timedelta(days=10)
        out.append(
            SynthMeeting(
                gpo_id=g.id,
                status="prevue",
                held_on=planned,
                starts_at=time(14, 0) if rng.random() < 0.6 else time(9, 30),
                place=f"Salle du conseil, mairie {of_commune(towns[0])}"
                if towns[0]
                else "Commissariat",
                attendees=[],
                notes=None,
                invited_at=_at(invite, 9) if invite <= today else None,
                closed_at=None,
                partners=[(i, None, None) for i in invited],
                decisions=[],
            )
        )
    return out
