from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from api import access
from api.deps import ContextDep
from api.routes.responses import CONFLICT, INVALID, TOO_LARGE
from api.schemas import COMMUNE_CODE, GeocodeResultsPublic, ImportCountPublic
from api.services import addresses
from api.uploads import uploaded_file
from geo.geocoding import read_ban_csv

router = APIRouter(tags=["adresses"])


@router.post(
    "/addresses/import",
    status_code=201,
    responses={**CONFLICT, **TOO_LARGE},
    dependencies=[access.PLANNING],
)
def import_address_file(
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="Addresses in the BAN CSV format")],
    replace: Annotated[
        bool,
        Form(description="Confirm that the addresses of communes that have some are replaced"),
    ] = False,
) -> ImportCountPublic:
    """Load the offline geocoder's address table from a BAN-format CSV, all or nothing.
    Every address must lie in the territory (422 listing the others by row); replacing
    the addresses of communes that have some needs ``replace=true`` (else 409)."""
    with uploaded_file(file, "addresses.csv") as path:
        table = read_ban_csv(path)
    return ImportCountPublic(imported=addresses.import_addresses(ctx, table=table, replace=replace))


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
    """Positions for a typed address, best first, from the local address table."""
    return addresses.geocode(ctx, q, csp_id=csp, commune=commune, limit=limit)
