"""Accounts: creation with their bindings, listing, disabling, passwords, sign-in with
throttling, and personal access tokens. Every change is recorded in the audit trail
(:func:`api.services.audit_log.record`) in the same transaction.

Who may call these is the routes' policies' business (:mod:`api.access`); the context
says who acts and from which address (``ctx.actor``, ``ctx.address``), as for every
service.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.repositories import accounts as repo
from api.schemas import (
    AccountCreate,
    AccountPublic,
    AccountsPublic,
    NewTokenPublic,
    TokenPublic,
    TokensPublic,
)
from api.services.audit_log import record, record_write
from api.services.context import Context
from geo.accounts import (
    THROTTLE_WINDOW,
    Actor,
    changes_between,
    check_bindings,
    check_email,
    check_password,
    check_role,
    normalize_email,
    throttle_minutes,
)
from geo.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidInputError,
    PsqError,
    TooManyAttemptsError,
)
from geo.passwords import (
    TOKEN_PREFIX,
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_nothing,
    verify_password,
)

#: An account given by id or by e-mail address (the CLI's way).
AccountRef = int | str


def _ref(account: AccountRef) -> AccountRef:
    return account if isinstance(account, int) else normalize_email(account)


def _audited(account: AccountPublic) -> dict[str, Any]:
    """What the audit trail shows of an account (never its password hash)."""
    return account.model_dump(
        include={
            "email",
            "name",
            "role",
            "active",
            "gpo_ids",
            "commune_codes",
            "csp_ids",
            "partner_id",
        }
    )


# -- accounts -----------------------------------------------------------------------------
def create_account(ctx: Context, account_in: AccountCreate) -> AccountPublic:
    """Create an account and its bindings, all or nothing. Each refusal names its field:
    ``email`` (malformed, or taken: a conflict), ``role``, ``password``, ``gpo``,
    ``commune``, ``csp``."""
    email = check_email(account_in.email)
    role = check_role(account_in.role)
    check_password(account_in.password)
    check_bindings(
        role,
        gpos=account_in.gpo_ids,
        communes=account_in.commune_codes,
        csps=account_in.csp_ids,
    )
    if (account_in.partner_id is not None) != (role == "partenaire"):
        raise InvalidInputError("partner_account_only", field="partner", role=role)
    name = (account_in.name or "").strip() or email
    if len(name) > 200:
        raise InvalidInputError("text_too_long", field="name", limit=200)
    password_hash = hash_password(account_in.password)  # slow: before the transaction
    with ctx.write() as session:
        repo.lock_email(session, email)
        if repo.account_by_email(session, email) is not None:
            raise ConflictError("account_exists", field="email", email=email)
        account = repo.insert_account(
            session, email=email, name=name, role=role, password_hash=password_hash
        )
        repo.bind_account(
            session,
            account_id=account.id,
            gpo_ids=account_in.gpo_ids,
            commune_codes=account_in.commune_codes,
            csp_ids=account_in.csp_ids,
            partner_id=account_in.partner_id,
        )
        created = repo.get_account(session, account.id)
        record_write(
            session,
            ctx,
            "create",
            "account",
            created.id,
            changes=changes_between({}, _audited(created)),
        )
        return created


def get_account(ctx: Context, account: AccountRef) -> AccountPublic:
    """The account with this id or e-mail (:class:`NotFoundError` otherwise)."""
    with ctx.read() as session:
        return repo.get_account(session, repo.find_account(session, _ref(account)).id)


def has_accounts(ctx: Context) -> bool:
    """Whether any account exists (none: the first admin is still to be created)."""
    return list_accounts(ctx).count > 0


def list_accounts(ctx: Context) -> AccountsPublic:
    """Every account with its bindings, by e-mail."""
    with ctx.read() as session:
        return repo.list_accounts(session)


def _set_active(ctx: Context, account: AccountRef, active: bool) -> AccountPublic:
    with ctx.write() as session:
        row = repo.find_account(session, _ref(account), lock=True)
        if not active and ctx.actor.account_id == row.id:
            raise InvalidInputError("account_self_deactivation", field="active")
        if row.active != active:
            row.active = active
            session.flush()
            record_write(
                session,
                ctx,
                "update",
                "account",
                row.id,
                changes={"active": [not active, active]},
            )
        return repo.get_account(session, row.id)


def disable_account(ctx: Context, account: AccountRef) -> AccountPublic:
    """Disable an account: it can no longer sign in nor use its tokens (kept, with its
    history). Disabling a disabled account changes nothing and records nothing."""
    return _set_active(ctx, account, False)


def enable_account(ctx: Context, account: AccountRef) -> AccountPublic:
    """Enable a disabled account again."""
    return _set_active(ctx, account, True)


def set_password(ctx: Context, account: AccountRef, password: str) -> AccountPublic:
    """Replace an account's password (checked against the policy, stored as Argon2id)."""
    password_hash = hash_password(check_password(password))
    with ctx.write() as session:
        row = repo.find_account(session, _ref(account), lock=True)
        row.password_hash = password_hash
        session.flush()
        record_write(
            session,
            ctx,
            "update",
            "account",
            row.id,
            detail={"password": "changed"},
        )
        return repo.get_account(session, row.id)


