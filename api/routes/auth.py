"""Sign-in, sign-out, the caller and their personal access tokens.

``POST /api/auth/token`` is the OAuth2 password flow for scripts: it opens a session
whose id is the bearer token. ``POST /api/auth/login`` is the pages' sign-in: the session
goes in the ``psq_session`` cookie (HttpOnly) with its CSRF token in ``psq_csrf``.
Personal access tokens (``/api/me/tokens``) are long-lived bearer tokens.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api import access
from api.deps import (
    SESSION_COOKIE,
    ContextDep,
    DbId,
    SignedInDep,
    bearer_of,
    clear_session_cookies,
    set_session_cookies,
)
from api.routes.responses import NOT_FOUND, Responses
from api.schemas import (
    AccessTokenPublic,
    ErrorPublic,
    LoginIn,
    MePublic,
    NewTokenPublic,
    TokenCreate,
    TokenPublic,
    TokensPublic,
)
from api.schemas.accounts import MAX_EMAIL, MAX_PASSWORD
from api.services import accounts, sessions
from geo.accounts import Caller

router = APIRouter(tags=["Authentification"])

SIGN_IN: Responses = {401: {"model": ErrorPublic}, 429: {"model": ErrorPublic}}
SIGNED_IN: Responses = {401: {"model": ErrorPublic}}


class PasswordForm(OAuth2PasswordRequestForm):
    """The OAuth2 password flow's form, each field bounded as the OpenAPI document says
    (an e-mail longer than the column of the sign-in attempts was the database's « texte
    trop long », naming no field; an empty one, FastAPI's « missing » for a schema that
    allowed it)."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form(min_length=1, max_length=MAX_EMAIL)],
        password: Annotated[str, Form(min_length=1, max_length=MAX_PASSWORD)],
        scope: Annotated[str, Form(max_length=1000)] = "",
        client_id: Annotated[str | None, Form(max_length=200)] = None,
        client_secret: Annotated[str | None, Form(max_length=200)] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


@router.post("/auth/token", responses=SIGN_IN, dependencies=[access.PUBLIC])
def issue_token(
    form: Annotated[PasswordForm, Depends()], request: Request, ctx: ContextDep
) -> AccessTokenPublic:
    """OAuth2 password flow (form fields ``username``: the e-mail, ``password``): a
    session id to send as ``Authorization: Bearer``. 401 with the same message for an
    unknown e-mail, a wrong password and a disabled account; 429 after too many
    failures."""
    opened = sessions.sign_in(
        ctx,
        form.username,
        form.password,
        user_agent=_user_agent(request),
    )
    return AccessTokenPublic(access_token=opened.session_id, expires_in=opened.expires_in)


@router.post("/auth/login", responses=SIGN_IN, dependencies=[access.PUBLIC])
def login(body: LoginIn, request: Request, response: Response, ctx: ContextDep) -> MePublic:
    """The pages' sign-in: the session in the ``psq_session`` cookie and its CSRF token
    in ``psq_csrf`` (to send back as ``X-CSRF-Token`` with every write)."""
    opened = sessions.sign_in(
        ctx,
        body.email,
        body.password,
        user_agent=_user_agent(request),
    )
    set_session_cookies(response, request, opened)
    return _me(sessions.caller_of(opened.account, "cookie"))


@router.post("/auth/logout", status_code=204, dependencies=[access.PUBLIC])
def logout(request: Request, response: Response, ctx: ContextDep) -> None:
    """End the session of the request (its bearer session id, else its cookie) and clear
    the cookies. Without a session, nothing to do: 204 all the same."""
    session_id = bearer_of(request) or request.cookies.get(SESSION_COOKIE)
    if session_id:
        sessions.close_session(ctx, session_id)
    clear_session_cookies(response, request)


def _me(caller: Caller) -> MePublic:
    return MePublic(
        id=caller.account_id,
        email=caller.email,
        name=caller.name,
        role=caller.role,
        role_label=caller.role_label,
        gpo_ids=list(caller.gpo_ids),
        commune_codes=list(caller.commune_codes),
        csp_ids=list(caller.csp_ids),
        via=caller.via,
    )


@router.get("/me", responses=SIGNED_IN, dependencies=[access.SIGNED_IN])
async def read_me(caller: SignedInDep) -> MePublic:
    """The signed-in caller: account, role (code and French label) and bindings (on the
    event loop: nothing to read but the caller)."""
    return _me(caller)


@router.get("/me/tokens", responses=SIGNED_IN, dependencies=[access.SIGNED_IN])
def read_my_tokens(caller: SignedInDep, ctx: ContextDep) -> TokensPublic:
    """The caller's personal access tokens, revoked and expired ones included."""
    return accounts.list_tokens(ctx, caller.account_id)


@router.post(
    "/me/tokens",
    status_code=201,
    responses={**SIGNED_IN, 422: {"model": ErrorPublic}},
    dependencies=[access.SIGNED_IN],
)
def create_my_token(body: TokenCreate, caller: SignedInDep, ctx: ContextDep) -> NewTokenPublic:
    """A new personal access token for the caller: ``token`` is in this answer only."""
    return accounts.create_token(
        ctx,
        caller.account_id,
        body.name,
        expires_at=body.expires_at,
    )


@router.delete(
    "/me/tokens/{token_id:int}",
    responses={**SIGNED_IN, **NOT_FOUND},
    dependencies=[access.SIGNED_IN],
)
def revoke_my_token(token_id: DbId, caller: SignedInDep, ctx: ContextDep) -> TokenPublic:
    """Revoke one of the caller's tokens (another account's token is a 404)."""
    return accounts.revoke_token(
        ctx,
        token_id,
        owner=caller.account_id,
    )
