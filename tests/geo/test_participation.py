"""The renewal arithmetic of the conventions de participation citoyenne (three-year terms,
tacit renewal, denunciation) and the quiet hours of the mayors' alerts: tables of dates
worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from geo.errors import InvalidInputError, StateConflictError
from geo.participation import (
    ConventionDates,
    check_dates,
    check_denunciation,
    current_term,
    ends_on,
    fully_signed,
    next_renewal,
    quiet_release,
    renewals_done,
    status_on,
    term_index,
)

START = date(2019, 4, 15)
SIGNED = ConventionDates(start_on=START, signed=True)


@pytest.mark.parametrize(
    ("day", "index", "term", "renewal", "status", "renewals"),
    [
        # before it begins: signed, first renewal three years after the start
        (date(2019, 4, 1), -1, (START, date(2022, 4, 14)), date(2022, 4, 15), "signee", 0),
        (START, 0, (START, date(2022, 4, 14)), date(2022, 4, 15), "signee", 0),
        (date(2022, 4, 14), 0, (START, date(2022, 4, 14)), date(2022, 4, 15), "signee", 0),
        # renewed tacitly on 15/04/2022, then on 15/04/2025
        (
            date(2022, 4, 15),
            1,
            (date(2022, 4, 15), date(2025, 4, 14)),
            date(2025, 4, 15),
            "reconduite",
            1,
        ),
        (
            date(2025, 4, 14),
            1,
            (date(2022, 4, 15), date(2025, 4, 14)),
            date(2025, 4, 15),
            "reconduite",
            1,
        ),
        (
            date(2025, 4, 15),
            2,
            (date(2025, 4, 15), date(2028, 4, 14)),
            date(2028, 4, 15),
            "reconduite",
            2,
        ),
        (
            date(2026, 12, 6),
            2,
            (date(2025, 4, 15), date(2028, 4, 14)),
            date(2028, 4, 15),
            "reconduite",
            2,
        ),
        (
            date(2031, 4, 15),
            4,
            (date(2031, 4, 15), date(2034, 4, 14)),
            date(2034, 4, 15),
            "reconduite",
            4,
        ),
    ],
)
def test_terms_and_tacit_renewal(
    day: date,
    index: int,
    term: tuple[date, date],
    renewal: date,
    status: str,
    renewals: int,
) -> None:
    assert term_index(START, day) == index
    assert current_term(START, day) == term
    assert next_renewal(SIGNED, day) == renewal
    assert status_on(SIGNED, day) == status
    assert renewals_done(SIGNED, day) == renewals


@pytest.mark.parametrize(
    ("day", "term", "renewal"),
    [
        # started a 29 February: its terms start on 28/02 in common years, 29/02 in leap ones
        (date(2027, 2, 27), (date(2024, 2, 29), date(2027, 2, 27)), date(2027, 2, 28)),
        (date(2027, 2, 28), (date(2027, 2, 28), date(2030, 2, 27)), date(2030, 2, 28)),
        (date(2033, 3, 1), (date(2033, 2, 28), date(2036, 2, 28)), date(2036, 2, 29)),
    ],
)
def test_leap_day_start(day: date, term: tuple[date, date], renewal: date) -> None:
    c = ConventionDates(start_on=date(2024, 2, 29), signed=True)
    assert current_term(date(2024, 2, 29), day) == term
    assert next_renewal(c, day) == renewal


@pytest.mark.parametrize(
    ("denounced", "day", "status", "end", "renewal"),
    [
        # denounced in the second term (15/04/2022-14/04/2025): runs to 14/04/2025
        (date(2024, 1, 10), date(2024, 1, 9), "reconduite", date(2025, 4, 14), None),
        (date(2024, 1, 10), date(2024, 1, 10), "denoncee", date(2025, 4, 14), None),
        (date(2024, 1, 10), date(2025, 4, 14), "denoncee", date(2025, 4, 14), None),
        (date(2024, 1, 10), date(2025, 4, 15), "echue", date(2025, 4, 14), None),
        # denounced on its last day of the first term: ends that day, no renewal
        (date(2022, 4, 14), date(2022, 4, 15), "echue", date(2022, 4, 14), None),
        # denounced on a renewal day: the new term has begun, it runs to its end
        (date(2022, 4, 15), date(2023, 1, 1), "denoncee", date(2025, 4, 14), None),
    ],
)
def test_denunciation(
    denounced: date, day: date, status: str, end: date, renewal: date | None
) -> None:
    c = ConventionDates(start_on=START, signed=True, denounced_on=denounced)
    assert status_on(c, day) == status
    assert ends_on(c) == end
    assert next_renewal(c, day) is renewal


def test_fixed_end_and_project() -> None:
    fixed = ConventionDates(start_on=START, signed=True, end_on=date(2023, 12, 31))
    assert next_renewal(fixed, date(2020, 1, 1)) == date(2022, 4, 15)
    assert next_renewal(fixed, date(2023, 1, 1)) is None  # 15/04/2025 is after the end
    assert status_on(fixed, date(2023, 12, 31)) == "reconduite"
    assert status_on(fixed, date(2024, 1, 1)) == "echue"
    assert renewals_done(fixed, date(2030, 1, 1)) == 1
    project = ConventionDates(start_on=START, signed=False)
    assert status_on(project, date(2024, 1, 1)) == "en_projet"
    assert next_renewal(project, date(2024, 1, 1)) is None
    assert status_on(ConventionDates(start_on=None, signed=True), date(2024, 1, 1)) == "en_projet"


def test_signatures_and_dates_refused_naming_the_field() -> None:
    assert fully_signed([("prefet", START), ("maire", START), ("chef_csp", START)])
    assert not fully_signed([("prefet", START), ("maire", None), ("chef_csp", START)])
    with pytest.raises(InvalidInputError, match=r"^Date de fin : la fin \(01/01/2019\) précède"):
        check_dates(START, date(2019, 1, 1), [])
    with pytest.raises(InvalidInputError, match=r"^Signataires : la signature du maire"):
        check_dates(START, None, [("maire", date(2019, 4, 16))])
    with pytest.raises(InvalidInputError, match=r"^Signataires : valeur inconnue"):
        check_dates(START, None, [("sous_prefet", START)])
    with pytest.raises(InvalidInputError, match=r"^Date de dénonciation : le 14/04/2019 précède"):
        check_denunciation(SIGNED, date(2019, 4, 14))
    ended = ConventionDates(start_on=START, signed=True, end_on=date(2020, 1, 1))
    with pytest.raises(StateConflictError, match="pris fin le 01/01/2020"):
        check_denunciation(ended, date(2020, 1, 2))


@pytest.mark.parametrize(
    ("at", "quiet", "release"),
    [
        # 22:00-07:00 Paris; summer time is UTC+2: 23:30 Paris waits until 07:00 = 05:00 UTC
        (
            datetime(2026, 6, 1, 21, 30, tzinfo=UTC),
            (time(22), time(7)),
            datetime(2026, 6, 2, 5, 0, tzinfo=UTC),
        ),
        # 03:00 Paris (01:00 UTC) waits until 07:00 the same day
        (
            datetime(2026, 6, 2, 1, 0, tzinfo=UTC),
            (time(22), time(7)),
            datetime(2026, 6, 2, 5, 0, tzinfo=UTC),
        ),
        # 07:00 Paris is no longer quiet
        (
            datetime(2026, 6, 2, 5, 0, tzinfo=UTC),
            (time(22), time(7)),
            datetime(2026, 6, 2, 5, 0, tzinfo=UTC),
        ),
        # winter time is UTC+1: 12:30 Paris in a 12:00-14:00 lunch break waits until 13:00 UTC
        (
            datetime(2026, 1, 5, 11, 30, tzinfo=UTC),
            (time(12), time(14)),
            datetime(2026, 1, 5, 13, 0, tzinfo=UTC),
        ),
        # no quiet hours
        (
            datetime(2026, 1, 5, 11, 30, tzinfo=UTC),
            (None, None),
            datetime(2026, 1, 5, 11, 30, tzinfo=UTC),
        ),
    ],
)
def test_quiet_hours(
    at: datetime, quiet: tuple[time | None, time | None], release: datetime
) -> None:
    assert quiet_release(at, *quiet) == release
