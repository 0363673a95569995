"""A small iCalendar (RFC 5545) writer: the ``.ics`` invitation of a GPO meeting.

One VCALENDAR holding one VEVENT, written by hand so that what we send is exactly what we
mean: CRLF line ends, TEXT values escaped (backslash, ``;``, ``,``, line breaks), content
lines folded at 75 octets without splitting a UTF-8 character. A meeting with a start time
is a timed event whose local time (Europe/Paris) is converted to UTC; a meeting without
one is an all-day event (``VALUE=DATE``).

A change of the meeting sends the same ``UID`` with a greater ``SEQUENCE``; a cancelled
meeting is sent with ``METHOD:CANCEL`` and ``STATUS:CANCELLED``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from geo.errors import InvalidValueError

PRODID = "-//PSQ Secteurs//Reunions GPO//FR"
LOCAL_ZONE = ZoneInfo("Europe/Paris")
_FOLD_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, every line
    break (CRLF, CR or LF) written ``\\n``."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value (``CN=…``): quoted when it holds ``:``, ``;`` or ``,``; a double
    quote, which a parameter value cannot hold, becomes a single one; line breaks become
    spaces."""
    value = value.replace('"', "'").replace("\r", " ").replace("\n", " ")
    if any(c in value for c in ":;,"):
        return f'"{value}"'
    return value


def fold(line: str) -> bytes:
    """One content line in UTF-8, folded so that no physical line exceeds 75 octets (the
    continuation lines start with a space, which counts), never inside a character."""
    out = bytearray()
    limit = _FOLD_OCTETS
    used = 0
    for char in line:
        encoded = char.encode("utf-8")
        if used + len(encoded) > limit:
            out += b"\r\n "
            used = 1
        out += encoded
        used += len(encoded)
    out += b"\r\n"
    return bytes(out)


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise InvalidValueError("datetime_needs_zone", field="stamp")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _mailto(email: str) -> str:
    email = email.strip()
    if not email or any(c in email for c in '\r\n ;,:"<>') or "@" not in email:
        raise InvalidValueError("not_an_email", field="email", value=email)
    return f"mailto:{email}"


def meeting_invitation(
    *,
    uid: str,
    sequence: int,
    method: Literal["REQUEST", "CANCEL"],
    day: date,
    starts_at: time | None,
    duration_minutes: int,
    summary: str,
    location: str | None,
    description: str | None,
    organizer_name: str,
    organizer_email: str,
    attendees: Sequence[tuple[str, str]],
    stamp: datetime,
) -> bytes:
    """The ``.ics`` of a meeting: ``attendees`` are ``(name, e-mail)`` pairs; ``starts_at``
    is a local time in Europe/Paris (``None``: an all-day event on ``day``); ``stamp``
    (aware) is when this version of the invitation was made."""
    if method not in ("REQUEST", "CANCEL"):
        raise InvalidValueError("ics_method", field="method", value=str(method))
    if sequence < 0:
        raise InvalidValueError("value_negative", field="sequence", value=sequence)
    if duration_minutes <= 0:
        raise InvalidValueError(
            "value_not_positive", field="duration_minutes", value=duration_minutes
        )
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_utc(stamp)}",
    ]
    if starts_at is None:
        lines.append(f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}")
        lines.append(f"DTEND;VALUE=DATE:{(day + timedelta(days=1)).strftime('%Y%m%d')}")
    else:
        # A wall-clock time that does not exist (the spring gap) or exists twice (the
        # autumn overlap) is read with fold=0, the first of the two offsets.
        start = datetime.combine(day, starts_at.replace(tzinfo=None), tzinfo=LOCAL_ZONE)
        end = start.astimezone(UTC) + timedelta(minutes=duration_minutes)
        lines.append(f"DTSTART:{_utc(start)}")
        lines.append(f"DTEND:{_utc(end)}")
    lines.append(f"SUMMARY:{escape_text(summary)}")
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    lines.append(f"ORGANIZER;CN={_param(organizer_name)}:{_mailto(organizer_email)}")
    for name, email in attendees:
        lines.append(
            f"ATTENDEE;CN={_param(name)};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;"
            f"RSVP=TRUE:{_mailto(email)}"
        )
    lines.append("STATUS:" + ("CANCELLED" if method == "CANCEL" else "CONFIRMED"))
    lines.append("TRANSP:OPAQUE")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return b"".join(fold(line) for line in lines)
