"""The notification outbox as the direction reads it: each message with its delivery
attempts (never the attachment's bytes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from api.schemas.common import Page


class NotificationAttemptPublic(BaseModel):
    at: datetime
    #: ``sent`` or ``failed``.
    outcome: str
    #: Why it failed (the SMTP server's answer, a refused connection…).
    error: str | None


class NotificationPublic(BaseModel):
    id: int
    kind: str
    recipient: str
    subject: str
    #: ``pending``, ``sent`` or ``failed`` (attempts exhausted).
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    created_at: datetime
    dedupe_key: str | None
    entity_type: str | None
    entity_id: int | None
    attachment_name: str | None
    attachment_type: str | None
    attempt_log: list[NotificationAttemptPublic]


class NotificationsPublic(Page[NotificationPublic]):
    """A page of the outbox, newest first: ``count`` on this page, ``total`` matching."""

    total: int
    limit: int
    offset: int