# -- sign-in ------------------------------------------------------------------------------
def _attempt(
    session: Session, email: str, password: str, address: str | None
) -> AccountPublic | PsqError:
    """One sign-in attempt, recorded (in ``login_attempt`` and the audit trail): the
    account, or the error to raise once the records are committed."""
    repo.lock_email(session, email)
    failures = repo.recent_failures(session, email=email, address=address, window=THROTTLE_WINDOW)
    account = repo.account_by_email(session, email)
    if (minutes := throttle_minutes(*failures)) is not None:
        repo.add_login_attempt(session, email=email, address=address, outcome="throttled")
        detail = {
            "email": email,
            "failures_for_account": failures[0],
            "failures_from_address": failures[1],
        }
        record(
            session,
            Actor.anonymous(),
            "login_throttled",
            "account",
            None if account is None else account.id,
            detail=detail,
            address=address,
        )
        return TooManyAttemptsError(minutes)
    if account is None:
        verify_nothing(password)
        reason = "unknown e-mail"
    elif not verify_password(account.password_hash, password):
        reason = "wrong password"
    elif not account.active:
        reason = "disabled account"
    else:
        if needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        account.last_login_at = datetime.now(UTC)
        repo.add_login_attempt(session, email=email, address=address, outcome="success")
        record(session, Actor.account(account.id), "login", "account", account.id, address=address)
        return repo.get_account(session, account.id)
    repo.add_login_attempt(session, email=email, address=address, outcome="failure")
    record(
        session,
        Actor.anonymous(),
        "login_failed",
        "account",
        None if account is None else account.id,
        detail={"email": email, "reason": reason},
        address=address,
    )
    return InvalidCredentialsError()


def authenticate(ctx: Context, email: str, password: str) -> AccountPublic:
    """The account these credentials open, its sign-in recorded (``login``).

    Otherwise :class:`InvalidCredentialsError`, the same for an unknown e-mail, a wrong
    password and a disabled account (``login_failed`` records which); after
    :data:`geo.accounts.MAX_FAILURES_PER_ACCOUNT` failures for the e-mail or
    :data:`geo.accounts.MAX_FAILURES_PER_ADDRESS` from the address within
    :data:`geo.accounts.THROTTLE_WINDOW`, :class:`TooManyAttemptsError` (a subclass)
    without checking the password (``login_throttled``)."""
    with ctx.write() as session:
        outcome = _attempt(session, normalize_email(email), password, ctx.address)
    if isinstance(outcome, PsqError):
        raise outcome
    return outcome


# -- personal access tokens ---------------------------------------------------------------
def create_token(
    ctx: Context,
    account: AccountRef,
    name: str,
    *,
    expires_at: datetime | None = None,
) -> NewTokenPublic:
    """A new personal access token for the account. The token is in the answer, this
    once: only its SHA-256 is stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInputError("token_name_length", field="name")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInputError("time_zone_needed", field="expires_at")
        if expires_at <= datetime.now(UTC):
            raise InvalidInputError(
                "expiry_past", field="expires_at", when=f"{expires_at:%d/%m/%Y %H:%M}"
            )
    token = new_token()
    with ctx.write() as session:
        owner = repo.find_account(session, _ref(account))
        created = repo.insert_token(
            session,
            account_id=owner.id,
            name=name,
            token_hash=token_hash(token),
            expires_at=expires_at,
        )
        record_write(
            session,
            ctx,
            "create",
            "api_token",
            created.id,
            changes=changes_between(
                {}, {"account_id": owner.id, "name": name, "expires_at": expires_at}
            ),
        )
        return NewTokenPublic(**created.model_dump(), token=token)


def list_tokens(ctx: Context, account: AccountRef) -> TokensPublic:
    """The account's tokens, revoked and expired ones included (never the tokens)."""
    with ctx.read() as session:
        return repo.list_tokens(session, repo.find_account(session, _ref(account)).id)


def revoke_token(
    ctx: Context,
    token_id: int,
    *,
    owner: int | None = None,
) -> TokenPublic:
    """Revoke a token for good (revoking it again changes nothing). With ``owner`` (an
    account id), only a token of that account: another's is :class:`NotFoundError`, so
    that nobody learns which ids exist."""
    with ctx.write() as session:
        token, revoked_now = repo.revoke_token(session, token_id, account_id=owner)
        if revoked_now:
            record_write(
                session,
                ctx,
                "revoke",
                "api_token",
                token.id,
                changes={"revoked_at": [None, token.revoked_at]},
            )
        return token


def resolve_token(ctx: Context, token: str) -> AccountPublic | None:
    """The active account a bearer token opens (the token marked used now), or None for
    an unknown, revoked or expired token or a disabled account."""
    found = resolve_token_until(ctx, token)
    return None if found is None else found[0]


def resolve_token_until(ctx: Context, token: str) -> tuple[AccountPublic, datetime | None] | None:
    """:func:`resolve_token`, and until when the token is valid (None: no expiry)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with ctx.write() as session:
        used = repo.use_token(session, token_hash(token))
        if used is None:
            return None
        return repo.get_account(session, used[0]), used[1]
