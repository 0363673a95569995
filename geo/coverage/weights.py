"""Demand of the maximal covering problem: the weight of each located problem.

Each located problem is a demand point weighing ``w = c · 0.5^(age / half-life)``: its
category's weight ``c`` (:data:`CATEGORY_WEIGHTS`) decayed by its age in days, so that a
problem reported 180 days ago (the default half-life) counts half as much as one reported
today.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from geo.errors import InvalidValueError

CATEGORY_WEIGHTS: Mapping[str, float] = {
    # Happen in the public space a street camera sees, and are what vidéoprotection is
    # installed for: deal points, gatherings, urban rodeos, drinking on the street.
    "stupefiants": 1.0,
    "rassemblements": 1.0,
    "rodeos": 1.0,
    "alcoolisation": 0.8,
    "nuisances": 0.8,
    # Visible from the street, but a camera only documents them (vidéoverbalisation).
    "stationnement": 0.7,
    # Partly in public space (stops, stations), partly inside vehicles.
    "transports": 0.6,
    # Visible, but a camera does little about a camp.
    "campements": 0.5,
    "autre": 0.5,
    # Mostly inside buildings: a street camera sees at best the way in or out.
    "cambriolages": 0.3,
    "scolaire": 0.2,
}
"""Default weight of a problem per category code (:data:`geo.problems.CATEGORIES`).

The weights say how much of the problem happens in the public space that a street camera
sees, from 1 (in the street) down to 0.2 (inside a school). They are a planning default,
not measured effect sizes (Piza et al. 2019 found CCTV's clearest effects on drug and
vehicle crime and in car parks); a caller may pass its own mapping.
"""

HALF_LIFE_DAYS = 180.0


def problem_weights(
    categories: Sequence[str],
    reported_on: Sequence[date],
    *,
    today: date,
    category_weights: Mapping[str, float] = CATEGORY_WEIGHTS,
    half_life_days: float = HALF_LIFE_DAYS,
) -> np.ndarray:
    """Weight of each problem: its category's weight halved every ``half_life_days``.

    ``w = category_weights[category] · 0.5 ** (age_days / half_life_days)`` with
    ``age_days = today - reported_on`` (a datetime counts by its date).

    Raises :class:`~geo.errors.InvalidValueError` (a ``ValueError``) naming an unknown
    category code, a date after ``today``, a missing date, a negative category weight, a
    non-positive half-life or sequences of different lengths.

    Examples
    --------
    >>> from datetime import date
    >>> problem_weights(
    ...     ["stupefiants", "cambriolages", "stupefiants"],
    ...     [date(2024, 6, 30), date(2024, 6, 30), date(2024, 1, 2)],
    ...     today=date(2024, 6, 30),
    ... ).round(3).tolist()
    [1.0, 0.3, 0.5]
    """
    if not half_life_days > 0 or not math.isfinite(half_life_days):
        raise InvalidValueError(
            "parameter_expected",
            name="half_life_days",
            expected="un nombre de jours positif",
            got=half_life_days,
        )
    categories = list(categories)
    reported = list(reported_on)
    if len(categories) != len(reported):
        raise InvalidValueError(
            "lengths_differ", first=len(categories), second=len(reported), what="problématique"
        )
    for code, weight in category_weights.items():
        if not (weight >= 0 and math.isfinite(weight)):
            raise InvalidValueError(
                "parameter_expected",
                name=f"poids de {code}",
                expected="un nombre positif ou nul",
                got=weight,
            )
    unknown = sorted({c for c in categories if c not in category_weights}, key=str)
    if unknown:
        raise InvalidValueError(
            "unknown_code", value=[str(u) for u in unknown], expected=list(category_weights)
        )
    if not reported:
        return np.zeros(0)
    days = pd.to_datetime(pd.Series(reported, dtype=object), errors="coerce")
    if days.isna().any():
        position = int(np.flatnonzero(days.isna().to_numpy())[0])
        raise InvalidValueError(
            "parameter_expected",
            name=f"reported_on[{position}]",
            expected="une date",
            got=reported[position],
        )
    day_numbers = days.to_numpy().astype("datetime64[D]")
    age = (np.datetime64(today, "D") - day_numbers).astype(np.int64)
    if (age < 0).any():
        position = int(np.flatnonzero(age < 0)[0])
        raise InvalidValueError("date_in_future", day=str(day_numbers[position]))
    base = np.array([category_weights[c] for c in categories], dtype=float)
    return base * 0.5 ** (age / half_life_days)
