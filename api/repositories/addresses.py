"""The local address table and the offline geocoder that searches it."""

from __future__ import annotations

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.db import copy_frame
from api.models import Address, Commune, csp_commune
from api.repositories.base import read_geometry
from geo.geocoding import GeocodeResult, normalize, parse_query, score

MAX_CANDIDATES = 500


def import_addresses(*, session: Session, table: pd.DataFrame) -> int:
    """Store addresses (see :func:`geo.geocoding.read_ban_csv`), replacing those of the
    same communes; the caller commits (all or nothing)."""
    session.execute(delete(Address).where(Address.citycode.in_(sorted(set(table["citycode"])))))
    points = shapely.points(table[["lon", "lat"]].to_numpy())
    rows = table.drop(columns=["lon", "lat"]).assign(
        geom=shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    )
    copy_frame(session, "address", rows)
    return len(rows)


def territory(*, session: Session) -> BaseGeometry | None:
    """The union of every commune's outline (None when there is none)."""
    return read_geometry(session, select(func.ST_AsBinary(func.ST_Union(Commune.geom))))


def counts_by_commune(*, session: Session, citycodes: list[str]) -> dict[str, int]:
    """How many addresses each of these communes already has (those with some)."""
    rows = session.execute(
        select(Address.citycode, func.count())
        .where(Address.citycode.in_(citycodes))
        .group_by(Address.citycode)
    ).all()
    return {str(code): int(n) for code, n in rows}


class PostgisGeocoder:
    """:class:`geo.geocoding.Geocoder` on the address table, optionally limited to the
    communes of one CSP or to one commune (``citycode``)."""

    def __init__(
        self, session: Session, csp_id: int | None = None, citycode: str | None = None
    ) -> None:
        self.session = session
        self.csp_id = csp_id
        self.citycode = citycode

    def search(self, query: str, limit: int = 5) -> list[GeocodeResult]:
        parsed = parse_query(query)
        if not parsed.words:
            return []
        stmt = select(
            Address.label,
            Address.street,
            Address.city,
            Address.number,
            Address.postcode,
            Address.citycode,
            Address.search,
            func.ST_X(Address.geom),
            func.ST_Y(Address.geom),
        )
        # every word typed but the commune's must be in the street: look for the
        # longest word, rank the rest in Python
        stmt = stmt.where(Address.search.contains(max(parsed.words, key=len)))
        if parsed.postcode:
            stmt = stmt.where(Address.postcode == parsed.postcode)
        if self.citycode is not None:
            stmt = stmt.where(Address.citycode == self.citycode)
        if self.csp_id is not None:
            stmt = stmt.where(
                Address.citycode.in_(
                    select(csp_commune.c.commune_code).where(csp_commune.c.csp_id == self.csp_id)
                )
            )
        rows = self.session.execute(stmt.limit(MAX_CANDIDATES)).all()
        results = [
            GeocodeResult(
                label=label,
                lon=float(x),
                lat=float(y),
                score=score(parsed, normalize(street), normalize(city), number, postcode),
                citycode=citycode,
            )
            for label, street, city, number, postcode, citycode, _search, x, y in rows
        ]
        results.sort(key=lambda r: (-r.score, r.label))
        return results[:limit]
