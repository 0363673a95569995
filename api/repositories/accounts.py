"""Accounts and their bindings (GPOs, communes, CSPs), personal access tokens, and the
sign-in attempts that throttling counts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import String, cast, func, insert, literal, or_, select, union_all, update
from sqlalchemy.orm import Session

from api.models import (
    Account,
    ApiToken,
    Commune,
    Csp,
    Gpo,
    LoginAttempt,
    Partner,
    account_commune,
    account_csp,
    account_gpo,
    csp_commune,
)
from api.repositories.base import require
from api.schemas import AccountPublic, AccountsPublic, TokenPublic, TokensPublic
from geo.accounts import ROLES
from geo.errors import InvalidInputError, NotFoundError


# -- accounts -----------------------------------------------------------------------------
def account_by_email(session: Session, email: str, *, lock: bool = False) -> Account | None:
    """The account with this (normalised) e-mail, or None."""
    query = select(Account).where(Account.email == email)
    return session.scalar(query.with_for_update() if lock else query)


def find_account(session: Session, account: int | str, *, lock: bool = False) -> Account:
    """The account with this id or (normalised) e-mail, or :class:`NotFoundError`."""
    if isinstance(account, int):
        return require(session, Account, account, lock=lock)
    found = account_by_email(session, account, lock=lock)
    if found is None:
        raise NotFoundError("account_not_found", field="email", account=account)
    return found


def lock_email(session: Session, email: str) -> None:
    """Serialise, until the transaction ends, what is done for one e-mail address (its
    creation, its sign-ins)."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext("account:" + email))))


def insert_account(
    session: Session, *, email: str, name: str, role: str, password_hash: str
) -> Account:
    account = Account(email=email, name=name, role=role, password_hash=password_hash)
    session.add(account)
    session.flush()
    return account


def _unknown(wanted: Iterable[object], found: Iterable[object]) -> list[str]:
    return sorted(str(v) for v in set(wanted) - set(found))


def bind_account(
    session: Session,
    *,
    account_id: int,
    gpo_ids: list[int],
    commune_codes: list[str],
    csp_ids: list[int],
    partner_id: int | None = None,
) -> None:
    """Bind the account to these GPOs, communes and CSPs, which must exist, and to the
    partner organisation it speaks for, which must be a partner of its GPOs' CSPs
    (:class:`InvalidInputError` naming ``gpo``, ``commune``, ``csp`` or ``partner``
    otherwise)."""
    checks = (
        ("gpo", "GPO", Gpo.id, gpo_ids, account_gpo, "gpo_id"),
        ("commune", "code commune", Commune.code, commune_codes, account_commune, "commune_code"),
        ("csp", "CSP", Csp.id, csp_ids, account_csp, "csp_id"),
    )
    for field, what, column, values, table, key in checks:
        if not values:
            continue
        found = session.scalars(select(column).where(column.in_(values))).all()
        if missing := _unknown(values, found):
            raise InvalidInputError(
                "unknown_ids", field=field, what=what, ids=[str(m) for m in missing]
            )
        session.execute(
            insert(table), [{"account_id": account_id, key: value} for value in set(values)]
        )
    if partner_id is not None:
        partner = session.get(Partner, partner_id)
        csps = set(session.scalars(select(Gpo.csp_id).where(Gpo.id.in_(gpo_ids))))
        if partner is None or partner.csp_id not in csps:
            raise InvalidInputError(
                "partner_not_in_account_csp", field="partner", partner_id=partner_id
            )
        account = session.get(Account, account_id)
        assert account is not None
        account.partner_id = partner_id
        session.flush()


Bindings = tuple[list[int], list[str], list[int], list[int]]


def _bindings(session: Session, account_ids: list[int]) -> dict[int, Bindings]:
    """Per account: its GPOs, communes, CSPs, and the CSPs all of them lie in (one query:
    it runs on every authenticated request)."""
    ids = account_ids
    kinds = union_all(
        select(account_gpo.c.account_id, literal(0), cast(account_gpo.c.gpo_id, String)).where(
            account_gpo.c.account_id.in_(ids)
        ),
        select(account_commune.c.account_id, literal(1), account_commune.c.commune_code).where(
            account_commune.c.account_id.in_(ids)
        ),
        select(account_csp.c.account_id, literal(2), cast(account_csp.c.csp_id, String)).where(
            account_csp.c.account_id.in_(ids)
        ),
        # the area: its CSPs, those of its GPOs, those of its communes
        select(account_csp.c.account_id, literal(3), cast(account_csp.c.csp_id, String)).where(
            account_csp.c.account_id.in_(ids)
        ),
        select(account_gpo.c.account_id, literal(3), cast(Gpo.csp_id, String))
        .join(Gpo, Gpo.id == account_gpo.c.gpo_id)
        .where(account_gpo.c.account_id.in_(ids)),
        select(account_commune.c.account_id, literal(3), cast(csp_commune.c.csp_id, String))
        .join(csp_commune, csp_commune.c.commune_code == account_commune.c.commune_code)
        .where(account_commune.c.account_id.in_(ids)),
    ).subquery()
    rows = session.execute(select(*kinds.c).distinct())
    sets: dict[int, tuple[set[int], set[str], set[int], set[int]]] = {
        i: (set(), set(), set(), set()) for i in ids
    }
    for account_id, kind, value in rows:
        sets[account_id][kind].add(value if kind == 1 else int(value))  # type: ignore[arg-type]
    return {i: (sorted(g), sorted(c), sorted(p), sorted(a)) for i, (g, c, p, a) in sets.items()}


