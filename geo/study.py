"""What a problem map is drawn over: a study area (a GPO's sectors, a whole CSP, or one
commune) and a filter of the problems (period, categories, statuses), checked once for
every entry point."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import shapely

from geo.errors import InvalidInputError
from geo.problems import CATEGORIES, STATUSES, check_code

#: The longest period a map may cover.
MAX_PERIOD_DAYS = 3660


def period_days(start: date, end: date) -> int:
    """Days in the period from ``start`` to ``end``, both included."""
    return (end - start).days + 1


@dataclass(frozen=True)
class StudyArea:
    """Where a map is drawn: the sectors of a GPO in the adopted plan, a whole CSP
    (``sectors`` None), or one commune of a CSP (``commune_code``: its problems only).
    A thematic GPO's area holds only the problems of its theme's ``categories`` (None:
    every category)."""

    csp_id: int
    name: str
    outline: shapely.Geometry
    gpo_id: int | None = None
    sectors: tuple[int, ...] | None = None
    commune_code: str | None = None
    categories: tuple[str, ...] | None = None

    @property
    def key(
        self,
    ) -> tuple[int, int | None, tuple[int, ...] | None, str | None, tuple[str, ...] | None]:
        return (self.csp_id, self.gpo_id, self.sectors, self.commune_code, self.categories)


@dataclass(frozen=True)
class ProblemFilter:
    """Problems reported from ``since`` to ``until`` (both included), of the given
    categories and statuses (empty: all)."""

    since: date
    until: date
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    @classmethod
    def checked(
        cls,
        since: date | None,
        until: date | None,
        categories: list[str] | None = None,
        statuses: list[str] | None = None,
        *,
        today: date,
        default_days: int = 365,
        names: tuple[str, str] = ("from", "to"),
    ) -> ProblemFilter:
        """A filter with its codes and period checked (an error naming the bad value and
        its parameter, ``names``); the period defaults to the ``default_days`` up to
        ``today`` (the app's clock, :mod:`api.clock`)."""
        until = until or today
        if since is None:
            since = days_before(until, default_days - 1, names[1])
        if since > until:
            raise InvalidInputError(
                "period_start_after_end",
                field=names[0],
                since=f"{since:%d/%m/%Y}",
                until=f"{until:%d/%m/%Y}",
            )
        if period_days(since, until) > MAX_PERIOD_DAYS:
            raise InvalidInputError("period_too_long", field=names[0], days=MAX_PERIOD_DAYS)
        return cls(
            since=since,
            until=until,
            categories=tuple(
                sorted(check_code("category", c, CATEGORIES) for c in categories or [])
            ),
            statuses=tuple(sorted(check_code("status", s, STATUSES) for s in statuses or [])),
        )


def days_before(day: date, days: int, name: str) -> date:
    """``day`` minus ``days``; an error naming the parameter ``name`` before year 1."""
    try:
        return day - timedelta(days=days)
    except OverflowError:
        raise InvalidInputError("date_too_early", field=name, day=day.isoformat()) from None


def comparison_filters(
    *,
    since: date | None,
    until: date | None,
    before_since: date | None,
    before_until: date | None,
    categories: list[str] | None,
    statuses: list[str] | None,
    today: date,
) -> tuple[ProblemFilter, ProblemFilter]:
    """The two periods of a comparison: the second defaults to the 90 days up to
    ``today``, the first to the period of the same length just before it; they may not
    overlap."""
    after = ProblemFilter.checked(since, until, categories, statuses, today=today, default_days=90)
    before_until = before_until or days_before(after.since, 1, "from")
    if before_since is None:
        before_since = days_before(before_until, (after.until - after.since).days, "before_to")
    before = ProblemFilter.checked(
        before_since,
        before_until,
        categories,
        statuses,
        today=today,
        names=("before_from", "before_to"),
    )
    if before.until >= after.since:
        raise InvalidInputError(
            "periods_overlap",
            field="before_to",
            until=f"{before.until:%d/%m/%Y}",
            since=f"{after.since:%d/%m/%Y}",
        )
    return before, after


def recent_periods(until: date) -> tuple[ProblemFilter, ProblemFilter]:
    """The 90 days up to ``until`` (today, usually) and the 90 before, every problem:
    the default comparison (hot-spot trends of the queue, the meeting pack)."""
    return comparison_filters(
        since=None,
        until=until,
        today=until,
        before_since=None,
        before_until=None,
        categories=None,
        statuses=None,
    )


#: The longest text a problem search looks for.
MAX_SEARCH_TEXT = 200


@dataclass(frozen=True)
class ProblemSearch:
    """What the problems page lists and exports: the problems of a GPO (``gpo_id``: its
    sectors, and its theme's categories), of some sectors, categories and statuses,
    reported from ``since`` to ``until`` (both included, either open), whose title,
    description or address holds every word of ``text`` (case and accents ignored).
    Empty: no limit."""

    gpo_id: int | None = None
    sectors: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    text: str | None = None

    @classmethod
    def checked(
        cls,
        *,
        gpo_id: int | None = None,
        sectors: list[int] | None = None,
        categories: list[str] | None = None,
        statuses: list[str] | None = None,
        since: date | None = None,
        until: date | None = None,
        text: str | None = None,
        names: tuple[str, str] = ("since", "until"),
    ) -> ProblemSearch:
        """The search with its codes, period and text checked: a French error naming the
        bad parameter (``names``: the period's)."""
        for name, codes, known in (
            ("category", categories, CATEGORIES),
            ("status", statuses, STATUSES),
        ):
            unknown = sorted({c for c in codes or [] if c not in known})
            if unknown:
                raise InvalidInputError(
                    "unknown_code", field=name, value=", ".join(unknown), expected=list(known)
                )
        if since is not None and until is not None and since > until:
            raise InvalidInputError(
                "period_start_after_end",
                field=names[0],
                since=f"{since:%d/%m/%Y}",
                until=f"{until:%d/%m/%Y}",
            )
        words = (text or "").strip()
        if len(words) > MAX_SEARCH_TEXT:
            raise InvalidInputError("text_too_long", field="q", limit=MAX_SEARCH_TEXT)
        return cls(
            gpo_id=gpo_id,
            sectors=tuple(sorted(set(sectors or []))),
            categories=tuple(sorted(set(categories or []))),
            statuses=tuple(sorted(set(statuses or []))),
            since=since,
            until=until,
            text=words or None,
        )


#: French accented letters and the plain letters a search folds them to (the database
#: does the same with ``translate``: the ``unaccent`` extension may not be installed).
ACCENTED = "ÀÂÄÁÃÅàâäáãåÇçÉÈÊËéèêëÍÌÎÏíìîïÑñÓÒÔÖÕóòôöõÚÙÛÜúùûüÝŸýÿ"
PLAIN = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYYyy"
#: Ligatures, folded to two letters.
LIGATURES = {"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae"}


def folded(text: str) -> str:
    """``text`` in lower case without French accents or ligatures, as the search compares
    it (``Élève Cœur`` → ``eleve coeur``)."""
    text = text.translate(str.maketrans(ACCENTED, PLAIN))
    for ligature, letters in LIGATURES.items():
        text = text.replace(ligature, letters)
    return text.lower()
