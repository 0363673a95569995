"""The offline geocoder: the local address table (BAN format) and searching it."""

from __future__ import annotations

import pandas as pd

from api.repositories import addresses as repo
from api.schemas import (
    AddressImportPublic,
    GeocodeResultPublic,
    GeocodeResultsPublic,
    ReverseGeocodePublic,
)
from api.services.audit_log import listed, record_write
from api.services.context import Context
from geo.errors import InvalidInputError
from geo.geocoding import check_addresses_inside, near_phrase


def import_addresses(
    ctx: Context, *, table: pd.DataFrame, replace: bool = False
) -> AddressImportPublic:
    """Load addresses read from a BAN or BANO CSV (:func:`geo.geocoding.read_address_csv`),
    all or nothing. Every address must lie in the territory (the communes of the database,
    :func:`geo.geocoding.check_addresses_inside`: 422 listing the others). An address of
    the same commune, street and number is updated, the others added; with ``replace``,
    the other addresses of the file's communes are dropped."""
    communes = sorted(set(table["citycode"]))
    with ctx.write() as session:
        outline = repo.territory(session=session)
        if outline is None:
            raise InvalidInputError("territory_missing", field="file")
        check_addresses_inside(table, outline)
        done = repo.import_addresses(session=session, table=table, replace=replace)
        record_write(
            session,
            ctx,
            "import",
            "addresses",
            detail={
                "count": len(table),
                "communes": listed(set(communes)),
                "added": done.added,
                "updated": done.updated,
                "removed": done.removed,
                "replace": replace,
            },
        )
        return AddressImportPublic(
            imported=len(table), added=done.added, updated=done.updated, removed=done.removed
        )


def geocode(
    ctx: Context, q: str, *, csp_id: int | None = None, commune: str | None = None, limit: int = 5
) -> GeocodeResultsPublic:
    """Positions for a typed address, best first, in a CSP or a commune."""
    with ctx.read() as session:
        results = repo.PostgisGeocoder(session, csp_id, commune).search(q, limit)
    return GeocodeResultsPublic(
        data=[GeocodeResultPublic(**r.__dict__) for r in results], count=len(results)
    )


#: How far (metres) a clicked point may be from an address for it to be said « près du… ».
REVERSE_DISTANCE_M = 150.0


def reverse_geocode(
    ctx: Context, lon: float, lat: float, *, csp_id: int | None = None
) -> ReverseGeocodePublic:
    """The address nearest a point (« près du 12 faubourg de France »), within
    :data:`REVERSE_DISTANCE_M`."""
    with ctx.read() as session:
        found = repo.PostgisGeocoder(session, csp_id).nearest(lon, lat, REVERSE_DISTANCE_M)
    if found is None:
        return ReverseGeocodePublic(found=False, max_distance_m=REVERSE_DISTANCE_M)
    return ReverseGeocodePublic(
        found=True,
        label=found.label,
        near=near_phrase(found.number, found.suffix, found.street),
        lon=found.lon,
        lat=found.lat,
        distance_m=round(found.distance_m, 1),
        citycode=found.citycode,
        max_distance_m=REVERSE_DISTANCE_M,
    )
