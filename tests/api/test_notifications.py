"""The notification outbox (issue 17): written in the event's transaction, delivered by
SMTP to a real local server (aiosmtpd), retried with backoff, never sent twice; the
reminders of actions and GPO cadences; ``psq notify``; the direction's view of the
outbox."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from geoalchemy2 import WKTElement
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cluster import free_port
from api.config import Settings
from api.mailer import SmtpServer
from api.models import (
    Account,
    Action,
    Csp,
    Gpo,
    Meeting,
    Notification,
    NotificationAttempt,
    Partner,
    Problem,
    ProblemPlace,
    account_gpo,
)
from api.repositories import notifications as repo
from api.services import reminders
from api.services.context import Context
from api.services.notifications import Delivery, deliver_due, retry_delay
from geo.calendar import meeting_invitation
from geo.errors import InvalidInputError
from psq.app import create_app
from psq.cli import app as cli
from tests.clock import TODAY
from tests.roles import as_role
from tests.route_log import record_routes


# -- a real SMTP server -------------------------------------------------------------------
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """An aiosmtpd handler keeping what it receives; it refuses with a 550 the recipients
    in ``refused`` and takes ``delay`` seconds to accept a message."""

    messages: list[Received] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    delay: float = 0.0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        del server, session, rcpt_options
        if address in self.refused:
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        del server, session
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpTestServer:
    port: int
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_down() -> Iterator[SmtpTestServer]:
    """The same, not started yet: connections to its port are refused."""
    server = SmtpTestServer(port=free_port(), inbox=Inbox())
    yield server
    server.stop()


def delivery_to(server: SmtpTestServer, **kw: Any) -> Delivery:
    return Delivery(
        server=SmtpServer("127.0.0.1", server.port, "none", timeout=5),
        sender="PSQ Secteurs <psq@ddsp90.example>",
        **kw,
    )


def _count(factory: sessionmaker[Session], model: Any = Notification) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _queue(factory: sessionmaker[Session], n: int = 1, **kw: Any) -> list[int]:
    ids = []
    with factory() as session, session.begin():
        for i in range(n):
            args: dict[str, Any] = {
                "kind": "test",
                "recipient": "partenaire@mairie.example",
                "subject": f"Message {i}",
                "body": "Bonjour",
            } | kw
            new = repo.enqueue(session, **args)
            assert new is not None
            ids.append(new)
    return ids


def _row(factory: sessionmaker[Session], notification_id: int) -> Notification:
    with factory() as session:
        return session.get_one(Notification, notification_id)


def _attempts(factory: sessionmaker[Session], notification_id: int) -> list[tuple[str, Any]]:
    with factory() as session:
        return [
            (a.outcome, a.error)
            for a in session.scalars(
                select(NotificationAttempt)
                .where(NotificationAttempt.notification_id == notification_id)
                .order_by(NotificationAttempt.id)
            )
        ]


# -- the outbox -----------------------------------------------------------------------------
def test_enqueue_belongs_to_the_callers_transaction(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        new_id = repo.enqueue(
            session, kind="test", recipient="a@example.org", subject="S", body="B"
        )
        assert new_id is not None
        session.rollback()
    assert _count(factory) == 0
    with factory() as session, session.begin():
        repo.enqueue(session, kind="test", recipient="A@Example.org", subject="S", body="B")
    with factory() as session:
        row = session.scalars(select(Notification)).one()
    assert (row.recipient, row.status, row.attempts) == ("a@example.org", "pending", 0)


def test_a_dedupe_key_is_queued_once(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        first = repo.enqueue(
            session, kind="t", recipient="a@example.org", subject="S", body="B", dedupe_key="k"
        )
        second = repo.enqueue(
            session, kind="t", recipient="a@example.org", subject="S2", body="B", dedupe_key="k"
        )
    assert first is not None
    assert second is None
    assert _count(factory) == 1


def test_enqueue_refuses_a_bad_recipient(factory: sessionmaker[Session]) -> None:
    with (
        factory() as session,
        session.begin(),
        pytest.raises(InvalidInputError, match="adresse e-mail"),
    ):
        repo.enqueue(session, kind="t", recipient="pas une adresse", subject="S", body="B")


# -- delivery -------------------------------------------------------------------------------
def test_delivery_sends_the_message_and_its_invitation(
    factory: sessionmaker[Session], smtp: SmtpTestServer
) -> None:
    ics = meeting_invitation(
        uid="meeting-7@psq.example",
        sequence=1,
        method="REQUEST",
        day=date(2027, 3, 2),
        starts_at=time_of_day(14, 0),
        duration_minutes=60,
        summary="Réunion du GPO Belfort Centre",
        location="Commissariat, salle 2",
        description=None,
        organizer_name="Cne Dupont",
        organizer_email="chef@police.example",
        attendees=[("Mairie", "partenaire@mairie.example")],
        stamp=datetime(2027, 2, 20, 9, 0, tzinfo=UTC),
    )
    (nid,) = _queue(
        factory,
        kind="meeting-invitation",
        subject="Invitation : réunion du GPO Belfort Centre le 02/03/2027",
        body="Bonjour,\nvous êtes invité à la réunion du GPO.",
        attachment=("reunion.ics", "text/calendar; method=REQUEST", ics),
        entity=("meeting", 7),
    )
    report = deliver_due(Context(factory), delivery_to(smtp))
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)

    (received,) = smtp.inbox.messages
    assert received.mail_from == "psq@ddsp90.example"
    assert received.rcpt_tos == ["partenaire@mairie.example"]
    msg = received.message
    assert msg["Subject"] == "Invitation : réunion du GPO Belfort Centre le 02/03/2027"
    assert msg["To"] == "partenaire@mairie.example"
    assert msg["Message-ID"] == f"<notification-{nid}@ddsp90.example>"
    text = msg.get_body(("plain",))
    assert text is not None
    # On the wire, lines end in CRLF.
    body = text.get_content().replace("\r\n", "\n")
    assert body == "Bonjour,\nvous êtes invité à la réunion du GPO.\n"
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "reunion.ics"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar: Any = icalendar.Calendar.from_ical(payload)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Réunion du GPO Belfort Centre"
    assert int(event["SEQUENCE"]) == 1
    # March: Paris is UTC+1.
    assert event.decoded("DTSTART") == datetime(2027, 3, 2, 13, 0, tzinfo=UTC)

    row = _row(factory, nid)
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.sent_at is not None
    assert _attempts(factory, nid) == [("sent", None)]
    # Nothing is sent twice.
    assert deliver_due(Context(factory), delivery_to(smtp)).sent == 0
    assert len(smtp.inbox.messages) == 1


def test_a_server_down_loses_nothing_and_the_message_is_retried_with_backoff(
    factory: sessionmaker[Session], smtp_down: SmtpTestServer
) -> None:
    (nid,) = _queue(factory)
    ctx, delivery = Context(factory), delivery_to(smtp_down)
    t0 = datetime.now(UTC)
    report = deliver_due(ctx, delivery, now=t0)
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    row = _row(factory, nid)
    assert (row.status, row.attempts) == ("pending", 1)
    # backoff: 1 minute * 2^0
    assert row.next_attempt_at == t0 + timedelta(minutes=1)
    assert _attempts(factory, nid) == [("failed", "connexion refusée par le serveur SMTP")]

    # Not due yet: nothing is attempted.
    assert deliver_due(ctx, delivery, now=t0 + timedelta(seconds=59)).retried == 0
    # Due, still down: the second failure waits 1 minute * 2^1.
    t1 = t0 + timedelta(seconds=61)
    assert deliver_due(ctx, delivery, now=t1).retried == 1
    assert _row(factory, nid).next_attempt_at == t1 + timedelta(minutes=2)

    # The server is back: the message leaves at the next due attempt.
    smtp_down.start()
    t2 = t1 + timedelta(minutes=2)
    assert deliver_due(ctx, delivery, now=t2).sent == 1
    assert [m.message["Subject"] for m in smtp_down.inbox.messages] == ["Message 0"]
    row = _row(factory, nid)
    assert (row.status, row.attempts) == ("sent", 3)
    assert [a[0] for a in _attempts(factory, nid)] == ["failed", "failed", "sent"]


def test_a_server_that_never_answers_times_out(factory: sessionmaker[Session]) -> None:
    """A server that accepts the connection but never greets: the attempt ends at the
    timeout, failed, and the message waits for the next one."""
    (nid,) = _queue(factory)
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(1)  # connections complete in the backlog; nothing is ever sent
        port = mute.getsockname()[1]
        delivery = Delivery(
            server=SmtpServer("127.0.0.1", port, "none", timeout=0.5), sender="psq@ddsp90.example"
        )
        started = time.monotonic()
        report = deliver_due(Context(factory), delivery)
        elapsed = time.monotonic() - started
    assert report.retried == 1
    assert elapsed < 5
    assert _attempts(factory, nid) == [("failed", "délai dépassé en parlant au serveur SMTP")]
    assert _row(factory, nid).status == "pending"


def test_retry_delay_doubles_and_is_capped() -> None:
    delivery = Delivery(
        server=None,
        sender="x@example.org",
        backoff=timedelta(minutes=1),
        backoff_max=timedelta(minutes=10),
    )
    assert [retry_delay(n, delivery) for n in (1, 2, 3, 4, 5, 6, 500)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 10, 10, 10)
    ]


def test_a_message_is_failed_after_the_last_attempt(
    factory: sessionmaker[Session], smtp_down: SmtpTestServer
) -> None:
    (nid,) = _queue(factory)
    ctx, delivery = Context(factory), delivery_to(smtp_down, max_attempts=3)
    t = datetime.now(UTC)
    reports = [deliver_due(ctx, delivery, now=t + timedelta(hours=h)) for h in (0, 1, 2, 3)]
    assert [(r.retried, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    row = _row(factory, nid)
    assert (row.status, row.attempts, row.sent_at) == ("failed", 3, None)
    assert [a[0] for a in _attempts(factory, nid)] == ["failed"] * 3
    # Failed for good: the server back changes nothing.
    smtp_down.start()
    assert deliver_due(ctx, delivery, now=t + timedelta(days=1)).sent == 0
    assert smtp_down.inbox.messages == []


def test_a_recipient_refused_for_good_is_not_retried(
    factory: sessionmaker[Session], smtp: SmtpTestServer
) -> None:
    smtp.inbox.refused = {"inconnu@mairie.example"}
    (bad,) = _queue(factory, recipient="inconnu@mairie.example", subject="Pour l'inconnu")
    (good,) = _queue(factory, subject="Pour le partenaire")
    report = deliver_due(Context(factory), delivery_to(smtp))
    assert (report.sent, report.retried, report.failed) == (1, 0, 1)
    assert _row(factory, bad).status == "failed"
    ((outcome, error),) = _attempts(factory, bad)
    assert outcome == "failed"
    assert "550" in error
    assert "inconnu@mairie.example" in error
    assert _row(factory, good).status == "sent"
    assert [m.message["Subject"] for m in smtp.inbox.messages] == ["Pour le partenaire"]


def test_two_workers_never_send_a_message_twice(
    factory: sessionmaker[Session], smtp: SmtpTestServer
) -> None:
    smtp.inbox.delay = 0.02  # each message takes a while: the two workers overlap
    ids = _queue(factory, 30)
    barrier = threading.Barrier(2)
    reports: list[Any] = []

    def work() -> None:
        barrier.wait()
        reports.append(deliver_due(Context(factory), delivery_to(smtp)))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.sent for r in reports) != [0, 30], "the two workers did not overlap"
    assert sum(r.sent for r in reports) == 30
    subjects = sorted(m.message["Subject"] for m in smtp.inbox.messages)
    assert subjects == sorted(f"Message {i}" for i in range(30))
    with factory() as session:
        assert set(
            session.scalars(select(Notification.attempts).where(Notification.id.in_(ids)))
        ) == {1}
    assert _count(factory, NotificationAttempt) == 30


def test_smtp_url_parsing_keeps_the_password_out_of_sight() -> None:
    server = SmtpServer.from_url("smtps://alerte%40ddsp:s3cr%C3%A8t@mail.example:2465")
    assert (server.host, server.port, server.tls) == ("mail.example", 2465, "tls")
    assert (server.user, server.password) == ("alerte@ddsp", "s3crèt")
    assert "s3cr" not in server.describe()
    assert "s3cr" not in repr(server)
    assert SmtpServer.from_url("smtp+starttls://mail.example").port == 587
    assert SmtpServer.from_url("smtp://mail.example").port == 25
    with pytest.raises(InvalidInputError, match="PSQ_SMTP_URL"):
        SmtpServer.from_url("http://mail.example")
    with pytest.raises(InvalidInputError, match="PSQ_SMTP_URL"):
        SmtpServer.from_url("smtp://:25")


# -- reminders ------------------------------------------------------------------------------
SQUARE = "MULTIPOLYGON(((6.8 47.6, 6.9 47.6, 6.9 47.7, 6.8 47.7, 6.8 47.6)))"
POINT = "POINT(6.85 47.65)"


def _reminder_world(factory: sessionmaker[Session], today: date) -> dict[str, int]:
    """One CSP; GPO « Centre » late (last closed meeting 20 days ago, cadence 15: due 5
    days ago), GPO « Nord » on time, GPO « Sud » late but inactive; partner « Mairie »
    (contact: an e-mail) and « Bailleur » (contact: a telephone); accounts; a problem in
    GPO Centre with actions due at several dates."""
    ids: dict[str, int] = {}
    with factory() as s, s.begin():
        csp = Csp(code="belfort", name="CSP Belfort", geom=WKTElement(SQUARE, srid=4326))
        s.add(csp)
        s.flush()
        long_ago = datetime.now(UTC) - timedelta(days=90)
        centre = Gpo(
            csp_id=csp.id,
            kind="thematic",
            name="GPO Centre",
            cadence_days=15,
            chief_contact="Chef.Centre@Police.example",
            created_at=long_ago,
        )
        nord = Gpo(
            csp_id=csp.id,
            kind="thematic",
            name="GPO Nord",
            cadence_days=15,
            chief_contact="chef.nord@police.example",
            created_at=long_ago,
        )
        sud = Gpo(
            csp_id=csp.id,
            kind="thematic",
            name="GPO Sud",
            cadence_days=15,
            chief_contact="chef.sud@police.example",
            created_at=long_ago,
            active=False,
        )
        mairie = Partner(
            csp_id=csp.id,
            organisation="Mairie de Belfort",
            type="mairie",
            contact="pm@belfort.example",
        )
        bailleur = Partner(
            csp_id=csp.id,
            organisation="Territoire Habitat",
            type="bailleur_social",
            contact="03 84 00 00 00",
        )
        s.add_all([centre, nord, sud, mairie, bailleur])
        s.flush()
        s.add_all(
            [
                Meeting(gpo_id=centre.id, status="close", held_on=today - timedelta(days=20)),
                # A planned meeting does not count for the cadence.
                Meeting(gpo_id=centre.id, status="prevue", held_on=today + timedelta(days=2)),
                Meeting(gpo_id=nord.id, status="close", held_on=today - timedelta(days=5)),
            ]
        )

        def account(email: str, role: str, **kw: Any) -> Account:
            a = Account(email=email, name=email, role=role, password_hash="x", **kw)
            s.add(a)
            s.flush()
            return a

        account("agent@belfort.example", "partenaire", partner_id=mairie.id)
        account("ancien@belfort.example", "partenaire", partner_id=mairie.id, active=False)
        account("gardien@th.example", "partenaire", partner_id=bailleur.id)
        chef = account("chef.centre@police.example", "chef")
        adjoint = account("adjoint.centre@police.example", "chef")
        retired = account("retraite@police.example", "chef", active=False)
        partner_of_gpo = account("autre@belfort.example", "partenaire", partner_id=bailleur.id)
        s.execute(
            insert(account_gpo),
            [
                {"account_id": a.id, "gpo_id": centre.id}
                for a in (chef, adjoint, retired, partner_of_gpo)
            ],
        )
        problem = Problem(
            csp_id=csp.id,
            category="rassemblements",
            title="Squat du hall, 4 rue des Lilas",
            reported_on=today - timedelta(days=60),
            status_on=today - timedelta(days=60),
            geom=WKTElement(POINT, srid=4326),
            anchor=WKTElement(POINT, srid=4326),
        )
        demo_problem = Problem(
            csp_id=csp.id,
            category="rassemblements",
            title="Problème de démonstration",
            reported_on=today - timedelta(days=60),
            status_on=today - timedelta(days=60),
            geom=WKTElement(POINT, srid=4326),
            anchor=WKTElement(POINT, srid=4326),
            synthetic=True,
        )
        s.add_all([problem, demo_problem])
        s.flush()
        s.add(ProblemPlace(problem_id=problem.id, csp_id=csp.id, sector=0, gpo_id=centre.id))

        def action(name: str, due: int | None, status: str, partner: Partner, p: Problem) -> None:
            a = Action(
                problem_id=p.id,
                type="patrouilles",
                lead_partner_id=partner.id,
                start_on=today - timedelta(days=30),
                due_on=None if due is None else today + timedelta(days=due),
                status=status,
            )
            s.add(a)
            s.flush()
            ids[name] = a.id

        action("due_in_3", 3, "prevue", mairie, problem)
        action("overdue_2", -2, "en_cours", mairie, problem)
        action("due_today", 0, "prevue", bailleur, problem)
        action("due_in_10", 10, "prevue", mairie, problem)
        action("done_overdue", -5, "realisee", mairie, problem)
        action("dropped", 1, "abandonnee", mairie, problem)
        action("no_date", None, "prevue", mairie, problem)
        action("demo", 1, "prevue", mairie, demo_problem)
        ids |= {"centre": centre.id, "nord": nord.id, "sud": sud.id, "problem": problem.id}
    return ids


def test_reminders_reach_the_right_people_once(factory: sessionmaker[Session]) -> None:
    today = TODAY
    ids = _reminder_world(factory, today)
    ctx = Context(factory)
    queued = reminders.enqueue_reminders(
        ctx, today=today, due_days=7, public_url="https://psq.example.fr/"
    )
    with factory() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        got = {(r.kind, r.entity_type, r.entity_id, r.recipient) for r in rows}
    mairie = {"agent@belfort.example", "pm@belfort.example"}
    expected = (
        {("action-due", "action", ids["due_in_3"], m) for m in mairie}
        | {("action-overdue", "action", ids["overdue_2"], m) for m in mairie}
        # Territoire Habitat: its two partenaire accounts (its contact is a telephone).
        | {
            ("action-due", "action", ids["due_today"], m)
            for m in ("gardien@th.example", "autre@belfort.example")
        }
        | {
            ("gpo-late", "gpo", ids["centre"], m)
            for m in ("chef.centre@police.example", "adjoint.centre@police.example")
        }
    )
    assert got == expected
    assert queued == len(expected) == 8
    # Run again (the worker does, every few seconds): nothing new.
    assert reminders.enqueue_reminders(ctx, today=today, due_days=7) == 0
    assert _count(factory) == 8

    by_key = {(r.kind, r.entity_id, r.recipient): r for r in rows}
    due = by_key[("action-due", ids["due_in_3"], "pm@belfort.example")]
    day = (today + timedelta(days=3)).strftime("%d/%m/%Y")
    assert due.dedupe_key == (
        f"action-due:{ids['due_in_3']}:{(today + timedelta(days=3)).isoformat()}:pm@belfort.example"
    )
    assert due.subject == f"Action à échéance le {day} : Densification des patrouilles"
    assert "Mairie de Belfort" in due.body
    assert "dans 3 jour(s)" in due.body
    assert "Squat du hall, 4 rue des Lilas" in due.body
    assert "GPO : GPO Centre" in due.body
    assert f"https://psq.example.fr/gpo/{ids['centre']}" in due.body

    overdue = by_key[("action-overdue", ids["overdue_2"], "agent@belfort.example")]
    assert overdue.subject.startswith(
        f"Action en retard depuis le {(today - timedelta(days=2)).strftime('%d/%m/%Y')}"
    )
    assert "en retard de 2 jour(s)" in overdue.body

    late = by_key[("gpo-late", ids["centre"], "chef.centre@police.example")]
    due_on = today - timedelta(days=5)
    assert late.dedupe_key == (
        f"gpo-late:{ids['centre']}:{due_on.isoformat()}:chef.centre@police.example"
    )
    assert late.subject == f"GPO GPO Centre en retard : réunion attendue le {due_on:%d/%m/%Y}"
    assert "5 jour(s) de retard" in late.body
    assert f"{(today - timedelta(days=20)):%d/%m/%Y}" in late.body

    # A new due date is a new reminder.
    with factory() as session, session.begin():
        session.get_one(Action, ids["due_in_3"]).due_on = today + timedelta(days=4)
    assert reminders.enqueue_reminders(ctx, today=today, due_days=7) == 2


# -- the CLI and the app's worker -----------------------------------------------------------
def test_psq_notify_once(
    factory: sessionmaker[Session],
    smtp: SmtpTestServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _queue(factory, 2)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("PSQ_SMTP_URL", raising=False)
    runner = CliRunner()
    refused = runner.invoke(cli, ["notify", "--once"])
    assert refused.exit_code == 2
    assert "Ni PSQ_SMTP_URL ni PSQ_SMS_URL n'est défini" in refused.output
    assert smtp.inbox.messages == []

    monkeypatch.setenv("PSQ_SMTP_URL", smtp.url)
    monkeypatch.setenv("PSQ_MAIL_FROM", "psq@ddsp90.example")
    result = runner.invoke(cli, ["notify", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 envoyée(s), 0 à réessayer, 0 abandonnée(s)." in result.output
    assert sorted(m.message["Subject"] for m in smtp.inbox.messages) == ["Message 0", "Message 1"]
    assert {m.mail_from for m in smtp.inbox.messages} == {"psq@ddsp90.example"}


def test_the_app_runs_the_worker_when_smtp_is_set(
    settings: Settings, factory: sessionmaker[Session], smtp: SmtpTestServer
) -> None:
    configured = settings.model_copy(update={"smtp_url": smtp.url, "notify_poll_seconds": 0.1})
    with TestClient(record_routes(create_app(configured))):
        _queue(factory)
        deadline = time.monotonic() + 20
        while not smtp.inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m.message["Subject"] for m in smtp.inbox.messages] == ["Message 0"]
    # Stopped with the app: a message queued now stays pending.
    (later,) = _queue(factory, subject="Après l'arrêt")
    time.sleep(0.5)
    assert _row(factory, later).status == "pending"


def test_without_smtp_the_notifications_stay_pending(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    assert client.app.state.settings.smtp_url is None  # type: ignore[attr-defined]
    (nid,) = _queue(factory)
    time.sleep(0.5)
    assert _row(factory, nid).status == "pending"
    assert _attempts(factory, nid) == []


# -- the direction's view -------------------------------------------------------------------
def test_the_outbox_is_the_directions_to_read(
    client: TestClient, factory: sessionmaker[Session], smtp: SmtpTestServer
) -> None:
    smtp.inbox.refused = {"inconnu@mairie.example"}
    _queue(factory, attachment=("reunion.ics", "text/calendar; method=REQUEST", b"BEGIN:X"))
    _queue(factory, recipient="inconnu@mairie.example", subject="Refusé")
    deliver_due(Context(factory), delivery_to(smtp))
    _queue(factory, subject="En attente")

    answer = client.get("/api/notifications")
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert (page["count"], page["total"], page["limit"], page["offset"]) == (3, 3, 100, 0)
    newest, refused, sent = page["data"]
    assert (newest["subject"], newest["status"], newest["attempt_log"]) == (
        "En attente",
        "pending",
        [],
    )
    assert (refused["status"], refused["attempts"]) == ("failed", 1)
    assert refused["attempt_log"][0]["outcome"] == "failed"
    assert "550" in refused["attempt_log"][0]["error"]
    assert sent["status"] == "sent"
    assert sent["attachment_name"] == "reunion.ics"
    assert "attachment" not in sent
    assert "BEGIN:X" not in answer.text

    failed = client.get("/api/notifications", params={"status": "failed"}).json()
    assert [n["subject"] for n in failed["data"]] == ["Refusé"]
    assert (
        client.get("/api/notifications", params={"limit": 1, "offset": 1}).json()["data"][0][
            "subject"
        ]
        == "Refusé"
    )

    bad = client.get("/api/notifications", params={"status": "perdue"})
    assert bad.status_code == 422
    assert "status" in bad.text
    assert client.get("/api/notifications", params={"limit": 0}).status_code == 422

    with factory() as session, session.begin():
        csp = Csp(code="belfort", name="CSP Belfort", geom=WKTElement(SQUARE, srid=4326))
        session.add(csp)
        session.flush()
        gpo = Gpo(csp_id=csp.id, kind="thematic", name="GPO Centre")
        session.add(gpo)
        session.flush()
        gpo_id = gpo.id
    chef = as_role(client, "chef", gpo_ids=[gpo_id])
    assert client.get("/api/notifications", headers=chef).status_code == 403
    client.headers.pop("Authorization")
    assert client.get("/api/notifications").status_code == 401
