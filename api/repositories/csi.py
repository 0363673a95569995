"""Contrats de sécurité intégrée: their rows within the caller's perimeter, their
versions, the names of their communes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Commune, CsiContract, CsiContractVersion, Partner, csp_commune
from api.repositories.base import scope_of, visible


def read_contracts(
    session: Session, *, ids: Sequence[int] | None = None, commune_code: str | None = None
) -> list[CsiContract]:
    stmt = (
        select(CsiContract).where(visible(CsiContract, scope_of(session))).order_by(CsiContract.id)
    )
    if ids is not None:
        stmt = stmt.where(CsiContract.id.in_(list(ids)))
    if commune_code is not None:
        stmt = stmt.where(CsiContract.commune_codes.op("@>")([commune_code]))
    return list(session.scalars(stmt))


def commune_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(
        session.execute(
            select(Commune.code, Commune.name).where(Commune.code.in_(sorted(set(codes))))
        ).all()
    )


def commune_csps(session: Session, codes: Sequence[str]) -> dict[str, int]:
    """Each known commune's CSP (the first when several), in no particular order."""
    out: dict[str, int] = {}
    for code, csp_id in session.execute(
        select(csp_commune.c.commune_code, csp_commune.c.csp_id)
        .where(csp_commune.c.commune_code.in_(sorted(set(codes))))
        .order_by(csp_commune.c.csp_id)
    ):
        out.setdefault(code, int(csp_id))
    return out


def add_version(
    session: Session, contract: CsiContract, snapshot: dict[str, Any], actor: str
) -> None:
    session.add(
        CsiContractVersion(
            contract_id=contract.id, version=contract.version, snapshot=snapshot, actor=actor
        )
    )


def versions(session: Session, contract_id: int) -> list[CsiContractVersion]:
    return list(
        session.scalars(
            select(CsiContractVersion)
            .where(CsiContractVersion.contract_id == contract_id)
            .order_by(CsiContractVersion.version)
        )
    )


def partners(session: Session, *, csp_id: int | None = None) -> list[Partner]:
    """The partner organisations of the caller's CSPs (of one, when given), by name."""
    stmt = select(Partner).where(visible(Partner, scope_of(session)))
    if csp_id is not None:
        stmt = stmt.where(Partner.csp_id == csp_id)
    return list(session.scalars(stmt.order_by(Partner.organisation, Partner.id)))
