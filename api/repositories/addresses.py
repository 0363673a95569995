"""The local address table and the offline geocoder that searches it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.orm import Session

from api.db import copy_frame
from api.models import Address, Commune, csp_commune
from api.repositories.base import read_geometry
from geo.geocoding import GeocodeResult, normalize, parse_query, score

MAX_CANDIDATES = 200


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
    return AddressImport(added=max(0, len(rows) - updated), updated=updated, removed=removed)


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

    def _scoped(self, stmt: Select[Any]) -> Select[Any]:
        if self.citycode is not None:
            stmt = stmt.where(Address.citycode == self.citycode)
        if self.csp_id is not None:
            stmt = stmt.where(
                Address.citycode.in_(
                    select(csp_commune.c.commune_code).where(csp_commune.c.csp_id == self.csp_id)
                )
            )
        return stmt

    def search(self, query: str, limit: int = 5) -> list[GeocodeResult]:
        """Every word typed (the last one maybe unfinished) must be in the address's
        normalised street and commune (``search``, its trigram index answers the
        ``LIKE``); the candidates with the house number asked come first, then the
        closest texts, and :func:`geo.geocoding.score` ranks them."""
        parsed = parse_query(query)
        if not parsed.words:
            return []
        stmt = select(
            Address.label,
            Address.street,
            Address.city,
            Address.number,
            Address.suffix,
            Address.postcode,
            Address.citycode,
            func.ST_X(Address.geom),
            func.ST_Y(Address.geom),
        )
        for word in parsed.words:
            stmt = stmt.where(Address.search.contains(word, autoescape=True))
        if parsed.postcode:
            stmt = stmt.where(Address.postcode == parsed.postcode)
        typed = " ".join(parsed.words)
        stmt = self._scoped(stmt).order_by(
            (Address.number == (parsed.number or "")).desc(),
            func.similarity(Address.search, typed).desc(),
        )
        rows = self.session.execute(stmt.limit(MAX_CANDIDATES)).all()
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
