"""The app's one clock: what day it is (``today()``) and what time (``now()``).

Every computation of the app's calendar asks it: the default dates of the forms and the
filters, what is due or overdue, the periods of the maps and reports, the end of the
demo's synthetic history, the checks that a date is not in the future. ``PSQ_TODAY``
(an ISO date, :class:`api.config.Settings`) freezes the day: the tests do, so that a run
that crosses midnight, or runs on another day, sees the same data and the same answers.
:func:`freeze` sets it for the process (``create_app`` and the CLI call it with the
settings' value); without it, the clock reads ``PSQ_TODAY`` from the environment once,
else the real date.

What stays on real time: the security clocks (web sessions, tokens, sign-in throttling,
compared by PostgreSQL with ``now()``), the outbox's delivery schedule, and the columns
PostgreSQL stamps itself (``server_default=func.now()``: ``created_at``, the audit
trail's ``at``).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from geo.errors import InvalidValueError

_UNSET = object()
_frozen: date | object | None = _UNSET


def _from_environment() -> date | None:
    value = os.environ.get("PSQ_TODAY", "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidValueError("psq_today_not_a_date", field="PSQ_TODAY", value=value) from exc


def freeze(day: date | None) -> None:
    """From now on, ``today()`` is ``day`` (``None``: the real date)."""
    global _frozen
    _frozen = day


def frozen() -> date | None:
    """The frozen day, if any."""
    global _frozen
    if _frozen is _UNSET:
        _frozen = _from_environment()
    return _frozen if isinstance(_frozen, date) else None


def today() -> date:
    """Today's date: the frozen day when there is one, else the real date."""
    return frozen() or date.today()


def now() -> datetime:
    """The present, aware (UTC): on a frozen day, that day at the real time of day, so
    that ``now().date()`` is ``today()`` (in UTC)."""
    real = datetime.now(UTC)
    day = frozen()
    return real if day is None else datetime.combine(day, real.timetz())
