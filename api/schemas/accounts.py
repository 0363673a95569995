"""Accounts, their personal access tokens, and the lines of the audit trail.

An account's role, e-mail, password and bindings are checked by the service
(:mod:`api.services.accounts`, with :mod:`geo.accounts`), so that the API and the CLI
refuse the same input with the same message naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas.common import DbInt, InputModel, Page

#: The longest e-mail address (RFC 5321's path: 254, the accounts' and sign-in attempts'
#: column) and password a request may send.
MAX_EMAIL, MAX_PASSWORD = 254, 1000
#: The most GPOs, communes or CSPs one account is bound to.
MAX_BINDINGS = 500


class AccountCreate(InputModel):
    email: str = Field(max_length=MAX_EMAIL)
    name: str | None = Field(
        default=None, max_length=200, description="shown name (default: the e-mail)"
    )
    role: str = Field(max_length=50, description="a code of geo.accounts.ROLES")
    password: str = Field(max_length=MAX_PASSWORD, repr=False)
    gpo_ids: list[DbInt] = Field(
        default_factory=list, max_length=MAX_BINDINGS, description="chef, partenaire"
    )
    commune_codes: list[Annotated[str, Field(max_length=10)]] = Field(
        default_factory=list, max_length=MAX_BINDINGS, description="commune (INSEE codes)"
    )
    csp_ids: list[DbInt] = Field(
        default_factory=list, max_length=MAX_BINDINGS, description="planificateur, referent"
    )
    partner_id: DbInt | None = Field(
        default=None, description="partenaire: the organisation whose actions it updates"
    )


class AccountPublic(BaseModel):
    id: int
    email: str
    name: str
    role: str
    role_label: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    gpo_ids: list[int]
    commune_codes: list[str]
    csp_ids: list[int]
    partner_id: int | None = None
    #: The CSPs its bindings lie in (its own, or those of its GPOs or communes).
    area_csp_ids: list[int] = Field(default_factory=list)


AccountsPublic = Page[AccountPublic]


class AccountUpdate(InputModel):
    active: bool = Field(description="false: it can no longer sign in nor use its tokens")


class TokenPublic(BaseModel):
    """A personal access token as listed: never the token itself."""

    id: int
    account_id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


TokensPublic = Page[TokenPublic]


class NewTokenPublic(TokenPublic):
    """A token just created: ``token`` is shown this once and stored only as a hash."""

    token: str = Field(repr=False)


class TokenCreate(InputModel):
    """A personal access token to create for the caller."""

    name: str = Field(max_length=1000, description="what the token is for (1 to 100 characters)")
    expires_at: datetime | None = Field(default=None, description="with its time zone")


class LoginIn(InputModel):
    """A sign-in from the page /connexion (the session goes in a cookie)."""

    email: str = Field(max_length=MAX_EMAIL)
    password: str = Field(max_length=MAX_PASSWORD, repr=False)


class AccessTokenPublic(BaseModel):
    """The answer of ``POST /api/auth/token`` (OAuth2 password flow): a session id to send
    as ``Authorization: Bearer``, valid ``expires_in`` seconds at most (and ended sooner
    by the idle expiry or ``POST /api/auth/logout``)."""

    access_token: str = Field(repr=False)
    token_type: str = "bearer"
    expires_in: int


class MePublic(BaseModel):
    """The caller: their account, role and bindings, and how they are signed in
    (``cookie``, ``session``: a bearer session id, ``token``: a personal access token)."""

    id: int
    email: str
    name: str
    role: str
    role_label: str
    gpo_ids: list[int]
    commune_codes: list[str]
    csp_ids: list[int]
    via: str


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_account_id: int | None
    address: str | None
    action: str
    entity: str
    entity_id: str | None
    changes: dict[str, Any] | None
    detail: dict[str, Any] | None


AuditEntriesPublic = Page[AuditEntryPublic]


class AuditLogPublic(Page[AuditEntryPublic]):
    """A page of the audit trail: ``count`` entries on this page, ``total`` matching."""

    total: int
    limit: int
    offset: int
