"""GPO meetings in the domain's terms: their statuses, the kinds of decisions, the next
date a cadence proposes, and the checks on a meeting's date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from geo.errors import InvalidInputError

MEETING_STATUSES: Mapping[str, str] = {
    "prevue": "Prévue",
    "close": "Tenue (compte rendu clos)",
    "annulee": "Annulée",
}
DECISION_KINDS: Mapping[str, str] = {
    "action": "Nouvelle action",
    "step": "Étape de la problématique",
    "evaluation": "Évaluation",
    "note": "Note",
}
#: How far ahead a meeting may be planned.
MAX_PLANNING_DAYS = 366


def next_meeting_on(held_on: date, cadence_days: int) -> date:
    """The next meeting the cadence proposes after one held on ``held_on``: the same
    weekday, ``cadence_days`` later (15 days: a fortnight later, rounded to whole weeks)."""
    weeks = max(1, round(cadence_days / 7))
    return held_on + timedelta(weeks=weeks)


def meeting_due(last_closed: date | None, created: date, cadence_days: int) -> date:
    """When a GPO's next meeting is due: its last closed meeting (its creation, if none)
    plus its cadence; past that day the GPO is « en retard »."""
    return (last_closed or created) + timedelta(days=cadence_days)


def check_meeting_day(day: date, *, gpo_created: date, today: date, field: str = "held_on") -> None:
    """A meeting's day: not before the GPO existed, not more than a year ahead."""
    if day < gpo_created:
        raise InvalidInputError(
            "meeting_before_gpo",
            field=field,
            day=f"{day:%d/%m/%Y}",
            created=f"{gpo_created:%d/%m/%Y}",
        )
    if day > today + timedelta(days=MAX_PLANNING_DAYS):
        raise InvalidInputError("meeting_too_far", field=field, day=f"{day:%d/%m/%Y}")
