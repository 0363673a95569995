"""Delivering the notification outbox by e-mail (issue 17).

A use case writes its notifications in its own transaction with
:func:`api.repositories.notifications.enqueue` (re-exported here as :func:`enqueue`), so
that a message exists if and only if the event it tells was committed. Then
:func:`deliver_due` sends them: it claims one due ``pending`` notification at a time in a
short transaction (``FOR UPDATE SKIP LOCKED``: two workers never hold the same one), sends
it through SMTP while holding it, and records the attempt in the same transaction:
``sent``; or ``failed`` with the reason and a next attempt pushed back exponentially
(``backoff * 2^(attempts - 1)``, capped); or ``failed`` for good once the attempts are
exhausted or the server refused the message permanently. A server that is down loses
nothing: the message waits for the next attempt.

:class:`NotificationWorker` runs the reminders (:mod:`api.services.reminders`) and the
delivery every few seconds in a thread of the app (started when ``PSQ_SMTP_URL`` is set)
or of ``psq notify``. With several processes (``psq serve --workers N``, or several
servers on one database), each app starts one, but only the one holding the advisory
lock :data:`api.advisory.NOTIFY` runs its cycles; the others try to take it at each of
theirs, and one of them takes over within ``poll_seconds`` when its holder stops.
(Delivery is safe without it, by ``SKIP LOCKED``: the lock keeps the reminders' queries
and the SMTP connections to one process.)
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from api import advisory
from api.config import Settings
from api.mailer import Mail, MailError, SmtpServer, send
from api.repositories import notifications as repo
from api.repositories.notifications import STATUSES, enqueue
from api.schemas.notifications import NotificationsPublic
from api.services import reminders
from api.services.context import Context
from api.sms import SmsGateway, send_sms
from geo.errors import InvalidInputError

__all__ = [
    "Delivery",
    "DeliveryReport",
    "NotificationWorker",
    "deliver_due",
    "enqueue",
    "page",
    "retry_delay",
    "run_cycle",
]

log = logging.getLogger(__name__)

#: At most this many notifications on a page of the outbox.
MAX_PAGE = 500


@dataclass(frozen=True)
class Delivery:
    """How notifications are delivered: the SMTP server (``None``: not configured, they
    stay pending), the sender, the retry policy, and what the reminders need."""

    server: SmtpServer | None
    sender: str
    max_attempts: int = 8
    backoff: timedelta = timedelta(minutes=1)
    backoff_max: timedelta = timedelta(hours=6)
    poll_seconds: float = 5.0
    due_days: int = 7
    public_url: str | None = None
    #: The HTTP SMS gateway (``None``: SMS stay pending).
    sms: SmsGateway | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this delivery can send."""
        return tuple(c for c, on in (("email", self.server), ("sms", self.sms)) if on is not None)

    @classmethod
    def from_settings(cls, settings: Settings) -> Delivery:
        server = (
            SmtpServer.from_url(settings.smtp_url, timeout=settings.smtp_timeout)
            if settings.smtp_url
            else None
        )
        return cls(
            server=server,
            sender=settings.mail_from,
            max_attempts=settings.notify_max_attempts,
            backoff=timedelta(seconds=settings.notify_backoff_seconds),
            backoff_max=timedelta(seconds=settings.notify_backoff_max_seconds),
            poll_seconds=settings.notify_poll_seconds,
            due_days=settings.notify_due_days,
            public_url=settings.public_url,
            sms=(
                SmsGateway.from_settings(
                    settings.sms_url,
                    settings.sms_token,
                    sender=settings.sms_sender,
                    timeout=settings.smtp_timeout,
                )
                if settings.sms_url
                else None
            ),
        )


@dataclass
class DeliveryReport:
    """What one :func:`deliver_due` did."""

    sent: int = 0
    #: Failed attempts that will be retried.
    retried: int = 0
    #: Notifications given up (attempts exhausted, or refused for good).
    failed: int = 0


