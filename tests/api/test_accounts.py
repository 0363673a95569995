"""Accounts against PostGIS: creation with bindings and each refusal naming its field,
Argon2id hashes, sign-in with one generic failure and throttling, personal access
tokens, and the audit trail (append-only in the database itself)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.errors import status_for
from api.schemas import AccountCreate
from api.services import accounts, audit_log
from api.services.context import Context
from geo.accounts import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, ROLES, Actor
from geo.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
    TooManyAttemptsError,
)

PASSWORD = "correct horse battery"
ADMIN = Actor.cli("tester")
SQUARE = "MULTIPOLYGON(((6.8 47.6, 6.9 47.6, 6.9 47.7, 6.8 47.7, 6.8 47.6)))"


@pytest.fixture
def ctx(factory: sessionmaker[Session]) -> Iterator[Context]:
    yield Context(factory)


@pytest.fixture
def territory(factory: sessionmaker[Session]) -> dict[str, Any]:
    """A commune, its CSP and a thematic GPO: what accounts are bound to."""
    with factory() as session, session.begin():
        session.execute(
            text(
                "INSERT INTO commune (code, name, geom) "
                "VALUES ('90010', 'Belfort', ST_GeomFromText(:g, 4326))"
            ),
            {"g": SQUARE},
        )
        csp_id = session.scalar(
            text(
                "INSERT INTO csp (code, name, geom) "
                "VALUES ('belfort', 'CSP Belfort', ST_GeomFromText(:g, 4326)) RETURNING id"
            ),
            {"g": SQUARE},
        )
        session.execute(text("INSERT INTO csp_commune VALUES (:c, '90010')"), {"c": csp_id})
        gpo_id = session.scalar(
            text(
                "INSERT INTO gpo (csp_id, kind, name, theme) "
                "VALUES (:c, 'thematic', 'GPO Centre', NULL) RETURNING id"
            ),
            {"c": csp_id},
        )
    return {"csp_id": csp_id, "gpo_id": gpo_id, "commune": "90010"}


def new(email: str = "chef.nord@police.example", role: str = "admin", **kw: Any) -> AccountCreate:
    return AccountCreate(email=email, role=role, password=kw.pop("password", PASSWORD), **kw)


def from_address(ctx: Context, address: str) -> Context:
    """The context of a sign-in from this network address."""
    return ctx.acting(Actor.anonymous(), address)


def entries(ctx: Context, **filters: Any) -> list[Any]:
    return audit_log.list_entries(ctx, **filters).data


# -- creation -----------------------------------------------------------------------------
def test_create_accounts_with_their_bindings(ctx: Context, territory: dict[str, Any]) -> None:
    chef = accounts.create_account(
        ctx.acting(ADMIN, "10.0.0.1"),
        new("Chef.Nord@Police.Example", "chef", name="Lt Martin", gpo_ids=[territory["gpo_id"]]),
    )
    assert chef.email == "chef.nord@police.example"
    assert (chef.name, chef.role, chef.role_label) == ("Lt Martin", "chef", "Chef de secteur")
    assert chef.active and chef.last_login_at is None and chef.created_at is not None
    assert chef.gpo_ids == [territory["gpo_id"]]
    mairie = accounts.create_account(
        ctx.acting(ADMIN), new("maire@belfort.example", "commune", commune_codes=["90010"])
    )
    assert mairie.commune_codes == ["90010"] and mairie.name == "maire@belfort.example"
    planner = accounts.create_account(
        ctx.acting(ADMIN),
        new("em@police.example", "planificateur", csp_ids=[territory["csp_id"]] * 2),
    )
    assert planner.csp_ids == [territory["csp_id"]]

    listed = accounts.list_accounts(ctx)
    assert listed.count == 3
    assert [a.email for a in listed.data] == sorted(a.email for a in listed.data)
    assert {a.email: a for a in listed.data}[chef.email] == chef

    (entry,) = entries(ctx, entity="account", entity_id=chef.id)
    assert (entry.actor, entry.actor_account_id, entry.action) == ("cli:tester", None, "create")
    assert entry.address == "10.0.0.1"
    assert entry.changes["role"] == [None, "chef"]
    assert entry.changes["gpo_ids"] == [None, [territory["gpo_id"]]]
    assert not any("password" in key for key in entry.changes)


def test_the_database_checks_roles_and_lower_case_emails(engine: Engine) -> None:
    insert = text(
        "INSERT INTO account (email, name, role, password_hash) VALUES (:e, 'x', :r, 'h')"
    )
    with engine.begin() as conn:  # the migration's list of roles is geo's
        conn.execute(insert, [{"e": f"{role}@y.example", "r": role} for role in ROLES])
    for email, role in (("x@y.example", "chief"), ("X@y.example", "admin")):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, {"e": email, "r": role})


@pytest.mark.parametrize(
    ("account_in", "field"),
    [
        (new("not an address"), "email"),
        (new("a@b"), "email"),
        (new(role="chief"), "role"),
        (new(password="short"), "password"),
        (new(password=" " * 12), "password"),
        (new(role="chef"), "gpo"),  # a chef needs a GPO
        (new(role="commune"), "commune"),
        (new(role="referent"), "csp"),
        (new(role="admin", commune_codes=["90010"]), "commune"),  # an admin is bound to nothing
        (new(role="chef", gpo_ids=[1], csp_ids=[1]), "csp"),
        (new(role="chef", gpo_ids=[999]), "gpo"),  # unknown ids and codes
        (new(role="commune", commune_codes=["90010", "99999"]), "commune"),
        (new(role="planificateur", csp_ids=[1, 999]), "csp"),
    ],
)
def test_each_refusal_names_its_field(
    ctx: Context, territory: dict[str, Any], account_in: AccountCreate, field: str
) -> None:
    del territory  # csp 1, gpo 1 and commune 90010 exist
    with pytest.raises(InvalidInputError) as caught:
        accounts.create_account(ctx.acting(ADMIN), account_in)
    assert caught.value.field == field
    assert status_for(caught.value) == 422
    assert PASSWORD not in str(caught.value)
    assert accounts.list_accounts(ctx).count == 0  # all or nothing
    assert entries(ctx) == []


def test_an_email_has_one_account(ctx: Context) -> None:
    accounts.create_account(ctx.acting(ADMIN), new("dg@police.example"))
    with pytest.raises(ConflictError, match=r"^Adresse e-mail : un compte existe déjà") as caught:
        accounts.create_account(ctx.acting(ADMIN), new(" DG@police.example "))
    assert status_for(caught.value) == 409


def test_passwords_are_argon2id_hashes_only(ctx: Context, engine: Engine) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    accounts.authenticate(ctx, account.email, PASSWORD)
    with engine.connect() as conn:
        stored = conn.scalar(text("SELECT password_hash FROM account"))
        rows = [
            conn.scalar(text(f"SELECT coalesce(string_agg(t::text, ''), '') FROM {table} t"))
            for table in ("account", "audit_log", "login_attempt")
        ]
    assert stored.startswith("$argon2id$")
    assert all(PASSWORD not in row for row in rows)
    assert "password" not in repr(new())


def test_set_password(ctx: Context) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    with pytest.raises(InvalidInputError, match=r"^Mot de passe : "):
        accounts.set_password(ctx.acting(ADMIN), account.email, "too short")
    accounts.set_password(ctx.acting(ADMIN), "Chef.Nord@police.example", "another passphrase")
    with pytest.raises(InvalidCredentialsError):
        accounts.authenticate(ctx, account.email, PASSWORD)
    assert accounts.authenticate(ctx, account.email, "another passphrase").id == account.id
    (entry,) = entries(ctx, action="update")
    assert entry.detail == {"password": "changed"} and entry.changes is None
    with pytest.raises(NotFoundError, match="aucun compte pour"):
        accounts.set_password(ctx.acting(ADMIN), "nobody@police.example", "another passphrase")


# -- sign-in ------------------------------------------------------------------------------
def test_authenticate(ctx: Context) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    signed_in = accounts.authenticate(
        from_address(ctx, "::1"), " CHEF.NORD@police.example", PASSWORD
    )
    assert signed_in.id == account.id and signed_in.last_login_at is not None
    (entry,) = entries(ctx, action="login")
    assert (entry.actor, entry.actor_account_id) == (f"account:{account.id}", account.id)
    assert (entry.entity, entry.entity_id, entry.address) == ("account", str(account.id), "::1")


def test_one_generic_failure(ctx: Context) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    errors = []
    for email, password in (
        ("nobody@police.example", PASSWORD),
        (account.email, "wrong password!"),
    ):
        with pytest.raises(InvalidCredentialsError) as caught:
            accounts.authenticate(from_address(ctx, "10.0.0.9"), email, password)
        errors.append(caught.value)
    accounts.disable_account(ctx.acting(ADMIN), account.email)
    with pytest.raises(InvalidCredentialsError) as caught:
        accounts.authenticate(ctx, account.email, PASSWORD)
    errors.append(caught.value)
    assert {(type(e), str(e)) for e in errors} == {
        (InvalidCredentialsError, "Adresse électronique ou mot de passe incorrect.")
    }
    assert status_for(errors[0]) == 401
    failed = entries(ctx, action="login_failed")
    assert [(e.entity_id, e.detail["reason"]) for e in reversed(failed)] == [
        (None, "unknown e-mail"),
        (str(account.id), "wrong password"),
        (str(account.id), "disabled account"),
    ]
    assert {e.actor for e in failed} == {"anonymous"}
    assert failed[-1].detail["email"] == "nobody@police.example"
    assert failed[-1].address == "10.0.0.9"


def test_throttling_per_account(ctx: Context) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    other = accounts.create_account(ctx.acting(ADMIN), new("other@police.example"))
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        with pytest.raises(InvalidCredentialsError):
            accounts.authenticate(from_address(ctx, "10.0.0.1"), account.email, "wrong password!")
    accounts.authenticate(ctx, account.email, PASSWORD)  # a success starts the count again
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(InvalidCredentialsError) as caught:
            accounts.authenticate(from_address(ctx, "10.0.0.1"), account.email, "wrong password!")
        assert not isinstance(caught.value, TooManyAttemptsError)
    with pytest.raises(TooManyAttemptsError, match=r"Trop de tentatives.*15 minutes") as caught:
        accounts.authenticate(
            from_address(ctx, "10.0.0.2"), account.email, PASSWORD
        )  # the right one
    assert isinstance(caught.value, InvalidCredentialsError) and status_for(caught.value) == 429
    (throttled,) = entries(ctx, action="login_throttled")
    assert throttled.entity_id == str(account.id) and throttled.address == "10.0.0.2"
    assert throttled.detail["failures_for_account"] == MAX_FAILURES_PER_ACCOUNT
    # the same for an e-mail without account: throttling tells nothing of who exists
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(InvalidCredentialsError):
            accounts.authenticate(from_address(ctx, "10.0.0.3"), "ghost@police.example", PASSWORD)
    with pytest.raises(TooManyAttemptsError):
        accounts.authenticate(from_address(ctx, "10.0.0.4"), "ghost@police.example", PASSWORD)
    # others still sign in, from the same address too
    assert (
        accounts.authenticate(from_address(ctx, "10.0.0.1"), other.email, PASSWORD).id == other.id
    )


def test_throttling_per_address(ctx: Context) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    for i in range(MAX_FAILURES_PER_ADDRESS):
        with pytest.raises(InvalidCredentialsError):
            accounts.authenticate(
                from_address(ctx, "10.6.6.6"), f"user{i}@police.example", "x" * 12
            )
    with pytest.raises(TooManyAttemptsError):
        accounts.authenticate(from_address(ctx, "10.6.6.6"), account.email, PASSWORD)
    assert entries(ctx, action="login_throttled")[0].detail["failures_from_address"] == 20
    assert accounts.authenticate(from_address(ctx, "10.0.0.1"), account.email, PASSWORD).id


def test_failures_older_than_the_window_do_not_count(ctx: Context, engine: Engine) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(InvalidCredentialsError):
            accounts.authenticate(ctx, account.email, "wrong password!")
    with engine.begin() as conn:
        conn.execute(text("UPDATE login_attempt SET at = at - interval '16 minutes'"))
    assert accounts.authenticate(ctx, account.email, PASSWORD).id == account.id


# -- tokens -------------------------------------------------------------------------------
def test_tokens(ctx: Context, engine: Engine) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    created = accounts.create_token(ctx.acting(Actor.account(account.id)), account.email, " QGIS ")
    assert created.token.startswith("psq_") and len(created.token) > 40
    assert created.name == "QGIS" and created.last_used_at is None
    assert created.token not in repr(created)
    with engine.connect() as conn:
        stored = conn.scalar(text("SELECT row_to_json(t)::text FROM api_token t"))
    assert created.token not in stored
    resolved = accounts.resolve_token(ctx, created.token)
    assert resolved is not None and resolved.id == account.id
    (listed,) = accounts.list_tokens(ctx, account.id).data
    assert listed.last_used_at is not None and not hasattr(listed, "token")

    assert accounts.resolve_token(ctx, created.token + "x") is None
    assert accounts.resolve_token(ctx, "not a token") is None
    revoked = accounts.revoke_token(ctx.acting(ADMIN), created.id)
    assert revoked.revoked_at is not None
    assert accounts.resolve_token(ctx, created.token) is None
    assert accounts.revoke_token(ctx.acting(ADMIN), created.id).revoked_at == revoked.revoked_at

    (create_entry,) = entries(ctx, entity="api_token", action="create")
    assert create_entry.actor == f"account:{account.id}"
    assert create_entry.changes["name"] == [None, "QGIS"]
    assert created.token not in str(create_entry)
    assert len(entries(ctx, entity="api_token", action="revoke")) == 1


def test_expired_tokens_and_disabled_accounts_open_nothing(ctx: Context, engine: Engine) -> None:
    account = accounts.create_account(ctx.acting(ADMIN), new())
    soon = datetime.now(UTC) + timedelta(days=1)
    expiring = accounts.create_token(ctx.acting(ADMIN), account.id, "cron", expires_at=soon)
    assert accounts.resolve_token(ctx, expiring.token) is not None
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_token SET expires_at = now() - interval '1 second'"))
    assert accounts.resolve_token(ctx, expiring.token) is None

    lasting = accounts.create_token(ctx.acting(ADMIN), account.id, "QGIS")
    accounts.disable_account(ctx.acting(ADMIN), account.id)
    assert accounts.resolve_token(ctx, lasting.token) is None
    accounts.enable_account(ctx.acting(ADMIN), account.id)
    assert accounts.resolve_token(ctx, lasting.token) is not None

    with pytest.raises(InvalidInputError, match=r"^Date d'expiration : le .* est déjà passé"):
        accounts.create_token(
            ctx.acting(ADMIN), account.id, "x", expires_at=datetime.now(UTC) - timedelta(1)
        )
    with pytest.raises(InvalidInputError, match=r"^Nom : un jeton a besoin d'un nom"):
        accounts.create_token(ctx.acting(ADMIN), account.id, "  ")


# -- the audit trail ----------------------------------------------------------------------
def test_record_in_the_callers_transaction(factory: sessionmaker[Session], ctx: Context) -> None:
    with factory() as session, session.begin():
        audit_log.record(
            session,
            Actor.account(3),
            "export",
            "plan",
            12,
            detail={"format": "gpkg", "on": datetime(2026, 11, 25, tzinfo=UTC)},
            address="192.0.2.1",
        )
    with pytest.raises(RuntimeError), factory() as session, session.begin():
        audit_log.record(session, Actor.anonymous(), "download", "plan", 12)
        raise RuntimeError("rolled back, with its line")
    (entry,) = entries(ctx)
    assert (entry.actor, entry.actor_account_id, entry.entity_id) == ("account:3", 3, "12")
    assert entry.detail == {"format": "gpkg", "on": "2026-11-25T00:00:00Z"}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'nothing'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ],
)
def test_the_audit_trail_is_append_only(ctx: Context, engine: Engine, statement: str) -> None:
    accounts.create_account(ctx.acting(ADMIN), new())
    with pytest.raises(DBAPIError, match="audit_log is append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert len(entries(ctx)) == 1
