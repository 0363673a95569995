"""Web sessions and who the caller is.

A session is opened after :func:`api.services.accounts.authenticate` (:func:`sign_in`):
its random id is handed to the client once, as the ``psq_session`` cookie or as the
bearer token of ``POST /api/auth/token``, and only its SHA-256 is stored. Each request
it comes with moves ``last_seen_at``; it ends after ``ctx.sessions.idle`` without a
request, ``ctx.sessions.lifetime`` after it was opened, or at sign-out
(:func:`close_session`), whichever comes first.

:func:`resolve_caller` turns the credentials of a request into a
:class:`geo.accounts.Caller`, in this order: an ``Authorization: Bearer`` value (a
personal access token ``psq_…`` or a session id ``psqs_…``), which alone decides when it
is given; otherwise the session cookie. Anything unknown, expired or revoked is None
(anonymous): deciding what an anonymous caller may do is the routes' business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from api.repositories import accounts as account_repo
from api.repositories import sessions as repo
from api.schemas import AccountPublic
from api.services import accounts
from api.services.audit_log import record
from api.services.context import Context
from geo.accounts import Actor, Caller
from geo.passwords import (
    SESSION_PREFIX,
    TOKEN_PREFIX,
    csrf_token,
    new_session_id,
    token_hash,
)

USER_AGENT_MAX_LENGTH = 300


@dataclass(frozen=True)
class OpenedSession:
    """A session just opened. ``session_id`` is the secret, given to the client this once
    (the cookie, the bearer token); ``csrf_token`` goes with a cookie session."""

    session_id: str
    csrf_token: str
    expires_at: datetime
    expires_in: int  # seconds until the absolute expiry
    account: AccountPublic


def open_session(ctx: Context, account_id: int, *, user_agent: str | None = None) -> OpenedSession:
    """A new session for the account, from the context's address (a new id at every
    sign-in: none is reused). Every sign-in also deletes the sessions that have ended, so
    the table holds live ones."""
    session_id = new_session_id()
    with ctx.write() as session:
        repo.purge_ended_sessions(session, idle=ctx.sessions.idle)
        row = repo.insert_session(
            session,
            session_hash=token_hash(session_id),
            account_id=account_id,
            lifetime=ctx.sessions.lifetime,
            address=ctx.address,
            user_agent=None if user_agent is None else user_agent[:USER_AGENT_MAX_LENGTH],
        )
        account = account_repo.get_account(session, account_id)
        return OpenedSession(
            session_id=session_id,
            csrf_token=csrf_token(session_id),
            expires_at=row.expires_at,
            expires_in=int(ctx.sessions.lifetime.total_seconds()),
            account=account,
        )


def sign_in(
    ctx: Context,
    email: str,
    password: str,
    *,
    user_agent: str | None = None,
) -> OpenedSession:
    """Check the credentials (throttled and recorded by
    :func:`~api.services.accounts.authenticate`, whose errors pass through) and open a
    session for the account."""
    account = accounts.authenticate(ctx, email, password)
    return open_session(ctx, account.id, user_agent=user_agent)


def resolve_session(ctx: Context, session_id: str) -> AccountPublic | None:
    """The account of the live session with this id (its ``last_seen_at`` moved to now),
    or None."""
    found = _resolve_session_until(ctx, session_id)
    return None if found is None else found[0]


def _resolve_session_until(ctx: Context, session_id: str) -> tuple[AccountPublic, datetime] | None:
    """:func:`resolve_session`, and the session's absolute expiry."""
    if not session_id.startswith(SESSION_PREFIX):
        return None
    with ctx.write() as session:
        used = repo.use_session(session, token_hash(session_id), idle=ctx.sessions.idle)
        if used is None:
            return None
        return account_repo.get_account(session, used[0]), used[1]


def close_session(ctx: Context, session_id: str) -> bool:
    """Revoke the session (sign-out), recorded as ``logout``; whether it was open."""
    if not session_id.startswith(SESSION_PREFIX):
        return False
    with ctx.write() as session:
        row = repo.revoke_session(session, token_hash(session_id))
        if row is None:
            return False
        record(
            session,
            Actor.account(row.account_id),
            "logout",
            "web_session",
            row.id,
            address=ctx.address,
        )
        return True


def caller_of(account: AccountPublic, via: str) -> Caller:
    return Caller(
        account_id=account.id,
        email=account.email,
        name=account.name,
        role=account.role,
        gpo_ids=tuple(account.gpo_ids),
        commune_codes=tuple(account.commune_codes),
        csp_ids=tuple(account.csp_ids),
        via=via,
        partner_id=account.partner_id,
        area_csp_ids=tuple(account.area_csp_ids),
    )


#: How long a resolved credential is kept without asking its row again: its session's
#: ``last_seen_at`` (or its token's ``last_used_at``) moves at most this often, and the
#: idle timeout is measured to this precision. Any change of an account, its bindings, a
#: token or a session moves the ``accounts`` revision and is seen at the next request.
RECHECK = timedelta(minutes=1)


@dataclass(frozen=True)
class _Resolved:
    caller: Caller
    until: datetime  # the database's time past which the credential is asked again


def resolve_caller(ctx: Context, *, bearer: str | None, cookie: str | None) -> Caller | None:
    """Who sends a request carrying these credentials, or None (anonymous): the bearer
    value first (a personal access token or a session id; when one is given the cookie
    is not looked at), then the session cookie.

    A credential resolved is kept in ``ctx.callers`` (by its hash) with the revision of
    the accounts it was resolved at (migration 0024), for at most :data:`RECHECK` and
    never past its expiry: while neither moves, a request costs one query (the revision
    and the database's time) instead of a write and three reads."""
    if bearer is not None:
        via = "token" if bearer.startswith(TOKEN_PREFIX) else "session"
        credential = bearer
    elif cookie:
        via, credential = "cookie", cookie
    else:
        return None
    if not credential.startswith((TOKEN_PREFIX, SESSION_PREFIX)):
        return None
    key = (via, token_hash(credential))
    with ctx.read_alone() as session:  # one round trip
        revision, now = repo.accounts_revision(session)
    found, held = ctx.callers.peek(key, revision)
    if found and isinstance(held, _Resolved) and now < held.until:
        return held.caller
    if via == "token":
        resolved = accounts.resolve_token_until(ctx, credential)
    else:
        resolved = _resolve_session_until(ctx, credential)
    if resolved is None:
        return None
    account, expires_at = resolved
    caller = caller_of(account, via)
    # a session idle for less than its idle timeout is asked again before it could end
    recheck = RECHECK if via == "token" else min(RECHECK, ctx.sessions.idle / 2)
    until = now + recheck if expires_at is None else min(now + recheck, expires_at)
    ctx.callers.put(key, revision, _Resolved(caller, until))
    return caller
