from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from api import access
from api.deps import BBoxDep, ContextDep, DbId
from api.schemas import (
    ErrorPublic,
    FeatureCollection,
    LayerFeatureProperties,
    LayerPublic,
    LayersPublic,
)
from api.services import territory
from api.uploads import uploaded_file
from geo.layers import LayerKind

router = APIRouter(tags=["couches"])


@router.get(
    "/csp/{csp_id:int}/layers",
    responses={404: {"model": ErrorPublic}},
    dependencies=[access.SIGNED_IN],
)
def read_csp_layers(csp_id: DbId, ctx: ContextDep) -> LayersPublic:
    """Layers with features in the CSP, and the QPVs known only at commune level."""
    return territory.list_csp_layers(ctx, csp_id)


@router.get(
    "/layers/{layer_id:int}/features",
    responses={404: {"model": ErrorPublic}},
    dependencies=[access.SIGNED_IN],
)
def read_layer_features(
    layer_id: DbId, ctx: ContextDep, bbox: BBoxDep
) -> FeatureCollection[LayerFeatureProperties]:
    """A layer's features as GeoJSON, optionally within a WGS84 bounding box."""
    return territory.layer_features(ctx, layer_id, bbox=bbox)


@router.post(
    "/layers",
    status_code=201,
    responses={422: {"model": ErrorPublic}},
    dependencies=[access.PLANNING],
)
def create_layer(
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="GeoJSON, GeoPackage, zipped Shapefile…")],
    kind: Annotated[LayerKind, Form()],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    default_class: Annotated[str | None, Form(description="class/type for every feature")] = None,
    crs: Annotated[
        str | None,
        Form(
            max_length=100,
            description="CRS of the coordinates (e.g. EPSG:2154), when the file declares none "
            "or a wrong one; it replaces the file's declaration",
        ),
    ] = None,
) -> LayerPublic:
    """Import a layer of a declared kind; validated against the territory, all or nothing."""
    with uploaded_file(file) as path:
        return territory.import_layer_file(
            ctx,
            path=path,
            kind=kind,
            name=name,
            source=file.filename or path.name,
            default_class=default_class,
            crs=crs,
        )
