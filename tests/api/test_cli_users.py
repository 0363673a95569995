"""``psq users``: accounts from the command line, each write in the audit trail as
``cli:<system user>``."""

from __future__ import annotations

import getpass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.services import accounts, audit_log
from api.services.context import Context
from geo.errors import InvalidCredentialsError
from psq.cli import app as cli
from psq.cli_common import console

PASSWORD = "correct horse battery"
SQUARE = "MULTIPOLYGON(((6.8 47.6, 6.9 47.6, 6.9 47.7, 6.8 47.7, 6.8 47.6)))"


@pytest.fixture
def ctx(factory: sessionmaker[Session]) -> Context:
    with factory() as session, session.begin():
        for table in ("commune", "csp"):
            code, name = ("90010", "Belfort") if table == "commune" else ("belfort", "CSP Belfort")
            session.execute(
                text(
                    f"INSERT INTO {table} (code, name, geom) "
                    "VALUES (:c, :n, ST_GeomFromText(:g, 4326))"
                ),
                {"c": code, "n": name, "g": SQUARE},
            )
        session.execute(
            text("INSERT INTO gpo (csp_id, kind, name) VALUES (1, 'thematic', 'GPO Centre')")
        )
    return Context(factory)


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PSQ_PASSWORD", PASSWORD)
    return CliRunner()


def invoke(runner: CliRunner, *args: str, **kw: Any) -> Any:
    return runner.invoke(cli, ["users", *args], **kw)


def test_users_add_list_disable_set_password(
    runner: CliRunner, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = f"cli:{getpass.getuser()}"
    added = invoke(runner, "add", "Chef.Nord@Police.Example", "--role", "chef", "--gpo", "1")
    assert added.exit_code == 0, added.output
    assert "Compte créé : chef.nord@police.example (Chef de secteur), id 1." in added.output
    added = invoke(
        runner, "add", "em@police.example", "--role", "planificateur", "--name", "Cdt Roux",
        "--csp", "CSP Belfort", "--csp", "belfort",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    added = invoke(runner, "add", "maire@mairie.example", "--role", "commune", "--commune", "90010")
    assert added.exit_code == 0, added.output
    assert accounts.authenticate(ctx, "chef.nord@police.example", PASSWORD).gpo_ids == [1]

    monkeypatch.setattr(console, "width", 160)  # a terminal, not CliRunner's 80 columns
    listed = invoke(runner, "list")
    assert listed.exit_code == 0, listed.output
    for shown in ("chef.nord@police.example", "Cdt Roux", "État-major", "CSP 1", "commune 90010"):
        assert shown in listed.output

    disabled = invoke(runner, "disable", "CHEF.NORD@police.example")
    assert disabled.exit_code == 0, disabled.output
    assert "Compte désactivé : chef.nord@police.example." in disabled.output
    with pytest.raises(InvalidCredentialsError):
        accounts.authenticate(ctx, "chef.nord@police.example", PASSWORD)
    assert "│ non " in invoke(runner, "list").output
    enabled = invoke(runner, "enable", "chef.nord@police.example")
    assert enabled.exit_code == 0, enabled.output
    assert "Compte réactivé : chef.nord@police.example." in enabled.output
    assert accounts.authenticate(ctx, "chef.nord@police.example", PASSWORD) is not None

    changed = runner.invoke(
        cli,
        ["users", "set-password", "em@police.example"],
        env={"PSQ_PASSWORD": "another passphrase"},
    )
    assert changed.exit_code == 0, changed.output
    assert "Mot de passe changé : em@police.example." in changed.output
    assert accounts.authenticate(ctx, "em@police.example", "another passphrase").name == "Cdt Roux"

    trail = audit_log.list_entries(ctx, actor=actor).data
    assert [(e.action, e.entity, e.entity_id) for e in reversed(trail)] == [
        ("create", "account", "1"),
        ("create", "account", "2"),
        ("create", "account", "3"),
        ("update", "account", "1"),  # disabled
        ("update", "account", "1"),  # enabled
        ("update", "account", "2"),  # password
    ]
    assert trail[1].changes == {"active": [False, True]}
    assert trail[2].changes == {"active": [True, False]}
    assert trail[0].detail == {"password": "changed"}


def test_the_password_is_asked_twice_without_echo(
    runner: CliRunner, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PSQ_PASSWORD")
    mismatch = invoke(
        runner, "add", "dg@police.example", "--role", "admin", input=f"{PASSWORD}\nother\n"
    )
    assert mismatch.exit_code != 0 and accounts.list_accounts(ctx).count == 0
    added = invoke(
        runner, "add", "dg@police.example", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output and "Confirmez le mot de passe" in added.output
    assert accounts.authenticate(ctx, "dg@police.example", PASSWORD).role == "admin"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x@police.example", "--role", "chef", "--gpo", "7"], "GPO : GPO(s) inconnu(s) : 7"),
        (
            ["x@police.example", "--role", "commune", "--commune", "75056"],
            "Commune : code commune(s) inconnu(s) : 75056",
        ),
        (["x@police.example", "--role", "referent", "--csp", "Paris"], "CSP inconnue : « Paris »"),
        (
            ["x@police.example", "--role", "chef"],
            "GPO : le rôle « Chef de secteur » doit être rattaché",
        ),
        (["x@police.example", "--role", "boss"], "Rôle : valeur inconnue « boss »"),
        (
            ["not-an-address", "--role", "admin"],
            "Adresse e-mail : « not-an-address » n'est pas une adresse e-mail",
        ),
    ],
)
def test_refusals(runner: CliRunner, ctx: Context, args: list[str], message: str) -> None:
    refused = invoke(runner, "add", *args)
    assert refused.exit_code == 2
    assert message in " ".join(refused.output.split())
    assert accounts.list_accounts(ctx).count == 0


def test_unknown_account_and_weak_password(
    runner: CliRunner, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = invoke(runner, "disable", "nobody@police.example")
    assert (
        missing.exit_code == 2 and "aucun compte pour « nobody@police.example »" in missing.output
    )
    monkeypatch.setenv("PSQ_PASSWORD", "short")
    weak = invoke(runner, "add", "dg@police.example", "--role", "admin")
    assert weak.exit_code == 2 and "Mot de passe : au moins 12 caractères" in weak.output
    assert audit_log.list_entries(ctx).count == 0
