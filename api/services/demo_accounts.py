"""The demo's accounts: one fictitious person per role, bound to what the demo data holds,
all with the one password :data:`DEMO_PASSWORD`, so that anyone trying the demo can sign
in as each role and see what it sees.

The bindings are chosen from the data, never named in advance: the planner and the
référent work for the demo CSP; the chef de secteur leads the sector GPO with the most
open problems, and is that GPO's (fictitious) chef; the partner sits in that GPO for the
organisation that leads actions of its open problems, one overdue and one due within a
fortnight if it can (the synthetic GPO life, :mod:`geo.synth_gpos`, makes sure the main
mairie does), else the most of them (or, without any lead partner, that reported the
most of them), and is that organisation's (fictitious) contact person; the commune
account speaks for the CSP's most populated commune. A role whose binding does not
exist yet (no adopted plan: no GPO) gets no account, until the demo is loaded again
with its plan.

The sign-in page lists them (:func:`demo_sign_ins`, through
:func:`api.services.demo.login_demo_accounts`) only while the demo is all the data of
the app's own local database: never on a real deployment.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from api import clock
from api.repositories import communes, csp, gpos, problem_maps, problems
from api.schemas import AccountCreate, AccountPublic
from api.services import accounts
from api.services.context import Context
from geo.accounts import ROLES

#: The one password of every demo account (fictitious people, demo data only).
DEMO_PASSWORD = "demo-psq-secteurs-2026"
#: The e-mail of each role's demo account, in the order of :data:`geo.accounts.ROLES`.
DEMO_ACCOUNTS = {role: f"{role}@demo.psq.example" for role in ROLES}
#: An action due within this many days is « due soon ».
DUE_SOON_DAYS = 14
#: The fictitious names shown in the navigation bar (the chef's and the partner's are
#: those of the demo data's people they stand for, when it has them).
DEMO_NAMES = {
    "admin": "Hélène Dumas (démo)",
    "planificateur": "Karim Benali (démo)",
    "chef": "Julie Leroy (démo)",
    "partenaire": "Marc Petit (démo)",
    "commune": "Sophie Garnier (démo)",
    "referent": "Thomas Roux (démo)",
}


@dataclass(frozen=True)
class DemoSignIn:
    """A demo account as the sign-in page lists it."""

    role: str
    role_label: str
    email: str
    password: str
    sees: str


def _bindings(session: Session, csp_id: int) -> dict[str, AccountCreate]:
    """The demo account of each role whose binding exists in the CSP's data."""
    chosen: dict[str, dict[str, object]] = {
        "admin": {},
        "planificateur": {"csp_ids": [csp_id]},
        "referent": {"csp_ids": [csp_id]},
    }
    members = communes.list_communes(session=session, csp_id=csp_id).features
    if members:
        biggest = max(members, key=lambda f: (f.properties.population or 0, f.properties.code))
        chosen["commune"] = {"commune_codes": [biggest.properties.code]}
    names = dict(DEMO_NAMES)
    listed = gpos.list_gpos(session=session, csp_id=csp_id).data
    sector_gpos = [g for g in listed if g.kind == "sector"]
    if sector_gpos:
        gpo = max(sector_gpos, key=lambda g: (g.open_problems, -g.id))
        chosen["chef"] = {"gpo_ids": [gpo.id]}
        names["chef"] = gpo.chief_name or names["chef"]
        if (partner_id := _partner_of(session, csp_id, gpo.id)) is not None:
            chosen["partenaire"] = {"gpo_ids": [gpo.id], "partner_id": partner_id}
            contact = next(
                (
                    p.contact_name
                    for p in gpos.list_partners(session=session, csp_id=csp_id).data
                    if p.id == partner_id
                ),
                None,
            )
            names["partenaire"] = contact or names["partenaire"]
    return {
        role: AccountCreate(
            email=DEMO_ACCOUNTS[role],
            name=names[role],
            role=role,
            password=DEMO_PASSWORD,
            **bindings,
        )
        for role, bindings in chosen.items()
    }


