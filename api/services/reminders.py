"""The reminders the notification worker queues (issue 17): to the lead partner of an
action due within a few days or overdue, and to the chef of a GPO whose meetings are
late on its cadence (« en retard »), and to a commune before each tacit renewal of its
conventions de participation citoyenne (``convention-renewal:{id}:{date}:{address}``).

Each reminder has a ``dedupe_key`` naming what it is about, the date concerned and the
recipient (``action-due:{action}:{due_on}:{address}``,
``action-overdue:{action}:{due_on}:{address}``, ``gpo-late:{gpo}:{due_on}:{address}``):
running the reminders again queues nothing new, and a new due date is reminded anew.
"""

from __future__ import annotations

import hashlib
from datetime import date

from api import clock
from api.repositories import notifications as repo
from api.repositories.notifications import DueAction, LateGpo
from api.services import conventions
from api.services.context import Context
from geo.problems import ACTION_TYPES

#: The statuses of an action still to be done.
OPEN_ACTION_STATUSES = ("prevue", "en_cours")
SIGNATURE = "\n\n-- \nMessage envoyé automatiquement par PSQ Secteurs. Merci de ne pas y répondre."


def _day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _link(public_url: str | None, path: str) -> str:
    return f"{public_url.rstrip('/')}{path}" if public_url else path


def dedupe_key(base: str, recipient: str) -> str:
    """``base:recipient``, the recipient hashed when the key would exceed its column."""
    key = f"{base}:{recipient}"
    if len(key) <= 200:
        return key
    return f"{base}:{hashlib.sha256(recipient.encode()).hexdigest()[:40]}"


def action_reminder(action: DueAction, *, today: date, public_url: str | None) -> tuple[str, str]:
    """The subject and body of the reminder of ``action``: due soon, or overdue."""
    label = ACTION_TYPES.get(action.type, action.type)
    gpo = action.gpo_name or "aucun GPO (problématique hors secteur)"
    path = f"/gpo/{action.gpo_id}" if action.gpo_id is not None else "/problematiques"
    if action.due_on < today:
        late = (today - action.due_on).days
        subject = f"Action en retard depuis le {_day(action.due_on)} : {label}"
        opening = (
            f"l'action « {label} » pilotée par {action.partner} devait être réalisée "
            f"le {_day(action.due_on)} ; elle est en retard de {late} jour(s)."
        )
    else:
        left = (action.due_on - today).days
        when = "aujourd'hui" if left == 0 else f"dans {left} jour(s)"
        subject = f"Action à échéance le {_day(action.due_on)} : {label}"
        opening = (
            f"l'action « {label} » pilotée par {action.partner} arrive à échéance "
            f"le {_day(action.due_on)} ({when})."
        )
    body = (
        f"Bonjour,\n\n{opening[0].upper()}{opening[1:]}\n\n"
        f"Problématique : {action.problem_title} (n° {action.problem_id})\n"
        f"GPO : {gpo}\n"
        f"Échéance : {_day(action.due_on)}\n\n"
        f"Pour mettre à jour l'action : {_link(public_url, path)}"
        f"{SIGNATURE}"
    )
    return subject[:300], body


def gpo_reminder(gpo: LateGpo, *, today: date, public_url: str | None) -> tuple[str, str]:
    """The subject and body of the reminder to the chef of a late GPO."""
    late = (today - gpo.due_on).days
    last = (
        f"La dernière réunion close date du {_day(gpo.last_meeting_on)}"
        if gpo.last_meeting_on
        else "Aucune réunion n'a encore été close"
    )
    subject = f"GPO {gpo.name} en retard : réunion attendue le {_day(gpo.due_on)}"
    body = (
        f"Bonjour,\n\nLe GPO « {gpo.name} » est en retard sur sa cadence de "
        f"{gpo.cadence_days} jours : sa prochaine réunion était attendue au plus tard le "
        f"{_day(gpo.due_on)} ({late} jour(s) de retard).\n"
        f"{last}.\n\n"
        f"Pour planifier la prochaine réunion : {_link(public_url, f'/gpo/{gpo.id}')}"
        f"{SIGNATURE}"
    )
    return subject[:300], body


def enqueue_reminders(
    ctx: Context, *, today: date | None = None, due_days: int = 7, public_url: str | None = None
) -> int:
    """Queue, in one transaction, the reminders due ``today`` (by default, today) that
    were not queued before: the actions still to do that are due within ``due_days`` days
    or overdue, to the addresses of their lead partner; the late GPOs, to the addresses
    of their chef. The number of notifications queued."""
    today = today or clock.today()
    queued = 0
    with ctx.write() as session:
        actions = repo.actions_due(
            session, today=today, horizon_days=due_days, statuses=OPEN_ACTION_STATUSES
        )
        partners = repo.partner_addresses(session, sorted({a.lead_partner_id for a in actions}))
        for action in actions:
            kind = "action-overdue" if action.due_on < today else "action-due"
            subject, body = action_reminder(action, today=today, public_url=public_url)
            for address in partners.get(action.lead_partner_id, []):
                key = dedupe_key(f"{kind}:{action.id}:{action.due_on.isoformat()}", address)
                new = repo.enqueue(
                    session,
                    kind=kind,
                    recipient=address,
                    subject=subject,
                    body=body,
                    dedupe_key=key,
                    entity=("action", action.id),
                )
                queued += new is not None
        gpos = repo.late_gpos(session, today=today)
        chefs = repo.chef_addresses(session, [g.id for g in gpos])
        for gpo in gpos:
            subject, body = gpo_reminder(gpo, today=today, public_url=public_url)
            for address in chefs.get(gpo.id, []):
                new = repo.enqueue(
                    session,
                    kind="gpo-late",
                    recipient=address,
                    subject=subject,
                    body=body,
                    dedupe_key=dedupe_key(f"gpo-late:{gpo.id}:{gpo.due_on.isoformat()}", address),
                    entity=("gpo", gpo.id),
                )
                queued += new is not None
        queued += conventions.enqueue_renewal_reminders(
            session, today=today, public_url=public_url, signature=SIGNATURE
        )
    return queued
