"""The offline geocoder: the local address table (BAN format) and searching it."""

from __future__ import annotations

from pathlib import Path

from api.repositories import addresses as repo
from api.schemas import GeocodeResultPublic, GeocodeResultsPublic
from api.services.context import Context
from geo.geocoding import read_ban_csv


def import_addresses(ctx: Context, *, path: Path) -> int:
    """Load addresses from a BAN-format CSV, all or nothing; the addresses of the same
    communes are replaced."""
    table = read_ban_csv(path)
    with ctx.write() as session:
        return repo.import_addresses(session=session, table=table)


def geocode(
    ctx: Context, q: str, *, csp_id: int | None = None, commune: str | None = None, limit: int = 5
) -> GeocodeResultsPublic:
    """Positions for a typed address, best first, in a CSP or a commune."""
    with ctx.read() as session:
        results = repo.PostgisGeocoder(session, csp_id, commune).search(q, limit)
    return GeocodeResultsPublic(
        data=[GeocodeResultPublic(**r.__dict__) for r in results], count=len(results)
    )
