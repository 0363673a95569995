from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from sqlalchemy import select

from api.deps import BBoxDep, DbId, SessionDep, SessionFactoryDep
from api.models import CommuneQpv, csp_commune
from api.repositories.csp import require_csp
from api.repositories.layers import layer_features, layer_public, list_layers
from api.schemas import (
    ErrorPublic,
    FeatureCollection,
    LayerFeatureProperties,
    LayerPublic,
    LayersPublic,
)
from api.services import import_layer_file
from api.uploads import uploaded_file
from geo.layers import LayerKind

router = APIRouter(tags=["couches"])


@router.get("/csp/{csp_id}/layers", responses={404: {"model": ErrorPublic}})
def read_csp_layers(csp_id: DbId, session: SessionDep) -> LayersPublic:
    """Layers with features in the CSP, and the QPVs known only at commune level."""
    require_csp(session=session, csp_id=csp_id)
    layers = list_layers(session=session, csp_id=csp_id)
    qpv: dict[str, list[str]] = {}
    rows = session.execute(
        select(CommuneQpv.commune_code, CommuneQpv.qpv_name)
        .join(csp_commune, csp_commune.c.commune_code == CommuneQpv.commune_code)
        .where(csp_commune.c.csp_id == csp_id)
        .order_by(CommuneQpv.commune_code, CommuneQpv.qpv_name)
    )
    for code, name in rows:
        qpv.setdefault(code, []).append(name)
    return LayersPublic(data=layers, count=len(layers), qpv_by_commune=qpv)


@router.get("/layers/{layer_id}/features", responses={404: {"model": ErrorPublic}})
def read_layer_features(
    layer_id: DbId, session: SessionDep, bbox: BBoxDep
) -> FeatureCollection[LayerFeatureProperties]:
    """A layer's features as GeoJSON, optionally within a WGS84 bounding box."""
    return layer_features(session=session, layer_id=layer_id, bbox=bbox)


@router.post("/layers", status_code=201, responses={422: {"model": ErrorPublic}})
def create_layer(
    factory: SessionFactoryDep,
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
        row = import_layer_file(
            factory=factory,
            path=path,
            kind=kind,
            name=name,
            source=file.filename or path.name,
            default_class=default_class,
            crs=crs,
        )
    return layer_public(row)
