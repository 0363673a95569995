"""Import of a territory: communes upserted, a CSP created or updated, all in one transaction."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import ScalarSelect, Select, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.models import Commune, Csp, csp_commune
from geo.errors import InvalidInputError, UnknownCommunesError
from geo.territory import CommuneLayer

BATCH = 200


@dataclass(frozen=True)
class ImportReport:
    csp_id: int
    csp_code: str
    csp_name: str
    csp_created: bool
    communes_inserted: int
    communes_updated: int
    csp_commune_count: int
    repaired: tuple[str, ...]


def slugify(name: str) -> str:
    """ASCII, lower-case, dash-separated form of a name: ``"Évry Centre" -> "evry-centre"``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def _text_or_none(value: object) -> str | None:
    """A text cell of the commune layer (its intercommunalité), None when missing."""
    return value if isinstance(value, str) else None


def _upsert_communes(
    session: Session, layer: CommuneLayer, progress: Callable[[int], None] | None
) -> tuple[int, int]:
    inserted = updated = 0
    rows = [
        {
            "code": row.code,
            "name": row.name,
            "population": None
            if row.population is None or row.population != row.population
            else int(row.population),
            "geom": from_shape(row.geometry, srid=4326),
            "epci_code": _text_or_none(getattr(row, "epci_code", None)),
            "epci_name": _text_or_none(getattr(row, "epci_name", None)),
        }
        for row in layer.communes.itertuples(index=False)
    ]
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        values = insert(Commune).values(batch)
        upsert = values.on_conflict_do_update(
            index_elements=[Commune.code],
            set_={
                "name": values.excluded.name,
                "population": values.excluded.population,
                "geom": values.excluded.geom,
                "epci_code": values.excluded.epci_code,
                "epci_name": values.excluded.epci_name,
            },
        ).returning(text("(xmax = 0) AS inserted"))  # xmax = 0: the row was inserted
        flags = session.execute(upsert).scalars().all()
        inserted += sum(1 for f in flags if f)
        updated += sum(1 for f in flags if not f)
        if progress:
            progress(len(batch))
    return inserted, updated


def _union_of(codes: Sequence[str] | Select[tuple[str]]) -> ScalarSelect[Any]:
    """SQL expression: the union of these communes as one MultiPolygon."""
    outline = func.ST_CollectionExtract(func.ST_UnaryUnion(func.ST_Collect(Commune.geom)), 3)
    return select(func.ST_Multi(outline)).where(Commune.code.in_(codes)).scalar_subquery()


def refresh_csp_geometries(*, session: Session, commune_codes: Sequence[str]) -> None:
    """Recompute the outline of every CSP holding one of these communes."""
    # Correlated to the CSP being updated: without it, the nested select would take the
    # communes of every CSP and give each touched CSP their union.
    members = (
        select(csp_commune.c.commune_code).where(csp_commune.c.csp_id == Csp.id).correlate(Csp)
    )
    touched = select(csp_commune.c.csp_id).where(csp_commune.c.commune_code.in_(commune_codes))
    session.execute(update(Csp).where(Csp.id.in_(touched)).values(geom=_union_of(members)))


def import_territory(
    *,
    session: Session,
    layer: CommuneLayer,
    csp_name: str,
    csp_code: str | None = None,
    csp_communes: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Upsert the layer's communes and make ``csp_name`` the CSP of ``csp_communes``.

    ``csp_communes`` defaults to every commune of the layer; codes may also name
    communes imported earlier. Nothing is committed here: the caller owns the
    transaction, so any error leaves the database as it was.

    Raises
    ------
    UnknownCommunesError
        A code in ``csp_communes`` is neither in the layer nor in the database.
    InvalidInputError
        An empty CSP name or code, or a code already used by another CSP.
    """
    name = csp_name.strip()
    if not name:
        raise InvalidInputError("name_required", field="csp_name")
    code = slugify(csp_code or name)
    if not code:
        raise InvalidInputError("csp_code_impossible", field="csp_code", text=csp_code or name)

    inserted, updated = _upsert_communes(session, layer, progress)

    wanted = sorted(set(csp_communes)) if csp_communes is not None else sorted(layer.codes)
    if not wanted:
        raise InvalidInputError("csp_needs_communes", field="communes")
    known = set(session.scalars(select(Commune.code).where(Commune.code.in_(wanted))))
    if unknown := set(wanted) - known:
        raise UnknownCommunesError(unknown)

    csp = session.scalars(select(Csp).where(Csp.name == name)).one_or_none()
    clash = session.scalars(select(Csp).where(Csp.code == code)).one_or_none()
    if clash is not None and (csp is None or clash.id != csp.id):
        raise InvalidInputError("csp_code_taken", field="csp_code", code=code, name=clash.name)
    created = csp is None
    if csp is None:
        csp_id = session.execute(
            insert(Csp).values(code=code, name=name, geom=_union_of(wanted)).returning(Csp.id)
        ).scalar_one()
    else:
        csp_id = csp.id
        session.execute(
            update(Csp).where(Csp.id == csp_id).values(code=code, geom=_union_of(wanted))
        )
        session.execute(csp_commune.delete().where(csp_commune.c.csp_id == csp_id))
    session.execute(
        csp_commune.insert().values(csp_id=bindparam("csp_id"), commune_code=bindparam("code")),
        [{"csp_id": csp_id, "code": c} for c in wanted],
    )
    refresh_csp_geometries(session=session, commune_codes=layer.codes)
    session.expire_all()
    return ImportReport(
        csp_id=csp_id,
        csp_code=code,
        csp_name=name,
        csp_created=created,
        communes_inserted=inserted,
        communes_updated=updated,
        csp_commune_count=len(wanted),
        repaired=layer.repaired,
    )
