"""What the commune's dashboard reads besides the other aggregates' reads: the commune,
its requests by status, the GPOs whose sectors cover it, its recent interventions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.models import (
    Account,
    AuditRequest,
    Commune,
    Gpo,
    Intervention,
    Plan,
    PlanSector,
    csp_commune,
)
from api.repositories.base import scope_of, visible
from geo.errors import NotFoundError

#: A GPO's sectors cover the commune when they hold this share of its area.
COVER_SHARE = 0.01


def commune(session: Session, code: str) -> tuple[str, int | None]:
    """The commune's name and population; 404 outside the caller's perimeter."""
    row = session.execute(
        select(Commune.name, Commune.population).where(
            Commune.code == code, visible(Commune, scope_of(session))
        )
    ).first()
    if row is None:
        raise NotFoundError("commune_outside_perimeter", code=code)
    return row[0], row[1]


def requests_by_status(session: Session, code: str) -> dict[str, int]:
    return {
        status: int(n)
        for status, n in session.execute(
            select(AuditRequest.status, func.count())
            .where(AuditRequest.commune_code == code, visible(AuditRequest, scope_of(session)))
            .group_by(AuditRequest.status)
        )
    }


def covering_gpo_ids(session: Session, code: str) -> list[int]:
    """The active GPOs of the adopted plans whose sector (or one of a thematic GPO's
    sectors) covers part of the commune."""
    commune_geom = select(Commune.geom).where(Commune.code == code).scalar_subquery()
    stmt = (
        select(Gpo.id)
        .join(Plan, and_(Plan.csp_id == Gpo.csp_id, Plan.status == "adopted"))
        .join(
            PlanSector,
            and_(
                PlanSector.plan_id == Plan.id,
                or_(
                    PlanSector.sector == Gpo.sector,
                    Gpo.sectors.op("@>")(func.to_jsonb(PlanSector.sector).cast(JSONB)),
                ),
            ),
        )
        .where(
            Gpo.active,
            func.ST_Intersects(PlanSector.geom, commune_geom),
            func.ST_Area(func.ST_Intersection(PlanSector.geom, commune_geom))
            > COVER_SHARE * func.ST_Area(commune_geom),
        )
        .group_by(Gpo.id)
        .order_by(Gpo.id)
    )
    return list(session.scalars(stmt))


def interventions_since(session: Session, code: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Intervention.commune_code == code,
                Intervention.occurred_at >= since,
                visible(Intervention, scope_of(session)),
            )
        )
        or 0
    )


def csp_communes(session: Session, csp_id: int) -> list[tuple[str, str, int]]:
    """The CSP's communes, the most populated first: (code, name, population)."""
    return [
        (code, name, int(population or 0))
        for code, name, population in session.execute(
            select(Commune.code, Commune.name, Commune.population)
            .join(csp_commune, csp_commune.c.commune_code == Commune.code)
            .where(csp_commune.c.csp_id == csp_id)
            .order_by(Commune.population.desc().nulls_last(), Commune.code)
        )
    ]


def account_id(session: Session, email: str) -> int | None:
    return session.scalar(select(Account.id).where(Account.email == email))