def retry_delay(attempts: int, delivery: Delivery) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: ``backoff *
    2^(attempts - 1)``, at most ``backoff_max``."""
    if attempts < 1:
        raise InvalidInputError("at_least_one_attempt", field="attempts", got=attempts)
    # 2^(attempts - 1) grows fast: cap the exponent before multiplying.
    factor = 2 ** min(attempts - 1, 40)
    return min(delivery.backoff * factor, delivery.backoff_max)


def _message_id(notification_id: int, sender: str) -> str:
    domain = sender.rpartition("@")[2].strip(" >") or "psq-secteurs"
    return f"<notification-{notification_id}@{domain}>"


def deliver_due(
    ctx: Context, delivery: Delivery, *, now: datetime | None = None, limit: int = 100
) -> DeliveryReport:
    """Send the notifications due at ``now`` (by default, the present), up to ``limit``,
    one transaction each: the e-mails through the SMTP server, the SMS through the
    gateway; a channel without its server waits."""
    report = DeliveryReport()
    channels = delivery.channels
    if not channels:
        return report
    for _ in range(limit):
        at = now or datetime.now(UTC)
        with ctx.write() as session:
            notification = repo.claim_next(session, now=at, channels=channels)
            if notification is None:
                break
            mail = Mail(
                sender=delivery.sender,
                recipient=notification.recipient,
                subject=notification.subject,
                body=notification.body,
                attachment=(
                    (
                        notification.attachment_name or "piece-jointe",
                        notification.attachment_type or "application/octet-stream",
                        notification.attachment,
                    )
                    if notification.attachment is not None
                    else None
                ),
                message_id=_message_id(notification.id, delivery.sender),
            )
            try:
                if notification.channel == "sms":
                    assert delivery.sms is not None
                    send_sms(
                        delivery.sms,
                        to=notification.recipient,
                        text=notification.body,
                        reference=f"notification-{notification.id}",
                    )
                else:
                    assert delivery.server is not None
                    send(delivery.server, mail)
            except MailError as exc:
                attempts = notification.attempts + 1
                give_up = exc.permanent or attempts >= delivery.max_attempts
                retry_at = None if give_up else at + retry_delay(attempts, delivery)
                repo.record_attempt(
                    session, notification, at=at, error=exc.reason, retry_at=retry_at
                )
                log.warning(
                    "notification %s to %s: attempt %s failed (%s)%s",
                    notification.id,
                    notification.recipient,
                    attempts,
                    exc.reason,
                    ", given up" if give_up else "",
                )
                if give_up:
                    report.failed += 1
                else:
                    report.retried += 1
            else:
                repo.record_attempt(session, notification, at=at, error=None, retry_at=None)
                report.sent += 1
    return report


def run_cycle(ctx: Context, delivery: Delivery, *, today: date | None = None) -> DeliveryReport:
    """One turn of the worker: queue the reminders due today (idempotent), then deliver
    what is due."""
    reminders.enqueue_reminders(
        ctx, today=today, due_days=delivery.due_days, public_url=delivery.public_url
    )
    return deliver_due(ctx, delivery)


#: The lock of the one notification worker that delivers (:mod:`api.advisory`).
LEADER = (advisory.NOTIFY, 0)


class NotificationWorker:
    """A daemon thread running :func:`run_cycle` every ``delivery.poll_seconds`` until
    :meth:`stop`. A cycle that fails (the database unreachable…) is logged and the next
    one runs as usual."""

    def __init__(self, ctx: Context, delivery: Delivery) -> None:
        self.ctx = ctx
        self.delivery = delivery
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="psq-notify", daemon=True)
        #: Whether this process's worker delivers (holds :data:`LEADER`) at its last cycle.
        self.leading = False

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        locks = advisory.HeldLocks.beside(self.ctx.factory)
        try:
            while not self._stop.is_set():
                try:
                    self.leading = locks.take(LEADER)
                    if self.leading:
                        run_cycle(self.ctx, self.delivery)
                except Exception:  # keep the worker alive; the cause is in the log
                    log.exception("notification worker: the cycle failed")
                self._stop.wait(self.delivery.poll_seconds)
        finally:
            self.leading = False
            locks.close()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop and wait for it: the message being sent is finished
        (every socket operation has a timeout), then the thread ends."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def page(
    ctx: Context, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> NotificationsPublic:
    """One page of the outbox, newest first, with the attempts of each notification."""
    if status is not None and status not in STATUSES:
        raise InvalidInputError(
            "unknown_code", field="status", value=str(status), expected=list(STATUSES)
        )
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError("page_limit", field="limit", limit=MAX_PAGE, got=limit)
    if offset < 0:
        raise InvalidInputError("page_offset", field="offset", got=offset)
    with ctx.read() as session:
        return repo.page_notifications(session, status=status, limit=limit, offset=offset)
