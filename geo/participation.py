"""Conventions de participation citoyenne (issue 18): signed for three years by the
préfet, the mayor and the chef de CSP, renewed tacitly at the end of each term unless
denounced; and the mayors' alerts about interventions on their commune's territory.

The renewal arithmetic lives here, as pure functions of dates:

- a convention's term ``k`` (0 for the first) runs from ``start + 3k years`` to the day
  before ``start + 3(k+1) years``; a term starting a 29 February in a common year starts
  the 28;
- it is renewed tacitly on ``start + 3(k+1) years`` (the *renewal date*), unless it was
  denounced during term ``k``: then it ends with that term;
- a fixed ``end_on`` ends it that day whatever its terms;
- its status on a day: ``en_projet`` (not signed by all three, or no start), ``signee``
  (signed, first term or not begun), ``reconduite`` (a later term), ``denoncee``
  (denounced, running to the end of its term), ``echue`` (ended).

The alerts' quiet hours are here too (:func:`quiet_release`): an alert raised during
them waits until they end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from geo.errors import InvalidInputError, StateConflictError

#: A convention's term, in years.
TERM_YEARS = 3
#: Reminders are queued this many days before a renewal date.
RENEWAL_NOTICE_DAYS = 60

STATUSES: Mapping[str, str] = {
    "en_projet": "En projet",
    "signee": "Signée",
    "reconduite": "Reconduite",
    "denoncee": "Dénoncée",
    "echue": "Échue",
}
#: The three signatories of a convention.
SIGNATORIES: Mapping[str, str] = {
    "prefet": "Préfet",
    "maire": "Maire",
    "chef_csp": "Chef de la circonscription de sécurité publique",
}

#: The natures of an intervention a mayor may be alerted of.
INTERVENTION_NATURES: Mapping[str, str] = {
    "accident": "Accident de la circulation",
    "incendie": "Incendie",
    "rixe": "Rixe ou violences sur la voie publique",
    "cambriolage": "Cambriolage",
    "tapage": "Tapage ou trouble à la tranquillité",
    "rodeo": "Rodéo motorisé",
    "personne": "Personne vulnérable ou disparue",
    "autre": "Autre intervention",
}
#: The channels of an alert.
CHANNELS: Mapping[str, str] = {"email": "Courriel", "sms": "SMS"}
#: The time zone of quiet hours.
PARIS = ZoneInfo("Europe/Paris")


def add_years(day: date, years: int) -> date:
    """``day`` ``years`` later; a 29 February lands on the 28 in a common year.

    >>> add_years(date(2024, 2, 29), 3)
    datetime.date(2027, 2, 28)
    >>> add_years(date(2023, 5, 10), 3)
    datetime.date(2026, 5, 10)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def term_start(start: date, k: int) -> date:
    """The first day of term ``k`` (0 for the first) of a convention starting ``start``."""
    return add_years(start, TERM_YEARS * k)


