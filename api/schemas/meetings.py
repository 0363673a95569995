"""GPO meetings: planned (date, time, place, invited partners), attended, decided problem
by problem, closed with their compte rendu; and their agenda."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import FREE_TEXT_NOTICE, DbInt, InputModel, LocalTime, Page
from api.schemas.problems import (
    ActionCreate,
    ActionPublic,
    EvaluationCreate,
    ProblemTransition,
)
from geo.errors import InvalidValueError

MeetingStatus = Literal["prevue", "close", "annulee"]
DecisionKind = Literal["action", "step", "evaluation", "note"]
VERSION_HELP = (
    "The version read (optimistic concurrency): a meeting changed since is refused with "
    "409. Omitted: no check."
)


class MeetingCreate(InputModel):
    """A meeting planned: by default every partner of the GPO is invited and the
    invitations (with an .ics file) are sent at once."""

    held_on: date = Field(description="The day of the meeting")
    starts_at: LocalTime | None = Field(default=None, description="Local time (Europe/Paris)")
    place: str | None = Field(default=None, max_length=200)
    invited_partner_ids: list[DbInt] | None = Field(
        default=None, max_length=200, description="null: every partner of the GPO"
    )
    send_invitations: bool = True


class AttendanceIn(InputModel):
    partner_id: DbInt
    present: bool
    represented_by: str | None = Field(default=None, max_length=200)


class MeetingUpdate(InputModel):
    """Reschedule a planned meeting (the invited are told again), or record its
    attendance and minutes. Fields left out are unchanged."""

    held_on: date | None = None
    starts_at: LocalTime | None = None
    place: str | None = Field(default=None, max_length=200)
    invited_partner_ids: list[DbInt] | None = Field(default=None, max_length=200)
    attendance: list[AttendanceIn] | None = Field(default=None, max_length=200)
    attendees: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None,
        max_length=100,
        description="People present who are not a partner organisation (the police side…)",
    )
    notes: str | None = Field(default=None, max_length=10_000, description=FREE_TEXT_NOTICE)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description=VERSION_HELP)


class MeetingClose(InputModel):
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description=VERSION_HELP)


class DecisionCreate(InputModel):
    """A decision of the meeting about a problem: a new action led by one partner, a step
    of the problem-solving cycle, an evaluation; or a note (with or without a problem)."""

    kind: DecisionKind
    problem_id: DbInt | None = Field(default=None, description="Required but for a note")
    text: str | None = Field(default=None, max_length=2000, description=FREE_TEXT_NOTICE)
    action: ActionCreate | None = Field(default=None, description="kind action")
    step: ProblemTransition | None = Field(default=None, description="kind step")
    evaluation: EvaluationCreate | None = Field(default=None, description="kind evaluation")

    @model_validator(mode="after")
    def _parts(self) -> DecisionCreate:
        needed = {"action": self.action, "step": self.step, "evaluation": self.evaluation}
        if self.kind in needed and needed[self.kind] is None:
            raise InvalidValueError("decision_detail_needed", field=self.kind)
        if self.kind != "note" and self.problem_id is None:
            raise InvalidValueError("decision_problem_needed", field="problem_id")
        if self.kind == "note" and not (self.text or "").strip():
            raise InvalidValueError("note_text_needed", field="text")
        return self


class MeetingPartnerPublic(BaseModel):
    partner_id: int
    organisation: str
    type_label: str
    contact_name: str | None
    invited: bool
    present: bool | None = Field(description="null until attendance is recorded")
    represented_by: str | None
    synthetic: bool


class DecisionPublic(BaseModel):
    id: int
    kind: DecisionKind
    kind_label: str
    problem_id: int | None
    problem_title: str | None
    action_id: int | None
    text: str
    created_at: datetime


class MeetingPublic(BaseModel):
    id: int
    gpo_id: int
    gpo_name: str
    status: MeetingStatus
    status_label: str
    held_on: date
    starts_at: LocalTime | None
    place: str | None
    partners: list[MeetingPartnerPublic]
    attendees: list[str]
    notes: str | None
    decisions: list[DecisionPublic]
    invited_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    has_report: bool = Field(description="The compte rendu PDF is stored")
    next_proposed_on: date | None = Field(description="Closed: the next date the cadence proposes")
    version: int
    synthetic: bool


MeetingsPublic = Page[MeetingPublic]


class AgendaProblem(BaseModel):
    id: int
    title: str
    category_label: str
    status: str
    status_label: str
    reported_on: date
    address: str | None
    synthetic: bool


class AgendaAction(ActionPublic):
    problem_id: int
    problem_title: str


class HotspotChange(BaseModel):
    trend: str = Field(description="new, intensifying, persistent or diminishing")
    label: str
    cells: int


class MeetingAgendaPublic(BaseModel):
    """What the meeting goes through, built from the GPO's records: the problems new since
    the last closed meeting, the actions due by the meeting or overdue, the hot-spot
    changes of the last 90 days, the problems whose actions are all finished and wait for
    an evaluation."""

    meeting_id: int
    since: date = Field(description="The last closed meeting (or the GPO's creation)")
    new_problems: list[AgendaProblem]
    due_actions: list[AgendaAction]
    hotspot_changes: list[HotspotChange] = Field(
        description="Cells of the GPO's territory per hot-spot trend (last 90 days against "
        "the 90 before)"
    )
    to_evaluate: list[AgendaProblem]
