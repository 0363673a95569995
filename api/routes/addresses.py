from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from api import access
from api.deps import ContextDep
from api.routes.responses import CONFLICT, INVALID, TOO_LARGE
from api.schemas import (
    COMMUNE_CODE,
    AddressImportPublic,
    GeocodeResultsPublic,
    ReverseGeocodePublic,
)
from api.services import addresses
from api.uploads import uploaded_file
from geo.geocoding import read_address_csv

router = APIRouter(tags=["adresses"])


@router.post(
    "/addresses/import",
    status_code=201,
    responses={**CONFLICT, **TOO_LARGE},
    dependencies=[access.PLANNING],
)
def import_address_file(
    ctx: ContextDep,
    file: Annotated[
        UploadFile, File(description="Addresses: a BAN CSV (adresses-DD.csv) or a BANO CSV")
    ],
    replace: Annotated[
        bool,
        Form(description="Drop the file's communes' other addresses (else add and update)"),
    ] = False,
) -> AddressImportPublic:
    """Load the offline geocoder's address table from a BAN or BANO CSV, all or nothing.
    Every address must lie in the territory (422 listing the others by row). An address
    of the same commune, street and number is updated, the others added; ``replace=true``
    drops the other addresses of the file's communes."""
    with uploaded_file(file, "addresses.csv") as path:
        table = read_address_csv(path)
    return addresses.import_addresses(ctx, table=table, replace=replace)


@router.get("/geocode", responses=INVALID, dependencies=[access.SIGNED_IN])
def geocode(
    ctx: ContextDep,
    q: Annotated[str, Query(min_length=2, max_length=300, description="An address")],
    csp: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only in this CSP")] = None,
    commune: Annotated[
        str | None,
        Query(pattern=COMMUNE_CODE, description="Only in this commune (INSEE code)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> GeocodeResultsPublic:
    """Positions for a typed address (or its beginning: suggestions as one types), best
    first, from the local address table: accents, case and the usual abbreviations (fbg,
    bd, av, st, ste…) do not matter; a number may carry its suffix (12 bis), the
    commune's name or postcode narrows it."""
    return addresses.geocode(ctx, q, csp_id=csp, commune=commune, limit=limit)


@router.get("/geocode/reverse", responses=INVALID, dependencies=[access.SIGNED_IN])
def reverse_geocode(
    ctx: ContextDep,
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude (WGS84)")],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude (WGS84)")],
    csp: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only in this CSP")] = None,
) -> ReverseGeocodePublic:
    """The address nearest a point (« près du 12 faubourg de France »), if one lies
    within 150 m."""
    return addresses.reverse_geocode(ctx, lon, lat, csp_id=csp)
