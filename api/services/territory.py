"""The territory: communes, CSPs, their import, the layers checked against them and the
QPV lists."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from api.models import Csp
from api.repositories import communes, csp, layers, territory
from api.repositories.base import require
from api.repositories.territory import ImportReport
from api.schemas import (
    BBox,
    CommuneProperties,
    CspProperties,
    CspsPublic,
    FeatureCollection,
    LayerFeatureProperties,
    LayerPublic,
    LayersPublic,
)
from api.services.audit_log import record_write
from api.services.context import Context
from geo.errors import InvalidInputError
from geo.layers import PREFERRED_LAYERS, osm_layer, prepare_layer
from geo.territory import CommuneLayer, read_vector


def list_communes(
    ctx: Context, *, csp_id: int | None = None, bbox: BBox | None = None
) -> FeatureCollection[CommuneProperties]:
    """Communes, optionally those of one CSP (404 when unknown) and/or in a bbox."""
    with ctx.read() as session:
        if csp_id is not None:
            require(session, Csp, csp_id)
        return communes.list_communes(session=session, csp_id=csp_id, bbox=bbox)


def list_csps(ctx: Context) -> CspsPublic:
    with ctx.read() as session:
        return csp.list_csps(session=session)


def get_csp(ctx: Context, csp_id: int) -> FeatureCollection[CspProperties]:
    with ctx.read() as session:
        return csp.get_csp(session=session, csp_id=csp_id)


def find_csp_id(ctx: Context, name_or_code: str) -> int | None:
    """The id of the CSP with this id, code or name (the CLI's way to name one)."""
    with ctx.read() as session:
        return csp.find_csp_id(session=session, name_or_code=name_or_code)


def import_territory(
    ctx: Context,
    *,
    layer: CommuneLayer,
    csp_name: str,
    csp_code: str | None = None,
    commune_codes: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a validated commune layer and its CSP in one transaction (all or nothing)."""
    with ctx.write() as session:
        report = territory.import_territory(
            session=session,
            layer=layer,
            csp_name=csp_name,
            csp_code=csp_code,
            csp_communes=commune_codes,
            progress=progress,
        )
        record_write(
            session,
            ctx,
            "import",
            "csp",
            report.csp_id,
            detail={
                "code": report.csp_code,
                "name": report.csp_name,
                "csp_created": report.csp_created,
                "communes_inserted": report.communes_inserted,
                "communes_updated": report.communes_updated,
                "csp_commune_count": report.csp_commune_count,
            },
        )
        return report


def import_layer_file(
    ctx: Context,
    *,
    path: Path,
    kind: str,
    name: str,
    source: str | None = None,
    default_class: str | None = None,
    crs: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LayerPublic:
    """Read, validate (against the communes in the database) and store a layer, all or
    nothing; ``crs`` is the CRS of its coordinates when the file's own is missing or wrong.

    ``progress`` hears each stage as it begins: ``("reading", 0)``, ``("checking", n)``
    and ``("writing", n)`` with the number of features read, then checked."""
    tell = progress or (lambda _stage, _count: None)
    tell("reading", 0)
    gdf = read_vector(path, osm_layer=osm_layer(kind), prefer_layers=PREFERRED_LAYERS.get(kind, ()))
    label = source or path.name
    default_class = (default_class or "").strip() or None  # an empty form field is no class
    tell("checking", len(gdf))
    with ctx.write() as session:
        layer = prepare_layer(
            gdf,
            kind,
            territory=layers.territory(session=session),
            source=label,
            default_class=default_class,
            crs=crs,
        )
        tell("writing", len(layer.features))
        row = layers.create_layer(session=session, name=name, source=label, layer=layer)
        public = layers.layer_public(row)
        record_write(
            session,
            ctx,
            "import",
            "layer",
            public.id,
            detail={"name": name, "kind": kind, "source": label},
        )
        return public


def read_qpv_list(path: Path) -> list[tuple[str, str, str]]:
    """(commune code, QPV code, QPV name) rows of a CSV (code_qp, lib_qp, insee_com)."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        expected = {"code_qp", "lib_qp", "insee_com"}
        if reader.fieldnames is None or not expected <= set(reader.fieldnames):
            raise InvalidInputError(
                "file_columns_expected",
                name=path.name,
                expected=sorted(expected),
                found=list(reader.fieldnames or []),
            )
        return [(r["insee_com"].strip(), r["code_qp"].strip(), r["lib_qp"].strip()) for r in reader]


def import_qpv_list(ctx: Context, *, path: Path) -> int:
    """Record a QPV list per commune, all or nothing."""
    rows = read_qpv_list(path)
    with ctx.write() as session:
        count = layers.replace_qpv_list(session=session, rows=rows)
        record_write(
            session,
            ctx,
            "import",
            "qpv_list",
            detail={
                "file": path.name,
                "count": count,
                "communes": sorted({c for c, _, _ in rows}),
            },
        )
        return count


def list_csp_layers(ctx: Context, csp_id: int) -> LayersPublic:
    """Layers with features in the CSP, and the QPVs known only at commune level."""
    with ctx.read() as session:
        require(session, Csp, csp_id)
        data = layers.list_layers(session=session, csp_id=csp_id)
        qpv = layers.qpv_by_commune(session=session, csp_id=csp_id)
    return LayersPublic(data=data, count=len(data), qpv_by_commune=qpv)


def layer_features(
    ctx: Context, layer_id: int, *, bbox: BBox | None = None
) -> FeatureCollection[LayerFeatureProperties]:
    with ctx.read() as session:
        return layers.layer_features(session=session, layer_id=layer_id, bbox=bbox)
