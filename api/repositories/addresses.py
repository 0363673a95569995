"""The local address table and the offline geocoder that searches it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from api.db import copy_frame
from api.models import Address, AddressStreet, Commune, csp_commune
from api.repositories.base import read_geometry
from geo.geocoding import GeocodeResult, normalize, parse_query, score

#: How many streets a search keeps, and how many addresses of each (the number asked
#: first, then the smallest).
MAX_STREETS = 30
PER_STREET = 5
_ADDRESSES_OF_STREETS = """
SELECT a.label, a.street, a.city, a.number, a.suffix, a.postcode, a.citycode,
       ST_X(a.geom), ST_Y(a.geom)
FROM unnest(CAST(:codes AS text[]), CAST(:postcodes AS text[]), CAST(:streets AS text[]))
     AS s(citycode, postcode, street)
CROSS JOIN LATERAL (
    SELECT * FROM address a
    WHERE a.citycode = s.citycode AND a.postcode = s.postcode AND a.street = s.street
    ORDER BY a.number = :number DESC, length(a.number), a.number, a.suffix NULLS FIRST
    LIMIT :per_street
) a
"""


@dataclass(frozen=True)
class AddressImport:
    added: int
    updated: int
    removed: int


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def import_addresses(*, session: Session, table: pd.DataFrame, replace: bool) -> AddressImport:
    """Store addresses (see :func:`geo.geocoding.read_address_csv`): an address of the same
    commune, street and number (suffix included) is updated, the others are added; with
    ``replace``, the communes' other addresses are dropped first. The caller commits (all
    or nothing)."""
    communes = sorted(set(table["citycode"]))
    removed = 0
    if replace:
        removed = _rowcount(session.execute(delete(Address).where(Address.citycode.in_(communes))))
    points = shapely.points(table[["lon", "lat"]].to_numpy())
    rows = table.drop(columns=["lon", "lat"]).assign(
        geom=shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    )
    session.execute(
        text("CREATE TEMP TABLE address_in (LIKE address INCLUDING DEFAULTS) ON COMMIT DROP")
    )
    copy_frame(session, "address_in", rows)
    updated = _rowcount(
        session.execute(
            text(
                "DELETE FROM address a USING address_in t WHERE a.citycode = t.citycode "
                "AND a.street = t.street AND a.number = t.number "
                "AND a.suffix IS NOT DISTINCT FROM t.suffix"
            )
        )
    )
    columns = ", ".join(f'"{c}"' for c in rows.columns)
    session.execute(text(f"INSERT INTO address ({columns}) SELECT {columns} FROM address_in"))
    session.execute(text("DROP TABLE address_in"))
    refresh_streets(session, communes)
    return AddressImport(added=max(0, len(rows) - updated), updated=updated, removed=removed)


def refresh_streets(session: Session, communes: list[str]) -> None:
    """Rebuild the street table (:class:`api.models.AddressStreet`) of these communes from
    their addresses."""
    session.execute(
        text("DELETE FROM address_street WHERE citycode = ANY(:communes)"), {"communes": communes}
    )
    session.execute(
        text(
            "INSERT INTO address_street (citycode, postcode, street, city, search) "
            "SELECT DISTINCT ON (citycode, postcode, street) citycode, postcode, street, city, "
            "search FROM address WHERE citycode = ANY(:communes) "
            "ORDER BY citycode, postcode, street"
        ),
        {"communes": communes},
    )


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

    def _scoped(self, stmt: Any, citycode: Any = Address.citycode) -> Any:
        if self.citycode is not None:
            stmt = stmt.where(citycode == self.citycode)
        if self.csp_id is not None:
            stmt = stmt.where(
                citycode.in_(
                    select(csp_commune.c.commune_code).where(csp_commune.c.csp_id == self.csp_id)
                )
            )
        return stmt

    def search(self, query: str, limit: int = 5) -> list[GeocodeResult]:
        """The streets first: every word typed (the last one maybe unfinished) must be in a
        street's normalised name and commune (``address_street.search``, its trigram
        index answers the ``LIKE``), the :data:`MAX_STREETS` closest kept; then a few
        addresses of each, the number asked first; :func:`geo.geocoding.score` ranks them."""
        parsed = parse_query(query)
        if not parsed.words:
            return []
        streets = select(AddressStreet.citycode, AddressStreet.postcode, AddressStreet.street)
        for word in parsed.words:
            streets = streets.where(AddressStreet.search.contains(word, autoescape=True))
        if parsed.postcode:
            streets = streets.where(AddressStreet.postcode == parsed.postcode)
        typed = " ".join(parsed.words)
        streets = self._scoped(streets, AddressStreet.citycode).order_by(
            func.similarity(AddressStreet.search, typed).desc()
        )
        found = self.session.execute(streets.limit(MAX_STREETS)).all()
        if not found:
            return []
        rows = self.session.execute(
            text(_ADDRESSES_OF_STREETS),
            {
                "codes": [r[0] for r in found],
                "postcodes": [r[1] for r in found],
                "streets": [r[2] for r in found],
                "number": parsed.number or "",
                "per_street": PER_STREET,
            },
        ).all()
        results = [
            GeocodeResult(
                label=label,
                lon=float(x),
                lat=float(y),
                score=score(parsed, normalize(street), normalize(city), number, postcode, suffix),
                citycode=citycode,
            )
            for label, street, city, number, suffix, postcode, citycode, x, y in rows
        ]
        results.sort(key=lambda r: (-r.score, r.label))
        return results[:limit]

    def nearest(self, lon: float, lat: float, max_distance_m: float) -> NearestAddress | None:
        """The address nearest a point, within ``max_distance_m`` (the index's ``<->``
        order, the distance on the spheroid)."""
        point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
        distance = func.ST_Distance(func.Geography(Address.geom), func.Geography(point))
        stmt = self._scoped(
            select(
                Address.label,
                Address.number,
                Address.suffix,
                Address.street,
                Address.city,
                Address.citycode,
                func.ST_X(Address.geom),
                func.ST_Y(Address.geom),
                distance,
            )
        )
        row = self.session.execute(stmt.order_by(Address.geom.op("<->")(point)).limit(1)).first()
        if row is None or float(row[-1]) > max_distance_m:
            return None
        label, number, suffix, street, city, citycode, x, y, metres = row
        return NearestAddress(
            label=label,
            number=number,
            suffix=suffix,
            street=street,
            city=city,
            citycode=citycode,
            lon=float(x),
            lat=float(y),
            distance_m=float(metres),
        )


@dataclass(frozen=True)
class NearestAddress:
    label: str
    number: str
    suffix: str | None
    street: str
    city: str
    citycode: str
    lon: float
    lat: float
    distance_m: float
