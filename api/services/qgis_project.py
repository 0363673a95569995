"""A CSP as a QGIS project: a zip holding a ``.qgz`` project (Lambert-93) and the
GeoPackage it reads, next to it: the CSP's communes, the sectors of its adopted plan,
and its problems as the caller's role permits (records for the direction, a chef or a
partner, within their perimeter; counts per cell, small ones masked, for the others),
each layer styled (:mod:`geo.qgis_styles`). The export is recorded in the audit trail."""

from __future__ import annotations

import io
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from api import clock
from api.repositories import ogc as repo
from api.services.audit_log import record_access
from api.services.context import Context
from geo.export import write_styled_geopackage
from geo.problems import CATEGORIES
from geo.qgis_styles import (
    ProjectLayer,
    category_style,
    heat_style,
    project_xml,
    sector_style,
    simple_style,
)


@dataclass(frozen=True)
class ProjectFile:
    content: bytes
    filename: str
    media_type: str = "application/zip"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_").lower() or "csp"


def export_csp_project(ctx: Context, csp_id: int) -> ProjectFile:
    """The zip of the CSP's QGIS project and its GeoPackage (404 outside the perimeter)."""
    records = ctx.scope.reads_problem_records
    with ctx.read() as session:
        csp = repo.require_csp(session, csp_id)
        communes = repo.communes(session)
        sectors = repo.adopted_sectors(session)
        problems = (
            repo.problems(session)
            if records
            else repo.problem_counts(session, clock.today() - timedelta(days=365))
        )
        frames = {
            "communes": repo.frame(session, communes, [repo.of_csp(communes, csp_id)]),
            "secteurs": repo.frame(session, sectors, [repo.of_csp(sectors, csp_id)]),
            "problematiques": repo.frame(session, problems, [repo.of_csp(problems, csp_id)]),
        }
        title = f"PSQ Secteurs - {csp.name}"
        stem = f"psq_{_slug(csp.code)}"
    named = frames["secteurs"]
    styles = {
        "communes": simple_style("Communes", "#636363"),
        "secteurs": sector_style(list(zip(named["sector"], named["name"], strict=True))),
        "problematiques": category_style(dict(CATEGORIES)) if records else heat_style(),
    }
    titles = {
        "problematiques": "Problématiques" if records else "Problématiques par maille",
        "secteurs": "Secteurs (plan adopté)",
        "communes": "Communes",
    }
    geometry = {"problematiques": "Point" if records else "Polygon"}
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = Path(tmp) / f"{stem}.gpkg"
        write_styled_geopackage(
            gpkg, {table: (frames[table], styles[table]) for table in frames}, crs=2154
        )
        layers = [
            ProjectLayer(table, titles[table], geometry.get(table, "Polygon"), styles[table])
            for table in ("problematiques", "secteurs", "communes")
        ]
        qgs = project_xml(title, gpkg.name, layers, epsg=2154)
        qgz = io.BytesIO()
        with zipfile.ZipFile(qgz, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stem}.qgs", qgs)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stem}.qgz", qgz.getvalue())
            archive.write(gpkg, gpkg.name)
    record_access(
        ctx,
        "export",
        "csp",
        csp_id,
        detail={
            "format": "qgis",
            "problems": "records" if records else "aggregates",
            "count": len(frames["problematiques"]),
        },
    )
    return ProjectFile(out.getvalue(), f"{stem}_qgis.zip")