def _public(account: Account, bindings: Bindings) -> AccountPublic:
    gpo_ids, commune_codes, csp_ids, area_csp_ids = bindings
    return AccountPublic(
        id=account.id,
        email=account.email,
        name=account.name,
        role=account.role,
        role_label=ROLES[account.role],
        active=account.active,
        created_at=account.created_at,
        last_login_at=account.last_login_at,
        gpo_ids=gpo_ids,
        commune_codes=commune_codes,
        csp_ids=csp_ids,
        partner_id=account.partner_id,
        area_csp_ids=area_csp_ids,
    )


def get_account(session: Session, account_id: int) -> AccountPublic:
    # Read again, for the server-side defaults and the values set with now().
    account = session.get(Account, account_id, populate_existing=True)
    if account is None:
        raise NotFoundError("not_found_by_id", what="compte", row_id=account_id)
    return _public(account, _bindings(session, [account_id])[account_id])


def list_accounts(session: Session) -> AccountsPublic:
    """Every account with its bindings, by e-mail."""
    accounts = session.scalars(select(Account).order_by(Account.email)).all()
    bindings = _bindings(session, [a.id for a in accounts])
    data = [_public(a, bindings[a.id]) for a in accounts]
    return AccountsPublic(data=data, count=len(data))


# -- sign-in attempts ---------------------------------------------------------------------
def add_login_attempt(session: Session, *, email: str, address: str | None, outcome: str) -> None:
    session.add(LoginAttempt(email=email, address=address, outcome=outcome))
    session.flush()


def recent_failures(
    session: Session, *, email: str, address: str | None, window: timedelta
) -> tuple[int, int]:
    """The failed sign-ins within ``window``: for this e-mail since its last success, and
    from this address (0 when it is unknown)."""
    since = func.now() - window
    last_success = (
        select(func.max(LoginAttempt.at))
        .where(LoginAttempt.email == email, LoginAttempt.outcome == "success")
        .scalar_subquery()
    )
    for_email = session.scalar(
        select(func.count()).where(
            LoginAttempt.email == email,
            LoginAttempt.outcome == "failure",
            LoginAttempt.at > since,
            or_(last_success.is_(None), LoginAttempt.at > last_success),
        )
    )
    from_address = 0
    if address is not None:
        from_address = (
            session.scalar(
                select(func.count()).where(
                    LoginAttempt.address == address,
                    LoginAttempt.outcome == "failure",
                    LoginAttempt.at > since,
                )
            )
            or 0
        )
    return for_email or 0, from_address


# -- personal access tokens ---------------------------------------------------------------
def _token_public(token: ApiToken) -> TokenPublic:
    return TokenPublic.model_validate(token, from_attributes=True)


def insert_token(
    session: Session,
    *,
    account_id: int,
    name: str,
    token_hash: str,
    expires_at: datetime | None,
) -> TokenPublic:
    token = ApiToken(account_id=account_id, name=name, token_hash=token_hash, expires_at=expires_at)
    session.add(token)
    session.flush()
    session.refresh(token)
    return _token_public(token)


def list_tokens(session: Session, account_id: int) -> TokensPublic:
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.id)
    ).all()
    return TokensPublic(data=[_token_public(t) for t in tokens], count=len(tokens))


def revoke_token(
    session: Session, token_id: int, *, account_id: int | None = None
) -> tuple[TokenPublic, bool]:
    """The token, revoked now unless it already was; and whether it was revoked now.
    With ``account_id``, a token of another account is :class:`NotFoundError` as well."""
    token = require(session, ApiToken, token_id, lock=True)
    if account_id is not None and token.account_id != account_id:
        raise NotFoundError("not_found_by_id", what="jeton d'accès", row_id=token_id)
    revoked_now = token.revoked_at is None
    if revoked_now:
        token.revoked_at = session.scalar(select(func.now()))
        session.flush()
    return _token_public(token), revoked_now


#: How often a token's ``last_used_at`` is written: the day it was last used is what the
#: account page says; writing it at every request made every read a write.
LAST_USE_PRECISION = timedelta(minutes=1)


def use_token(session: Session, token_hash: str) -> tuple[int, datetime | None] | None:
    """The id of the active account whose unexpired, unrevoked token has this hash, and
    the token's expiry, marking the token used now (when last marked over
    :data:`LAST_USE_PRECISION` ago); or None."""
    row = session.execute(
        select(
            ApiToken.id,
            ApiToken.account_id,
            ApiToken.expires_at,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < func.now() - LAST_USE_PRECISION,
            ),
        )
        .join(Account, Account.id == ApiToken.account_id)
        .where(
            ApiToken.token_hash == token_hash,
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > func.now()),
            Account.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    token_id, account_id, expires_at, stale = row
    if stale:
        session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=func.now())
        )
    return int(account_id), expires_at
