"""The offline geocoder: the local address table (BAN format) and searching it."""

from __future__ import annotations

import pandas as pd

from api.repositories import addresses as repo
from api.schemas import GeocodeResultPublic, GeocodeResultsPublic
from api.services.audit_log import listed, record_write
from api.services.context import Context
from geo.errors import InvalidInputError
from geo.geocoding import AddressesReplaceError, check_addresses_inside


def import_addresses(ctx: Context, *, table: pd.DataFrame, replace: bool = False) -> int:
    """Load addresses read from a BAN-format CSV (:func:`geo.geocoding.read_ban_csv`), all
    or nothing. Every address must lie in the territory (the communes of the database,
    :func:`geo.geocoding.check_addresses_inside`: 422 listing the others); the addresses
    of communes that already have some are replaced only when ``replace`` says so (else
    409 saying how many of which communes)."""
    communes = sorted(set(table["citycode"]))
    with ctx.write() as session:
        outline = repo.territory(session=session)
        if outline is None:
            raise InvalidInputError(
                "file : aucune commune dans la base ; importez d'abord le territoire "
                "(psq import-territory)"
            )
        check_addresses_inside(table, outline)
        existing = repo.counts_by_commune(session=session, citycodes=communes)
        if existing and not replace:
            raise AddressesReplaceError(existing)
        count = repo.import_addresses(session=session, table=table)
        record_write(
            session,
            ctx,
            "import",
            "addresses",
            detail={
                "count": count,
                "communes": listed(set(communes)),
                "replaced": sum(existing.values()),
            },
        )
        return count


def geocode(
    ctx: Context, q: str, *, csp_id: int | None = None, commune: str | None = None, limit: int = 5
) -> GeocodeResultsPublic:
    """Positions for a typed address, best first, in a CSP or a commune."""
    with ctx.read() as session:
        results = repo.PostgisGeocoder(session, csp_id, commune).search(q, limit)
    return GeocodeResultsPublic(
        data=[GeocodeResultPublic(**r.__dict__) for r in results], count=len(results)
    )