def _partner_of(session: Session, csp_id: int, gpo_id: int) -> int | None:
    """The partner organisation the demo's partner account speaks for in the GPO: among
    those leading actions of its open problems, one with an overdue action and one due
    within a fortnight first, then the one leading the most; else the one that reported
    the most of them; None when neither exists."""
    area = problem_maps.study_area(session=session, csp_id=csp_id, gpo_id=gpo_id)
    open_problems = problems.open_problems(session=session, area=area, limit=10_000).data
    led = [
        action
        for problem in open_problems
        for action in problem.actions
        if action.lead_partner_id is not None
    ]
    leads = Counter(action.lead_partner_id for action in led)
    soon = clock.today() + timedelta(days=DUE_SOON_DAYS)
    overdue = {a.lead_partner_id for a in led if a.overdue}
    due_soon = {
        a.lead_partner_id
        for a in led
        if a.status in ("prevue", "en_cours") and a.due_on and clock.today() <= a.due_on <= soon
    }
    if leads:
        return min(leads, key=lambda p: (p not in overdue, p not in due_soon, -leads[p], p))
    reported = (
        problems.get_problem(session=session, problem_id=p.id).partner_id for p in open_problems
    )
    leads = Counter(partner_id for partner_id in reported if partner_id is not None)
    return min(leads, key=lambda p: (-leads[p], p)) if leads else None


def create_demo_accounts(ctx: Context, *, csp_id: int) -> list[AccountPublic]:
    """Create the demo accounts that do not exist yet (bound to the CSP's data), recorded
    as the context's actor (the demo loader's); returns those created. Loading the demo
    again creates only the ones that were missing (chef and partenaire once a plan is
    adopted) and leaves the others as they are."""
    existing = {a.email for a in accounts.list_accounts(ctx).data}
    with ctx.read() as session:
        wanted = _bindings(session, csp_id)
    return [
        accounts.create_account(ctx, account_in)
        for account_in in wanted.values()
        if account_in.email not in existing
    ]


def _sees(session: Session, account: AccountPublic) -> str:
    """What the account's role shows it, in French, naming its bindings."""
    if account.role == "admin":
        return "Tout : territoire, plans, problématiques, bilans, études, comptes, journal d'audit."
    if account.role in ("planificateur", "referent"):
        csps = csp.list_csps(session=session).data
        names = ", ".join(c.name for c in csps if c.id in account.csp_ids)
        if account.role == "planificateur":
            return f"CSP {names} : grille, plans de secteurs, cartographie agrégée, bilans."
        return f"CSP {names} : la file des demandes d'études de sûreté."
    if account.role == "commune":
        names = ", ".join(
            f.properties.name
            for f in communes.list_communes(session=session).features
            if f.properties.code in account.commune_codes
        )
        return f"{names} : problèmes agrégés par maille, demandes d'études de sûreté."
    gpo_names = ", ".join(gpos.get_gpo(session=session, gpo_id=g).name for g in account.gpo_ids)
    if account.role == "chef":
        return f"{gpo_names} : ses problématiques, leurs actions, ses réunions."
    partner = next(
        (
            p.organisation
            for c in account.area_csp_ids
            for p in gpos.list_partners(session=session, csp_id=c).data
            if p.id == account.partner_id
        ),
        "",
    )
    speaks_for = f", pour « {partner} »" if partner else ""
    return f"{gpo_names}{speaks_for} : les problématiques du GPO, les actions qu'il pilote."


def demo_sign_ins(ctx: Context) -> list[DemoSignIn]:
    """The demo accounts that exist and are active, in the order of the roles (``ctx``
    without a perimeter: :func:`api.services.demo.login_demo_accounts` gives it)."""
    found = {a.email: a for a in accounts.list_accounts(ctx).data if a.active}
    with ctx.read() as session:
        return [
            DemoSignIn(
                role=account.role,
                role_label=account.role_label,
                email=account.email,
                password=DEMO_PASSWORD,
                sees=_sees(session, account),
            )
            for role, email in DEMO_ACCOUNTS.items()
            if (account := found.get(email)) is not None and account.role == role
        ]
