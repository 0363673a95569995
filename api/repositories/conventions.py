"""Conventions de participation citoyenne: their rows and référents within the caller's
perimeter, the other conventions of a commune (the overlap check), what the figures and
the renewal reminders read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.models import (
    Account,
    Commune,
    Convention,
    ConventionReferent,
    Csp,
    account_commune,
    csp_commune,
)
from api.repositories.base import scope_of, visible, wkb_element
from api.schemas.participation import ConventionReferentIn
from geo.participation import ConventionDates, fully_signed


@dataclass(frozen=True)
class ConventionRow:
    """A convention as read, with its commune's name, outline and référents."""

    row: Convention
    commune: str
    geom: shapely.Geometry | None
    referents: list[ConventionReferent]

    @property
    def dates(self) -> ConventionDates:
        return dates_of(self.row)


def dates_of(c: Convention) -> ConventionDates:
    return ConventionDates(
        start_on=c.start_on,
        signed=fully_signed(
            (s["role"], date.fromisoformat(s["signed_on"]) if s.get("signed_on") else None)
            for s in c.signatories
        ),
        end_on=c.end_on,
        denounced_on=c.denounced_on,
    )


def read_conventions(
    session: Session,
    *,
    ids: Sequence[int] | None = None,
    commune_code: str | None = None,
    csp_id: int | None = None,
) -> list[ConventionRow]:
    """The conventions the caller sees (of a commune, of a CSP), oldest first."""
    stmt = (
        select(Convention, Commune.name, func.ST_AsBinary(Convention.geom))
        .join(Commune, Commune.code == Convention.commune_code)
        .where(visible(Convention, scope_of(session)))
        .order_by(Convention.commune_code, Convention.id)
    )
    if ids is not None:
        stmt = stmt.where(Convention.id.in_(list(ids)))
    if commune_code is not None:
        stmt = stmt.where(Convention.commune_code == commune_code)
    if csp_id is not None:
        stmt = stmt.where(Convention.csp_id == csp_id)
    rows = session.execute(stmt).all()
    referents: dict[int, list[ConventionReferent]] = defaultdict(list)
    if rows:
        for r in session.scalars(
            select(ConventionReferent)
            .where(ConventionReferent.convention_id.in_([c.id for c, _, _ in rows]))
            .order_by(ConventionReferent.id)
        ):
            referents[r.convention_id].append(r)
    return [
        ConventionRow(
            row=c,
            commune=name,
            geom=shapely.from_wkb(bytes(wkb)) if wkb is not None else None,
            referents=referents[c.id],
        )
        for c, name, wkb in rows
    ]


def lock_commune(session: Session, commune_code: str) -> None:
    """One writer of a commune's conventions at a time (the overlap check sees the
    others' committed ones)."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"convention:{commune_code}"))))


def others_of_commune(
    session: Session, commune_code: str, exclude_id: int | None
) -> list[tuple[Convention, shapely.Geometry | None]]:
    """Every convention of the commune but ``exclude_id``, whoever sees it (the overlap
    check compares with all of them)."""
    stmt = select(Convention, func.ST_AsBinary(Convention.geom)).where(
        Convention.commune_code == commune_code
    )
    if exclude_id is not None:
        stmt = stmt.where(Convention.id != exclude_id)
    return [
        (c, shapely.from_wkb(bytes(wkb)) if wkb is not None else None)
        for c, wkb in session.execute(stmt)
    ]


def set_geom(c: Convention, geom: shapely.Geometry | None) -> None:
    c.geom = wkb_element(geom) if geom is not None else None


def replace_referents(
    session: Session, convention_id: int, referents: Sequence[ConventionReferentIn]
) -> None:
    session.execute(
        delete(ConventionReferent).where(ConventionReferent.convention_id == convention_id)
    )
    session.add_all(
        ConventionReferent(convention_id=convention_id, **r.model_dump()) for r in referents
    )


def area_names(session: Session, csp_ids: Sequence[int]) -> dict[int, str]:
    return dict(session.execute(select(Csp.id, Csp.name).where(Csp.id.in_(list(csp_ids)))).all())


def visible_communes(session: Session) -> list[tuple[str, str, int]]:
    """The communes of the caller's perimeter, each with a CSP it lies in: (code, name,
    csp id)."""
    return [
        (code, name, int(csp_id))
        for code, name, csp_id in session.execute(
            select(Commune.code, Commune.name, func.min(csp_commune.c.csp_id))
            .join(csp_commune, csp_commune.c.commune_code == Commune.code)
            .where(visible(Commune, scope_of(session)))
            .group_by(Commune.code, Commune.name)
            .order_by(Commune.code)
        )
    ]


def commune_addresses(session: Session, commune_codes: Sequence[str]) -> dict[str, list[str]]:
    """For each commune, the e-mails of its active ``commune`` accounts, sorted."""
    found: dict[str, list[str]] = defaultdict(list)
    for code, email in session.execute(
        select(account_commune.c.commune_code, Account.email)
        .join(Account, Account.id == account_commune.c.account_id)
        .where(
            account_commune.c.commune_code.in_(list(commune_codes)),
            Account.role == "commune",
            Account.active,
        )
        .order_by(Account.email)
    ):
        found[code].append(email)
    return dict(found)


def live_conventions(session: Session) -> list[Any]:
    """Every convention not denounced, with its commune's name (the reminders)."""
    return list(
        session.execute(
            select(Convention, Commune.name)
            .join(Commune, Commune.code == Convention.commune_code)
            .where(Convention.denounced_on.is_(None), Convention.synthetic.is_(False))
            .order_by(Convention.id)
        ).all()
    )


def commune_outlines(session: Session, codes: Sequence[str]) -> dict[str, shapely.Geometry]:
    if not codes:
        return {}
    return {
        code: shapely.from_wkb(bytes(wkb))
        for code, wkb in session.execute(
            select(Commune.code, func.ST_AsBinary(Commune.geom)).where(
                Commune.code.in_(sorted(set(codes)))
            )
        )
    }


def commune_name(session: Session, commune_code: str) -> str | None:
    return session.scalar(select(Commune.name).where(Commune.code == commune_code))
