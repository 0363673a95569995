"""Reading problems from files (CSV with lon/lat or WKT columns, GeoJSON) and checking
every row, so that an import is all or nothing with a row-by-row report.

CSV columns (UTF-8, ``,`` or ``;``): ``category``, ``title``, ``reported_on``
(YYYY-MM-DD), and either ``lon`` + ``lat`` (WGS84) or ``wkt`` (WGS84); optional
``description``, ``address``, ``priority``. GeoJSON: one feature per problem, the same
names as properties. Unknown columns are ignored.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InvalidInputError
from geo.geometry import BORDER_TOLERANCE_DEG, anchors, outside_territory, validity_reason
from geo.messages import render
from geo.problems import CATEGORIES, PRIORITIES

REQUIRED = ("category", "title", "reported_on")
MAX_ERRORS = 200  # the report lists at most this many rows


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row (CSV: line 2 is row 1), or feature number
    column: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class RowErrorsError(InvalidInputError):
    """Rows that cannot be imported; nothing was imported."""

    def __init__(self, errors: Sequence[RowError], total: int) -> None:
        self.errors = list(errors)[:MAX_ERRORS]
        first = errors[0]
        super().__init__(
            "file_rows_refused",
            field="file",
            count=len(errors),
            total=total,
            row=first.row,
            column=first.column,
            reason=first.reason,
        )


def read_problem_file(path: Path, filename: str | None = None, *, today: date) -> gpd.GeoDataFrame:
    """The rows of a CSV or GeoJSON file as a GeoDataFrame (EPSG:4326) with the columns
    above and ``row`` (row number); rows that cannot be read (or reported after
    ``today``) raise :class:`RowErrorsError` naming each one."""
    name = (filename or path.name).lower()
    if name.endswith((".geojson", ".json")):
        return _from_geojson(path, today)
    if name.endswith((".csv", ".txt")):
        return _from_csv(path, today)
    raise InvalidInputError(
        "file_neither_csv_nor_geojson", field="file", name=filename or path.name
    )


def _csv_reason(exc: Exception) -> str:
    """Why pandas or the csv module could not read a CSV, in French (their class name,
    « ParserError », was the reason given)."""
    if isinstance(exc, pd.errors.EmptyDataError):
        return "fichier vide"
    return "guillemets non refermés, ou lignes de longueurs différentes"


#: The most columns a CSV of problems may have: a dozen are read, the rest ignored.
MAX_COLUMNS = 200


def _from_csv(path: Path, today: date) -> gpd.GeoDataFrame:
    raw = path.read_bytes()
    try:
        # A spreadsheet's « texte Unicode » is UTF-16 with its byte order mark.
        utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        content = raw.decode("utf-16") if utf16 else raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = raw.decode("latin-1")
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        first = content.partition("\n")[0]
        header = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
        if len(header) > MAX_COLUMNS:  # pandas took seconds per 10 000 columns
            raise InvalidInputError(
                "csv_too_many_columns", field="file", count=len(header), most=MAX_COLUMNS
            )
        table = pd.read_csv(io.StringIO(content), sep=delimiter, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, csv.Error) as exc:
        raise InvalidInputError("csv_unreadable", field="file", reason=_csv_reason(exc)) from None
    table.columns = [c.strip().lower() for c in table.columns]
    rows = np.arange(1, len(table) + 1)
    errors: list[RowError] = []
    geoms = np.full(len(table), None, dtype=object)
    if "wkt" in table.columns:
        text = table["wkt"].str.strip()
        given = (text != "").to_numpy()
        parsed = shapely.from_wkt(np.where(given, text.to_numpy(), None), on_invalid="ignore")
        geoms[given] = parsed[given]
        for i in np.flatnonzero(given & pd.isna(parsed)):
            errors.append(
                RowError(int(rows[i]), "wkt", render("row_not_wkt", text=text.iloc[i][:60]))
            )
    if "lon" in table.columns and "lat" in table.columns:
        lon_text = table["lon"].str.strip().str.replace(",", ".", regex=False)
        lat_text = table["lat"].str.strip().str.replace(",", ".", regex=False)
        lon = pd.to_numeric(lon_text, errors="coerce").to_numpy()
        lat = pd.to_numeric(lat_text, errors="coerce").to_numpy()
        todo = pd.isna(geoms) & ((lon_text != "") | (lat_text != "")).to_numpy()
        numbers = todo & ~np.isnan(lon) & ~np.isnan(lat)
        geoms[numbers] = shapely.points(np.c_[lon[numbers], lat[numbers]])
        for i in np.flatnonzero(todo & ~numbers):
            errors.append(
                RowError(
                    int(rows[i]),
                    "lon/lat",
                    render(
                        "row_not_numbers",
                        lon=str(table["lon"].iloc[i]),
                        lat=str(table["lat"].iloc[i]),
                    ),
                )
            )
    elif "wkt" not in table.columns:
        raise InvalidInputError(
            "file_no_position_columns", field="file", found=[str(c) for c in table.columns]
        )
    table["row"] = rows
    frame = gpd.GeoDataFrame(
        table.drop(columns=["lon", "lat", "wkt"], errors="ignore"), geometry=geoms, crs=4326
    )
    return _checked(frame, errors, today)


def _from_geojson(path: Path, today: date) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds
        said = str(exc).replace(str(path.parent) + "/", "")  # GDAL says the full path
        raise InvalidInputError("geojson_unreadable", field="file", reason=said[:200]) from None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    frame.columns = [c if c == "geometry" else str(c).strip().lower() for c in frame.columns]
    for column in frame.columns:
        if column != "geometry":
            frame[column] = frame[column].map(_as_text)
    frame["row"] = np.arange(1, len(frame) + 1)
    return _checked(frame.set_crs(4326, allow_override=True), [], today)


def _as_text(value: object) -> str:
    """A GeoJSON property as the text a CSV cell would hold (GDAL reads dates as dates)."""
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, datetime):  # pandas Timestamps too
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _too_long(limit: int, _row: int) -> str:
    return render("row_too_long", limit=limit)


def _checked(frame: gpd.GeoDataFrame, errors: list[RowError], today: date) -> gpd.GeoDataFrame:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c != "geometry")
        raise InvalidInputError("file_columns_missing", field="file", missing=missing, found=found)
    for column in ("description", "address", "priority"):
        if column not in frame.columns:
            frame[column] = ""
    rows = frame["row"].to_numpy()

    def flag(mask: np.ndarray, column: str, reason: Callable[[int], str]) -> None:
        errors.extend(RowError(int(rows[i]), column, reason(int(i))) for i in np.flatnonzero(mask))

    category = frame["category"].str.strip()
    flag(
        ~category.isin(list(CATEGORIES)).to_numpy(),
        "category",
        lambda i: render(
            "unknown_code", value=frame["category"].iloc[i], expected=list(CATEGORIES)
        ),
    )
    title = frame["title"].str.strip()
    flag((title == "").to_numpy(), "title", lambda _: render("row_empty"))
    # The longest text each column of a problem holds (api/models.py).
    for column, limit in (("title", 200), ("address", 300), ("description", 10_000)):
        flag(
            (frame[column].astype(str).str.strip().str.len() > limit).to_numpy(),
            column,
            functools.partial(_too_long, limit),
        )
    priority = frame["priority"].str.strip().replace("", "normale")
    flag(
        ~priority.isin(list(PRIORITIES)).to_numpy(),
        "priority",
        lambda i: render(
            "unknown_code", value=frame["priority"].iloc[i], expected=list(PRIORITIES)
        ),
    )
    reported = pd.to_datetime(frame["reported_on"].str.strip(), format="%Y-%m-%d", errors="coerce")
    flag(
        reported.isna().to_numpy(),
        "reported_on",
        lambda i: render("row_not_a_date", value=frame["reported_on"].iloc[i]),
    )
    flag(
        (reported.dt.date > today).to_numpy(),
        "reported_on",
        lambda i: render("date_in_future", day=f"{reported.iloc[i].date():%d/%m/%Y}"),
    )
    errors.extend(_geometry_errors(rows, frame.geometry.to_numpy()))
    if errors:
        raise RowErrorsError(sorted(errors, key=lambda e: e.row), len(frame))
    frame["category"] = category
    frame["title"] = title
    frame["priority"] = priority
    frame["reported_on"] = reported.dt.date
    return frame


_KINDS = {"Point", "LineString", "Polygon", "MultiLineString", "MultiPolygon"}


def _geometry_errors(rows: np.ndarray, geoms: np.ndarray) -> list[RowError]:
    """Vectorised checks: a position, of a kind a problem has, in WGS84 ranges, valid."""
    errors: list[RowError] = []
    missing = pd.isna(geoms)
    missing[~missing] = shapely.is_empty(geoms[~missing].astype(object))
    errors += [
        RowError(int(rows[i]), "geometry", render("row_no_position"))
        for i in np.flatnonzero(missing)
    ]
    present = np.flatnonzero(~missing)
    g = geoms[present]
    kinds = shapely.get_type_id(g)
    bad_kind = ~np.isin(kinds, [0, 1, 3, 5, 6])
    errors += [
        RowError(
            int(rows[present[i]]),
            "geometry",
            render("row_not_point_line_polygon", kind=g[i].geom_type),
        )
        for i in np.flatnonzero(bad_kind)
    ]
    b = shapely.bounds(g)
    out = ~bad_kind & ~((b[:, 0] >= -180) & (b[:, 2] <= 180) & (b[:, 1] >= -90) & (b[:, 3] <= 90))
    errors += [
        RowError(
            int(rows[present[i]]),
            "geometry",
            render("geometry_not_wgs84", bounds=str(tuple(float(v) for v in b[i, :2]))),
        )
        for i in np.flatnonzero(out)
    ]
    invalid = ~bad_kind & ~out & ~shapely.is_valid(g)
    errors += [
        RowError(
            int(rows[present[i]]),
            "geometry",
            f"géométrie invalide ({validity_reason(g[i])})",
        )
        for i in np.flatnonzero(invalid)
    ]
    return errors


def check_inside(frame: gpd.GeoDataFrame, territory: shapely.Geometry, name: str) -> None:
    """Raise naming every row whose anchor (:func:`geo.geometry.anchors`) lies outside
    ``territory`` (by more than :data:`BORDER_TOLERANCE_DEG`; the rule and the reason of
    :func:`geo.geometry.outside_territory`)."""
    outside = outside_territory(
        anchors(frame.geometry.to_numpy()),
        territory,
        territory_name=name,
        tolerance_deg=BORDER_TOLERANCE_DEG,
    )
    if outside:
        rows = frame["row"].to_numpy()
        errors = [RowError(int(rows[i]), "geometry", reason) for i, reason in outside.items()]
        raise RowErrorsError(errors, len(frame))
