"""Searching the problems as the problems page does (by GPO, sector, category, status,
period and text, within the caller's perimeter), a page at a time or exported whole as
CSV or GeoJSON, each export recorded in the audit trail."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from api import clock
from api.compression import JoinedBody
from api.repositories import problem_search as repo
from api.repositories import touches
from api.repositories.base import problem_revision
from api.schemas import ProblemExport
from api.services.audit_log import record_access
from api.services.context import Context
from api.services.kept_lists import kept_list
from geo.errors import InvalidInputError
from geo.study import ProblemSearch

#: The export formats: media type and file suffix.
EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "geojson": ("application/geo+json", "geojson"),
}

#: The columns of the CSV export (French headers, ``;``-separated, UTF-8 with a BOM).
CSV_HEADERS = (
    "n°",
    "catégorie",
    "titre",
    "statut",
    "statut depuis le",
    "signalé le",
    "priorité",
    "secteur",
    "GPO",
    "adresse",
    "longitude",
    "latitude",
    "fictif",
)


def search_problems_json(
    ctx: Context, csp_id: int, search: ProblemSearch, *, limit: int, offset: int = 0
) -> bytes:
    """A page of the CSP's problems the caller sees matching the search as GeoJSON bytes,
    newest first, with how many match in all; kept in the map cache per caller's
    perimeter and search until the CSP's problems change (their actions are not in it:
    an action step leaves it valid). The first page is then brought up to date from the
    problems written since (:func:`api.services.kept_lists.kept_list`): only those are
    read and written as GeoJSON again, and its gzipped form is assembled from the runs of
    features compressed before (:class:`api.compression.JoinedBody`)."""
    key = ("problems", ctx.scope, csp_id, search, limit, offset)
    with ctx.read() as session:
        touches.one_snapshot(session)

        def compute() -> bytes:
            if offset:
                return repo.list_problems_json(
                    session=session, csp_id=csp_id, search=search, limit=limit, offset=offset
                )
            kept = kept_list(
                ctx,
                session,
                ("problems", ctx.scope, csp_id, search, limit),
                csp_ids=[csp_id],
                limit=limit,
                whole=lambda: (
                    repo.matching_ids(session=session, csp_id=csp_id, search=search),
                    repo.ranked_features(
                        session=session, csp_id=csp_id, search=search, limit=limit
                    ),
                ),
                some=lambda ids: repo.ranked_features(
                    session=session, csp_id=csp_id, search=search, ids=ids
                ),
            )
            head, tail = repo.collection_ends(kept.count)
            held = ctx.maps.held(key)
            # a write that left the page as it was: the same bytes again
            return JoinedBody.again(held and held[1], head, kept.pieces, b",", tail)

        body: bytes = ctx.maps.get_or_compute(
            key, problem_revision(session=session, csp_id=csp_id), compute
        )
        return body


def _narrower(search: ProblemSearch) -> str:
    """The parameter to narrow first: the period when it is open, else a filter not used."""
    unused = (
        ("since", search.since is None and search.until is None),
        ("gpo", search.gpo_id is None and not search.sectors),
        ("category", not search.categories),
        ("status", not search.statuses),
        ("q", not search.text),
    )
    return next((name for name, free in unused if free), "since")


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    media_type: str
    count: int


def problems_csv(export: ProblemExport) -> bytes:
    """The exported problems as CSV: ``;``, French headers, UTF-8 with a BOM (a spreadsheet
    reads the accents), sectors numbered from 1 as the pages show them."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for feature in export.features:
        p = feature.properties
        writer.writerow(
            [
                p.id,
                p.category_label,
                p.title,
                p.status_label,
                p.status_on.isoformat(),
                p.reported_on.isoformat(),
                p.priority,
                "" if p.sector is None else p.sector + 1,
                p.gpo or "",
                p.address or "",
                p.lon,
                p.lat,
                "oui" if p.synthetic else "non",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_problems(ctx: Context, csp_id: int, search: ProblemSearch, *, fmt: str) -> ExportFile:
    """The CSP's problems the caller sees matching the search, all of them (newest first),
    as CSV or GeoJSON (WGS84); past ``ctx.export_rows`` problems, a 422 naming the filter to
    narrow. The export is recorded in the audit trail."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError(
            "format_unknown", field="format", value=str(fmt), expected="csv ou geojson"
        )
    with ctx.read() as session:
        count = repo.count_problems(session=session, csp_id=csp_id, search=search)
        if count > ctx.export_rows:
            raise InvalidInputError(
                "export_too_many", field=_narrower(search), count=count, limit=ctx.export_rows
            )
        export = repo.export_problems(
            session=session, csp_id=csp_id, search=search, limit=ctx.export_rows
        )
    media_type, suffix = EXPORT_FORMATS[fmt]
    content = (
        problems_csv(export)
        if fmt == "csv"
        else export.model_dump_json(exclude={"bbox"}).encode("utf-8")
    )
    record_access(
        ctx,
        "export",
        "problem",
        None,
        detail={
            "csp_id": csp_id,
            "format": fmt,
            "count": len(export.features),
            "filters": {
                "gpo": search.gpo_id,
                "sector": list(search.sectors),
                "category": list(search.categories),
                "status": list(search.statuses),
                "since": search.since.isoformat() if search.since else None,
                "until": search.until.isoformat() if search.until else None,
                "q": search.text,
            },
        },
    )
    return ExportFile(
        content=content,
        filename=f"problematiques_csp{csp_id}_{clock.today().isoformat()}.{suffix}",
        media_type=media_type,
        count=len(export.features),
    )
