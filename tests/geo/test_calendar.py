"""The .ics writer: what it writes is parsed back with the ``icalendar`` library, and the
raw bytes follow RFC 5545 (CRLF, folding at 75 octets, TEXT escaping)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import icalendar
import pytest

from geo.calendar import escape_text, fold, meeting_invitation
from geo.errors import InvalidValueError

STAMP = datetime(2027, 1, 10, 16, 45, 12, tzinfo=UTC)


def _invite(**overrides: Any) -> bytes:
    args: dict[str, Any] = {
        "uid": "meeting-12@psq.example",
        "sequence": 0,
        "method": "REQUEST",
        "day": date(2027, 1, 14),
        "starts_at": time(9, 30),
        "duration_minutes": 90,
        "summary": "Réunion du GPO Centre-ville",
        "location": "Commissariat, salle 2",
        "description": "Ordre du jour : squats; rodéos urbains",
        "organizer_name": "Cne Dupont",
        "organizer_email": "chef.gpo@interieur.example",
        "attendees": [
            ("Mairie de Belfort", "police.municipale@belfort.example"),
            ("Bailleur Territoire Habitat", "gardien@th.example"),
        ],
        "stamp": STAMP,
    }
    args.update(overrides)
    return meeting_invitation(**args)


def _event(raw: bytes) -> tuple[Any, Any]:
    """The calendar and its one event, typed loosely: icalendar's property types are a
    union the assertions below do not need to narrow."""
    calendar: Any = icalendar.Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


def test_winter_meeting_is_converted_from_paris_time_to_utc() -> None:
    raw = _invite()
    calendar, event = _event(raw)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert "PSQ Secteurs" in str(calendar["PRODID"])
    assert str(event["UID"]) == "meeting-12@psq.example"
    assert int(event["SEQUENCE"]) == 0
    # January: Paris is UTC+1, so 09:30 is 08:30Z and 90 minutes later is 10:00Z.
    assert event.decoded("DTSTART") == datetime(2027, 1, 14, 8, 30, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2027, 1, 14, 10, 0, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == STAMP
    assert b"DTSTART:20270114T083000Z\r\n" in raw
    assert str(event["STATUS"]) == "CONFIRMED"


def test_summer_meeting_uses_the_summer_offset() -> None:
    # July: Paris is UTC+2, so 14:00 is 12:00Z; 45 minutes later is 12:45Z.
    _, event = _event(_invite(day=date(2027, 7, 1), starts_at=time(14, 0), duration_minutes=45))
    assert event.decoded("DTSTART") == datetime(2027, 7, 1, 12, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2027, 7, 1, 12, 45, tzinfo=UTC)


def test_meeting_across_the_autumn_change_keeps_its_real_duration() -> None:
    # 31 October 2027 (last Sunday of October): clocks go back at 03:00 local time.
    # 01:30 is still summer time (UTC+2): 23:30Z the day before; two hours later, 01:30Z.
    _, event = _event(_invite(day=date(2027, 10, 31), starts_at=time(1, 30), duration_minutes=120))
    assert event.decoded("DTSTART") == datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


def test_all_day_meeting_is_a_date_event() -> None:
    raw = _invite(starts_at=None)
    _, event = _event(raw)
    assert event.decoded("DTSTART") == date(2027, 1, 14)
    assert event.decoded("DTEND") == date(2027, 1, 15)
    assert b"DTSTART;VALUE=DATE:20270114\r\n" in raw


def test_text_with_accents_commas_semicolons_and_line_breaks_round_trips() -> None:
    description = "Présents : mairie, bailleur; absents : aucun.\nPoint 2 : « rodéos »\\fin"
    _, event = _event(
        _invite(
            summary="GPO Pépinière, réunion n°3",
            location="Hôtel de ville; salle des fêtes",
            description=description,
        )
    )
    assert str(event["SUMMARY"]) == "GPO Pépinière, réunion n°3"
    assert str(event["LOCATION"]) == "Hôtel de ville; salle des fêtes"
    assert str(event["DESCRIPTION"]) == description


def test_escape_text_by_hand() -> None:
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character() -> None:
    description = "Éléments à vérifier : " + "é" * 200 + " — fin des éléments."
    raw = _invite(description=description)
    assert raw.endswith(b"\r\n")
    # No bare LF: every line ends in CRLF.
    assert raw.count(b"\n") == raw.count(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    # Every physical line is valid UTF-8 on its own: no character was cut.
    for line in lines:
        line.decode("utf-8")
    continuation = [line for line in lines if line.startswith(b" ")]
    # 22 + 400 + 22 octets of description after "DESCRIPTION:": several folds.
    assert len(continuation) >= 6
    _, event = _event(raw)
    assert str(event["DESCRIPTION"]) == description


def test_fold_by_hand() -> None:
    # 74 ASCII octets then "é" (2 octets): the 75-octet limit would cut it, so it moves
    # to the continuation line, which starts with a space.
    line = "X" * 74 + "é"
    assert fold(line) == b"X" * 74 + b"\r\n \xc3\xa9\r\n"
    assert fold("short") == b"short\r\n"


def test_organizer_and_attendees() -> None:
    _, event = _event(_invite())
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:chef.gpo@interieur.example"
    assert organizer.params["CN"] == "Cne Dupont"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == [
        "mailto:police.municipale@belfort.example",
        "mailto:gardien@th.example",
    ]
    assert attendees[0].params["CN"] == "Mairie de Belfort"
    assert attendees[1].params["ROLE"] == "REQ-PARTICIPANT"
    assert attendees[1].params["RSVP"] == "TRUE"


def test_attendee_name_with_a_comma_is_quoted() -> None:
    raw = _invite(attendees=[("Durand, Marie", "m.durand@example.org")])
    assert b'ATTENDEE;CN="Durand, Marie";' in raw
    _, event = _event(raw)
    assert event["ATTENDEE"].params["CN"] == "Durand, Marie"


def test_cancellation() -> None:
    calendar, event = _event(_invite(method="CANCEL", sequence=3))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 3


def test_no_location_nor_description() -> None:
    _, event = _event(_invite(location=None, description=None))
    assert "LOCATION" not in event
    assert "DESCRIPTION" not in event


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"sequence": -1}, "sequence"),
        ({"stamp": datetime(2027, 1, 10, 16, 45)}, "stamp"),
        ({"organizer_email": "pas une adresse"}, "e-mail"),
        ({"attendees": [("X", "x@example.org\r\nATTENDEE:mailto:y@example.org")]}, "e-mail"),
    ],
)
def test_bad_values_are_refused(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError, match=field):
        _invite(**overrides)
