"""``psq users``: accounts, created and looked after from the server's command line.

Every write is recorded in the audit trail as ``cli:<system user>``. The password comes
from the ``PSQ_PASSWORD`` environment variable, or is asked twice without echo."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from api.schemas import AccountCreate
from api.services import accounts, territory
from api.services.context import Context
from geo.accounts import ROLES
from psq.cli_common import console, database, fail, reported_errors

users_app = typer.Typer(help="Comptes des utilisateurs.", no_args_is_help=True)

PASSWORD_VARIABLE = "PSQ_PASSWORD"


def _password() -> str:
    if (password := os.environ.get(PASSWORD_VARIABLE)) is not None:
        return password
    return str(
        typer.prompt(
            "Mot de passe (12 caractères au moins)",
            hide_input=True,
            confirmation_prompt="Confirmez le mot de passe",
        )
    )


def _csp_ids(ctx: Context, csps: list[str]) -> list[int]:
    found = []
    for csp in csps:
        csp_id = territory.find_csp_id(ctx, csp)
        if csp_id is None:
            raise fail("cli_csp_unknown", csp=csp)
        found.append(csp_id)
    return found


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="Adresse électronique (l'identifiant)")],
    role: Annotated[str, typer.Option(help=f"Rôle : {', '.join(ROLES)}")],
    name: Annotated[str | None, typer.Option(help="Nom affiché (défaut : l'adresse)")] = None,
    commune: Annotated[
        list[str] | None, typer.Option(help="Code INSEE d'une commune (rôle commune), répétable")
    ] = None,
    gpo: Annotated[
        list[int] | None, typer.Option(help="Id d'un GPO (chef, partenaire), répétable")
    ] = None,
    csp: Annotated[
        list[str] | None,
        typer.Option(help="CSP (id, code ou nom ; planificateur, referent), répétable"),
    ] = None,
    partner: Annotated[
        int | None,
        typer.Option(help="Id du partenaire que le compte représente (partenaire)"),
    ] = None,
) -> None:
    """Crée un compte et ses rattachements (mot de passe : PSQ_PASSWORD, sinon demandé)."""
    password = _password()
    with reported_errors(), database() as ctx:
        account = accounts.create_account(
            ctx,
            AccountCreate(
                email=email,
                name=name,
                role=role,
                password=password,
                gpo_ids=gpo or [],
                commune_codes=commune or [],
                csp_ids=_csp_ids(ctx, csp or []),
                partner_id=partner,
            ),
        )
    console.print(
        f"Compte créé : {account.email} ({account.role_label}), id {account.id}.",
        highlight=False,
    )


@users_app.command("list")
def users_list() -> None:
    """Liste les comptes et leurs rattachements."""
    with reported_errors(), database() as ctx:
        found = accounts.list_accounts(ctx)
    if not found.count:
        console.print("Aucun compte : « psq users add EMAIL --role admin » en crée un.")
        return
    table = Table("id", "adresse", "nom", "rôle", "rattachements", "actif", "dernière connexion")
    table.columns[1].no_wrap = True  # the e-mail is what one copies
    for a in found.data:
        bindings = [
            *(f"GPO {g}" for g in a.gpo_ids),
            *(f"commune {c}" for c in a.commune_codes),
            *(f"CSP {c}" for c in a.csp_ids),
            *([f"partenaire {a.partner_id}"] if a.partner_id is not None else []),
        ]
        last = a.last_login_at.strftime("%d/%m/%Y %H:%M") if a.last_login_at else "—"
        table.add_row(
            str(a.id),
            a.email,
            "—" if a.name == a.email else a.name,
            a.role_label,
            ", ".join(bindings) or "—",
            "oui" if a.active else "non",
            last,
        )
    console.print(table)


@users_app.command("disable")
def users_disable(
    email: Annotated[str, typer.Argument(help="Adresse électronique du compte")],
) -> None:
    """Désactive un compte : il ne peut plus se connecter (son historique est gardé)."""
    with reported_errors(), database() as ctx:
        account = accounts.disable_account(ctx, email)
    console.print(f"Compte désactivé : {account.email}.", highlight=False)


@users_app.command("enable")
def users_enable(
    email: Annotated[str, typer.Argument(help="Adresse électronique du compte")],
) -> None:
    """Réactive un compte désactivé."""
    with reported_errors(), database() as ctx:
        account = accounts.enable_account(ctx, email)
    console.print(f"Compte réactivé : {account.email}.", highlight=False)


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Argument(help="Adresse électronique du compte")],
) -> None:
    """Change le mot de passe d'un compte (PSQ_PASSWORD, sinon demandé deux fois)."""
    password = _password()
    with reported_errors(), database() as ctx:
        account = accounts.set_password(ctx, email, password)
    console.print(f"Mot de passe changé : {account.email}.", highlight=False)
