"""Web sessions: their rows, found by the SHA-256 of their id, valid only while neither
idle, expired, revoked nor of a disabled account."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from api.models import Account, WebSession


def insert_session(
    session: Session,
    *,
    session_hash: str,
    account_id: int,
    lifetime: timedelta,
    address: str | None,
    user_agent: str | None,
) -> WebSession:
    """A new session, expiring ``lifetime`` from now (the database's clock)."""
    row = WebSession(
        session_hash=session_hash,
        account_id=account_id,
        expires_at=func.now() + lifetime,
        address=address,
        user_agent=user_agent,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    return row


def use_session(
    session: Session, session_hash: str, *, idle: timedelta
) -> tuple[int, datetime] | None:
    """The account id and absolute expiry of the live session with this hash, its
    ``last_seen_at`` set to now; or None when it is unknown, revoked, past its absolute
    expiry, idle for ``idle`` or longer, or its account is disabled."""
    row = session.execute(
        update(WebSession)
        .where(
            WebSession.session_hash == session_hash,
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > func.now(),
            WebSession.last_seen_at > func.now() - idle,
            WebSession.account_id == Account.id,
            Account.active.is_(True),
        )
        .values(last_seen_at=func.now())
        .returning(WebSession.account_id, WebSession.expires_at)
    ).first()
    return None if row is None else (int(row[0]), row[1])


#: :func:`accounts_revision`'s statement, written once: every request with a credential
#: runs it, and building it with ``select()`` cost more CPU than running it.
_ACCOUNTS_REVISION = text(
    "SELECT (SELECT coalesce(sum(n), 0) FROM problem_revision "
    "WHERE csp_id = 0 AND topic = 'accounts'), now()"
)


def accounts_revision(session: Session) -> tuple[int, datetime]:
    """The revision of the accounts (migration 0024: rises with every committed change of
    who a credential opens or what they may see) and the database's time, in one query."""
    revision, now = session.execute(_ACCOUNTS_REVISION).one()
    return int(revision), now


def revoke_session(session: Session, session_hash: str) -> WebSession | None:
    """Revoke the session with this hash now, unless it already was: the row revoked
    now, or None (unknown or already revoked)."""
    row = session.scalar(
        select(WebSession)
        .where(WebSession.session_hash == session_hash, WebSession.revoked_at.is_(None))
        .with_for_update()
    )
    if row is None:
        return None
    row.revoked_at = session.scalar(select(func.now()))
    session.flush()
    return row


def purge_ended_sessions(session: Session, *, idle: timedelta) -> int:
    """Delete the sessions that can no longer be used (revoked, past their absolute
    expiry, or idle for ``idle``): they hold nothing the audit trail has not recorded.
    Returns how many."""
    result = session.execute(
        delete(WebSession).where(
            or_(
                WebSession.revoked_at.is_not(None),
                WebSession.expires_at <= func.now(),
                WebSession.last_seen_at <= func.now() - idle,
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
