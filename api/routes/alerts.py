"""The commune's space (issue 18): interventions recorded by the police, each alerting the
mayor(s) of its commune; a mayor's alert preferences; a commune's delivery log and its
dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api import access
from api.deps import ContextDep
from api.routes.responses import FORBIDDEN, INVALID, NOT_FOUND
from api.schemas import COMMUNE_CODE
from api.schemas.dashboard import CommuneDashboardPublic
from api.schemas.participation import (
    AlertPreferenceIn,
    AlertPreferencePublic,
    DeliveriesPublic,
    InterventionCreate,
    InterventionPublic,
    InterventionsPublic,
)
from api.services import alerts, dashboard

router = APIRouter(tags=["alertes aux maires"])


@router.post(
    "/interventions", status_code=201, responses=INVALID, dependencies=[access.INTERVENTION_WRITE]
)
def record_intervention(body: InterventionCreate, ctx: ContextDep) -> InterventionPublic:
    """Record an intervention at a point of a CSP: the mayor(s) of the commune it falls in
    are alerted through the outbox (e-mail, SMS) as they chose. A point outside the CSP
    is a 422 naming ``lon``."""
    return alerts.record_intervention(ctx, body)


@router.get("/interventions", responses=INVALID, dependencies=[access.COMMUNE_SPACE])
def read_interventions(
    ctx: ContextDep,
    commune: Annotated[
        str | None, Query(pattern=COMMUNE_CODE, description="Of this commune (INSEE code)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InterventionsPublic:
    """The latest interventions of your perimeter (a commune: its own)."""
    return alerts.list_interventions(ctx, commune_code=commune, limit=limit)


@router.get("/alert-preferences", responses=FORBIDDEN, dependencies=[access.ALERT_PREFERENCES])
def read_alert_preferences(ctx: ContextDep) -> AlertPreferencePublic:
    """Your alert preferences (a commune account): channels, natures, quiet hours."""
    return alerts.read_preferences(ctx)


@router.put(
    "/alert-preferences",
    responses={**INVALID, **FORBIDDEN},
    dependencies=[access.ALERT_PREFERENCES],
)
def save_alert_preferences(body: AlertPreferenceIn, ctx: ContextDep) -> AlertPreferencePublic:
    """Set your alert preferences; an alert raised in your quiet hours waits until they
    end."""
    return alerts.save_preferences(ctx, body)


@router.get("/communes/{code}/deliveries", responses=NOT_FOUND, dependencies=[access.COMMUNE_SPACE])
def read_deliveries(
    code: Annotated[str, Path(pattern=COMMUNE_CODE, description="INSEE code")],
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> DeliveriesPublic:
    """The commune's delivery log: the alerts, reminders and study-request messages sent
    about it, with their status, attempts and last error."""
    return alerts.delivery_log(ctx, code, limit=limit)


@router.get("/communes/{code}/dashboard", responses=NOT_FOUND, dependencies=[access.COMMUNE_SPACE])
def read_dashboard(
    code: Annotated[str, Path(pattern=COMMUNE_CODE, description="INSEE code")],
    ctx: ContextDep,
) -> CommuneDashboardPublic:
    """The commune's dashboard: its problems as aggregates (last 90 days against the 90
    before, counts under 3 masked, hot-spot trends), its requests by status, the GPOs of
    its territory and their next meetings, its conventions and their renewals, its
    interventions of 30 days, and the SSMSI figures of its département with their source
    and vintage. A commune outside your perimeter is a 404."""
    return dashboard.commune_dashboard(ctx, code)
