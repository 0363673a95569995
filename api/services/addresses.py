"""The offline geocoder: the local address table (BAN format) and searching it."""

from __future__ import annotations

import pandas as pd

from api.repositories import addresses as repo
from api.schemas import GeocodeResultPublic, GeocodeResultsPublic
from api.services.audit_log import listed, record_write
from api.services.context import Context


def import_addresses(ctx: Context, *, table: pd.DataFrame) -> int:
    """Load addresses read from a BAN-format CSV (:func:`geo.geocoding.read_ban_csv`), all
    or nothing; the addresses of the same communes are replaced."""
    with ctx.write() as session:
        count = repo.import_addresses(session=session, table=table)
        record_write(
            session,
            ctx,
            "import",
            "addresses",
            detail={"count": count, "communes": listed(set(table["citycode"]))},
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
