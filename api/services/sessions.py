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
from datetime import datetime

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
    if not session_id.startswith(SESSION_PREFIX):
        return None
    with ctx.write() as session:
        account_id = repo.use_session(session, token_hash(session_id), idle=ctx.sessions.idle)
        return None if account_id is None else account_repo.get_account(session, account_id)


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


def resolve_caller(ctx: Context, *, bearer: str | None, cookie: str | None) -> Caller | None:
    """Who sends a request carrying these credentials, or None (anonymous): the bearer
    value first (a personal access token or a session id; when one is given the cookie
    is not looked at), then the session cookie."""
    if bearer is not None:
        if bearer.startswith(TOKEN_PREFIX):
            account = accounts.resolve_token(ctx, bearer)
            return None if account is None else caller_of(account, "token")
        account = resolve_session(ctx, bearer)
        return None if account is None else caller_of(account, "session")
    if cookie:
        account = resolve_session(ctx, cookie)
        return None if account is None else caller_of(account, "cookie")
    return None