def term_index(start: date, day: date) -> int:
    """The term ``day`` falls in (0 for the first); -1 before ``start``.

    >>> start = date(2020, 3, 1)
    >>> term_index(start, date(2023, 2, 28)), term_index(start, date(2023, 3, 1))
    (0, 1)
    """
    if day < start:
        return -1
    k = max(0, (day.year - start.year) // TERM_YEARS)
    while term_start(start, k) > day:
        k -= 1
    while term_start(start, k + 1) <= day:
        k += 1
    return k


def current_term(start: date, day: date) -> tuple[date, date]:
    """The first and last days of the term ``day`` falls in (the first term before
    ``start``)."""
    k = max(term_index(start, day), 0)
    return term_start(start, k), term_start(start, k + 1) - timedelta(days=1)


@dataclass(frozen=True)
class ConventionDates:
    """What the status of a convention depends on."""

    start_on: date | None
    signed: bool
    end_on: date | None = None
    denounced_on: date | None = None


def ends_on(c: ConventionDates) -> date | None:
    """The last day of the convention, if it has one: the fixed end, or the end of the
    term during which it was denounced, whichever comes first."""
    if c.start_on is None:
        return c.end_on
    ends = [c.end_on] if c.end_on is not None else []
    if c.denounced_on is not None:
        ends.append(current_term(c.start_on, c.denounced_on)[1])
    return min(ends) if ends else None


def status_on(c: ConventionDates, day: date) -> str:
    """The status of the convention on ``day`` (a code of :data:`STATUSES`)."""
    if c.start_on is None or not c.signed:
        return "en_projet"
    end = ends_on(c)
    if end is not None and day > end:
        return "echue"
    if c.denounced_on is not None and day >= c.denounced_on:
        return "denoncee"
    return "reconduite" if term_index(c.start_on, day) >= 1 else "signee"


def next_renewal(c: ConventionDates, day: date) -> date | None:
    """The next tacit renewal after ``day`` (the first day of the next term), or None:
    not signed, denounced, or ended before it."""
    if c.start_on is None or not c.signed or c.denounced_on is not None:
        return None
    renewal = term_start(c.start_on, max(term_index(c.start_on, day), 0) + 1)
    if c.end_on is not None and renewal > c.end_on:
        return None
    return renewal


def renewals_done(c: ConventionDates, day: date) -> int:
    """How many tacit renewals the convention has had by ``day``."""
    if c.start_on is None or not c.signed:
        return 0
    last = day
    if (end := ends_on(c)) is not None:
        last = min(last, end)
    return max(term_index(c.start_on, last), 0)


def check_dates(
    start_on: date | None, end_on: date | None, signatures: Iterable[tuple[str, date | None]]
) -> None:
    """Refuse an end before the start and a signature after the start, naming the field."""
    if start_on is not None and end_on is not None and end_on < start_on:
        raise InvalidInputError(
            "end_before_start",
            field="end_on",
            end=f"{end_on:%d/%m/%Y}",
            start=f"{start_on:%d/%m/%Y}",
        )
    if end_on is not None and start_on is None:
        raise InvalidInputError("end_without_start", field="end_on")
    for role, signed_on in signatures:
        if role not in SIGNATORIES:
            raise InvalidInputError(
                "unknown_code", field="signatories", value=role, expected=list(SIGNATORIES)
            )
        if signed_on is not None and start_on is not None and signed_on > start_on:
            raise InvalidInputError(
                "signature_after_start",
                field="signatories",
                signatory=SIGNATORIES[role].lower(),
                signed_on=f"{signed_on:%d/%m/%Y}",
                start_on=f"{start_on:%d/%m/%Y}",
            )


def fully_signed(signatures: Iterable[tuple[str, date | None]]) -> bool:
    """Whether each of the three signatories has signed."""
    signed = {role for role, on in signatures if on is not None}
    return set(SIGNATORIES) <= signed


def check_denunciation(c: ConventionDates, denounced_on: date) -> None:
    """A convention is denounced once, while it runs (signed, begun, not ended)."""
    if c.start_on is None or not c.signed:
        raise StateConflictError("convention_draft_not_denounced", field="denounced_on")
    if c.denounced_on is not None:
        raise StateConflictError(
            "convention_already_denounced", field="denounced_on", day=f"{c.denounced_on:%d/%m/%Y}"
        )
    if denounced_on < c.start_on:
        raise InvalidInputError(
            "denounced_before_start",
            field="denounced_on",
            day=f"{denounced_on:%d/%m/%Y}",
            start_on=f"{c.start_on:%d/%m/%Y}",
        )
    end = ends_on(c)
    if end is not None and denounced_on > end:
        raise StateConflictError("convention_ended", field="denounced_on", day=f"{end:%d/%m/%Y}")


def departement_of(commune_code: str) -> str:
    """The département of an INSEE commune code: its first two characters, three for the
    overseas départements (97x).

    >>> departement_of("90010"), departement_of("2A004"), departement_of("97411")
    ('90', '2A', '974')
    """
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]


# -- the mayors' alerts -------------------------------------------------------------------
def in_quiet_hours(moment: time, quiet_from: time | None, quiet_to: time | None) -> bool:
    """Whether a local time of day lies in the quiet hours ``[quiet_from, quiet_to)``
    (which may span midnight); none without both bounds."""
    if quiet_from is None or quiet_to is None or quiet_from == quiet_to:
        return False
    if quiet_from < quiet_to:
        return quiet_from <= moment < quiet_to
    return moment >= quiet_from or moment < quiet_to


def quiet_release(at: datetime, quiet_from: time | None, quiet_to: time | None) -> datetime:
    """When an alert raised at ``at`` (aware) may be sent: ``at`` itself, or the end of
    the quiet hours (Paris time) it falls in.

    >>> from datetime import UTC
    >>> quiet_release(datetime(2026, 6, 1, 21, 30, tzinfo=UTC), time(22), time(7)).isoformat()
    '2026-06-02T05:00:00+00:00'
    >>> quiet_release(datetime(2026, 6, 1, 10, 0, tzinfo=UTC), time(22), time(7)).isoformat()
    '2026-06-01T10:00:00+00:00'
    """
    if at.tzinfo is None:
        raise InvalidInputError("datetime_needs_zone", field="at")
    local = at.astimezone(PARIS)
    if not in_quiet_hours(local.time(), quiet_from, quiet_to):
        return at
    assert quiet_to is not None
    release = datetime.combine(local.date(), quiet_to, tzinfo=PARIS)
    if release <= local:
        release = datetime.combine(local.date() + timedelta(days=1), quiet_to, tzinfo=PARIS)
    return release.astimezone(at.tzinfo)


def wants_alert(natures: Iterable[str], nature: str) -> bool:
    """Whether a mayor who chose ``natures`` (none: all of them) is alerted of ``nature``."""
    chosen = set(natures)
    return not chosen or nature in chosen


def points_inside(geom: Any, n: int, rng: np.random.Generator) -> list[Any]:
    """``n`` random points inside a polygon (rejection sampling in its bounds): where the
    demo's fictitious interventions took place."""
    minx, miny, maxx, maxy = geom.bounds
    out: list[Any] = []
    for _ in range(1000 * max(n, 1)):
        if len(out) == n:
            break
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom.contains(p):
            out.append(p)
    return out
