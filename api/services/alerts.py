"""Alerts to mayors (issue 18): an intervention recorded by the police on a commune's
territory alerts the mayor(s) of that commune only — its ``commune`` accounts — through
the outbox, by e-mail and by SMS as each mayor chose, for the natures it chose, held
until its quiet hours end; the commune reads its delivery log. A commune's safety-study
requests get an acknowledgement when filed and a message at every step."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime

import shapely
from sqlalchemy.orm import Session

from api.models import Commune, Csp, Intervention
from api.repositories import alerts as repo
from api.repositories import conventions as communes_repo
from api.repositories import notifications as outbox
from api.repositories.base import outside_perimeter, require
from api.schemas.audits import AuditRequestPublic
from api.schemas.participation import (
    AlertPreferenceIn,
    AlertPreferencePublic,
    DeliveriesPublic,
    DeliveryPublic,
    InterventionCreate,
    InterventionPublic,
    InterventionsPublic,
)
from api.services.audit_log import record_write
from api.services.context import Context
from geo.accounts import check_email
from geo.errors import ForbiddenError, InvalidInputError, NotFoundError
from geo.participation import INTERVENTION_NATURES, PARIS, quiet_release, wants_alert

SIGNATURE = "\n\n-- \nMessage envoyé automatiquement par PSQ Secteurs. Merci de ne pas y répondre."
#: At most this many rows in a list.
MAX_LIST = 500


def _alert_text(nature: str, commune: str, at: datetime, place: str | None) -> tuple[str, str]:
    label = INTERVENTION_NATURES[nature]
    local = at.astimezone(PARIS)
    where = f", {place}" if place else ""
    subject = f"Intervention en cours à {commune} : {label}"
    sms = (
        f"PSQ - {commune} : intervention de police ({label.lower()}) "
        f"le {local:%d/%m à %H:%M}{where}."
    )
    return subject[:300], sms


def record_intervention(
    ctx: Context, body: InterventionCreate, *, now: datetime | None = None
) -> InterventionPublic:
    """Record an intervention at a point of the CSP and queue the alerts of its commune's
    mayors. A point outside the CSP is a 422 naming ``lon``."""
    now = now or datetime.now(UTC)
    if body.occurred_at.tzinfo is None:
        raise InvalidInputError("time_zone_needed", field="occurred_at")
    point = shapely.Point(body.lon, body.lat)
    with ctx.write() as session:
        csp = require(session, Csp, body.csp_id)
        found = repo.commune_at(session, body.csp_id, point)
        if found is None:
            raise InvalidInputError("alert_outside_csp", field="lon", csp_name=csp.name)
        commune_code, commune = found
        intervention_id = repo.insert_intervention(
            session,
            {
                "csp_id": body.csp_id,
                "commune_code": commune_code,
                "occurred_at": body.occurred_at,
                "nature": body.nature,
                "place": body.place,
                "note": body.note,
                "recorded_by": ctx.actor.account_id,
            },
            point,
        )
        queued = _queue_alerts(
            session,
            intervention_id=intervention_id,
            commune_code=commune_code,
            commune=commune,
            body=body,
            now=now,
        )
        record_write(
            session,
            ctx,
            "create",
            "intervention",
            intervention_id,
            detail={"commune_code": commune_code, "nature": body.nature, "alerts": queued},
        )
        (row,) = [
            r
            for r in repo.read_interventions(session, commune_code=commune_code, limit=MAX_LIST)
            if r[0].id == intervention_id
        ]
        return _public(*row)


def _queue_alerts(
    session: Session,
    *,
    intervention_id: int,
    commune_code: str,
    commune: str,
    body: InterventionCreate,
    now: datetime,
) -> int:
    subject, sms = _alert_text(body.nature, commune, body.occurred_at, body.place)
    email_body = (
        f"Bonjour,\n\n{sms.removeprefix('PSQ - ')}\n"
        + (f"\n{body.note}\n" if body.note else "")
        + "\nCette alerte vous informe d'une intervention sur le territoire de votre commune ; "
        "elle ne demande pas de réponse. Vos préférences d'alerte se règlent dans votre "
        f"espace commune.{SIGNATURE}"
    )
    queued = 0
    for mayor in repo.mayors(session, commune_code):
        if not wants_alert(mayor.natures, body.nature):
            continue
        release = quiet_release(now, mayor.quiet_from, mayor.quiet_to)
        for channel in mayor.channels:
            recipient = mayor.email if channel == "email" else mayor.phone
            if not recipient:
                continue
            new = outbox.enqueue(
                session,
                kind="intervention-alert",
                recipient=recipient,
                subject=subject,
                body=email_body if channel == "email" else sms,
                dedupe_key=f"intervention:{intervention_id}:{channel}:{mayor.account_id}",
                entity=("intervention", intervention_id),
                channel=channel,
                commune_code=commune_code,
                not_before=release if release > now else None,
            )
            queued += new is not None
    return queued


def _public(
    i: Intervention, commune: str, lon: float, lat: float, alerts: int
) -> InterventionPublic:
    return InterventionPublic(
        id=i.id,
        csp_id=i.csp_id,
        commune_code=i.commune_code,
        commune=commune,
        occurred_at=i.occurred_at,
        nature=i.nature,
        nature_label=INTERVENTION_NATURES.get(i.nature, i.nature),
        place=i.place,
        note=i.note,
        lon=round(lon, 6),
        lat=round(lat, 6),
        alerts_queued=alerts,
        synthetic=i.synthetic,
    )


def list_interventions(
    ctx: Context, *, commune_code: str | None = None, limit: int = 100
) -> InterventionsPublic:
    with ctx.read() as session:
        data = [
            _public(*r)
            for r in repo.read_interventions(session, commune_code=commune_code, limit=limit)
        ]
    return InterventionsPublic(data=data, count=len(data))


# -- preferences --------------------------------------------------------------------------
def _account_id(ctx: Context) -> int:
    if ctx.actor.account_id is None:
        raise ForbiddenError("alert_preferences_account_only")
    return ctx.actor.account_id


def _preference_public(session: Session, account_id: int) -> AlertPreferencePublic:
    email, p = repo.preference_of(session, account_id)
    return AlertPreferencePublic(
        account_id=account_id,
        email=email,
        channels=list(p.channels) if p else ["email"],
        natures=list(p.natures) if p else [],
        quiet_from=p.quiet_from if p else None,
        quiet_to=p.quiet_to if p else None,
        phone=p.phone if p else None,
    )


def read_preferences(ctx: Context) -> AlertPreferencePublic:
    with ctx.read() as session:
        return _preference_public(session, _account_id(ctx))


def save_preferences(ctx: Context, body: AlertPreferenceIn) -> AlertPreferencePublic:
    account_id = _account_id(ctx)
    values = body.model_dump(mode="python")
    values["channels"] = sorted(set(values["channels"]))
    values["natures"] = sorted(set(values["natures"]))
    with ctx.write() as session:
        before = _preference_public(session, account_id).model_dump(mode="json")
        repo.save_preference(session, account_id, values)
        after = _preference_public(session, account_id)
        dumped = after.model_dump(mode="json")
        record_write(
            session,
            ctx,
            "update",
            "alert_preference",
            account_id,
            changes={k: [before[k], dumped[k]] for k in dumped if before[k] != dumped[k]},
        )
        return after


# -- the commune's delivery log -----------------------------------------------------------
def delivery_log(ctx: Context, commune_code: str, *, limit: int = 200) -> DeliveriesPublic:
    """The messages about the commune (alerts, reminders, study requests), newest first,
    with their status and last error: 404 for a commune outside the perimeter."""
    with ctx.read() as session:
        require_commune(session, commune_code)
        data = [DeliveryPublic(**r) for r in repo.deliveries(session, commune_code, limit)]
    return DeliveriesPublic(data=data, count=len(data))


def require_commune(session: Session, commune_code: str) -> str:
    """The commune's name, or a 404 when it lies outside the caller's perimeter."""
    if (
        outside_perimeter(session, Commune, commune_code)
        or (name := communes_repo.commune_name(session, commune_code)) is None
    ):
        raise NotFoundError("commune_outside_perimeter", code=commune_code)
    return name


# -- the safety-study requests' messages --------------------------------------------------
def study_request_message(session: Session, request: AuditRequestPublic, *, filed: bool) -> int:
    """Queue the acknowledgement of a request just filed, or the message of its new step,
    to its contact's e-mail and the commune's accounts, in the caller's transaction."""
    addresses = set(
        communes_repo.commune_addresses(session, [request.commune_code]).get(
            request.commune_code, []
        )
    )
    if request.contact_email:
        with suppress(InvalidInputError):
            addresses.add(check_email(request.contact_email))
    site = request.site_name or request.address or f"demande n° {request.id}"
    if filed:
        subject = f"Accusé de réception : demande d'étude de sûreté n° {request.id} ({site})"
        opening = (
            f"Votre demande d'étude de sûreté n° {request.id} ({request.kind_label}, {site}) "
            f"a bien été enregistrée le {request.requested_on:%d/%m/%Y}. Le référent sûreté "
            "de la circonscription vous recontactera."
        )
        key = f"study-filed:{request.id}"
    else:
        subject = f"Demande d'étude de sûreté n° {request.id} : {request.status_label.lower()}"
        opening = (
            f"La demande d'étude de sûreté n° {request.id} ({site}) est passée à l'étape "
            f"« {request.status_label} » le {request.status_on:%d/%m/%Y}."
        )
        if request.planned_on and request.status == "planifiee":
            opening += f" L'étude est prévue le {request.planned_on:%d/%m/%Y}."
        if request.refusal_reason and request.status == "refusee":
            opening += f" Motif : {request.refusal_reason}"
        key = f"study-step:{request.id}:{request.version}"
    body = f"Bonjour,\n\n{opening}\n\nPour suivre la demande : /commune{SIGNATURE}"
    queued = 0
    for address in sorted(addresses):
        new = outbox.enqueue(
            session,
            kind="study-request",
            recipient=address,
            subject=subject[:300],
            body=body,
            dedupe_key=f"{key}:{address}"[:200],
            entity=("audit_request", request.id),
            commune_code=request.commune_code,
        )
        queued += new is not None
    return queued
