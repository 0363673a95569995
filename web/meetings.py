"""The compte rendu of a closed GPO meeting: an A4 PDF marked « diffusion restreinte »,
rendered from the meeting and its GPO (``web/templates/meeting_report.html``) and printed
by Chromium (:func:`web.printing.print_html`). The app stores it when the meeting is
closed (``app.state.meeting_report_printer``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from api import clock
from api.schemas import GpoPublic, MeetingPublic
from api.schemas.meetings import DecisionPublic, MeetingPartnerPublic
from web.printing import long_date, print_html

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)), cache_size=10
)


def french_time(t: time) -> str:
    """« 14 h 30 »."""
    return f"{t.hour} h {t.minute:02d}"


@dataclass
class DecisionGroup:
    """The decisions about one problem (``title`` None: the notes about no problem)."""

    problem_id: int | None
    title: str | None
    decisions: list[DecisionPublic] = field(default_factory=list)


def decisions_by_problem(decisions: list[DecisionPublic]) -> list[DecisionGroup]:
    """The decisions grouped by problem, in the order their problems first come up; the
    notes about no problem last."""
    groups: dict[int | None, DecisionGroup] = {}
    for decision in decisions:
        key = decision.problem_id
        if key not in groups:
            groups[key] = DecisionGroup(key, decision.problem_title)
        groups[key].decisions.append(decision)
    ordered = [g for k, g in groups.items() if k is not None]
    return ordered + ([groups[None]] if None in groups else [])


def attendance(
    partners: list[MeetingPartnerPublic],
) -> dict[str, list[MeetingPartnerPublic]]:
    """The partners present (themselves or represented), excused (invited and absent) and
    whose attendance was not recorded."""
    present = [p for p in partners if p.present]
    excused = [p for p in partners if p.present is False and p.invited]
    unknown = [p for p in partners if p.present is None and p.invited]
    return {"present": present, "excused": excused, "unknown": unknown}


def report_html(
    meeting: MeetingPublic, gpo: GpoPublic, *, printed_at: datetime | None = None
) -> str:
    """The compte rendu as a self-contained A4 page."""
    context: dict[str, Any] = {
        "meeting": meeting,
        "gpo": gpo,
        "attendance": attendance(meeting.partners),
        "groups": decisions_by_problem(meeting.decisions),
        "long_date": long_date,
        "french_time": french_time,
        "printed_at": printed_at or clock.now(),
    }
    return _env.get_template("meeting_report.html").render(context)


def print_meeting_report(meeting: MeetingPublic, gpo: GpoPublic) -> bytes:
    """The compte rendu of ``meeting`` (of ``gpo``) as an A4 PDF."""
    return print_html(report_html(meeting, gpo), "pdf")
