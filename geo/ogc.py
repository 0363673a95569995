"""What OGC API - Features says, apart from any database: the conformance classes the
``/ogc`` API implements, the CRS it offers (by URI), and the parsing of its query
parameters (``bbox``, ``datetime``, ``sortby``, ``properties``), each error an
:class:`~geo.errors.InvalidInputError` naming the parameter, in French.

>>> parse_bbox("2.1,48.5,2.4,48.8")
(2.1, 48.5, 2.4, 48.8)
>>> epsg_of(CRS84), epsg_of("http://www.opengis.net/def/crs/EPSG/0/2154")
(4326, 2154)
>>> parse_datetime("2024-01-01/..")
(datetime.date(2024, 1, 1), None)
>>> parse_sortby("-reported_on,+id")
[('reported_on', False), ('id', True)]
"""

from __future__ import annotations

import re
from datetime import date, datetime

from geo.errors import InvalidInputError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
LAMBERT93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
#: The CRS a client may ask for (``crs``, ``bbox-crs``, ``filter-crs``), by URI: EPSG code.
CRS_URIS = {CRS84: 4326, LAMBERT93: 2154}
#: Coordinates' decimals by EPSG code: about 0.1 m in degrees, 1 cm in metres.
DECIMALS = {4326: 6, 2154: 2}

#: Exactly the conformance classes implemented (QGIS sends filters to the server only when
#: basic-cql2, filter, features-filter and cql2-text are all there).
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
)
#: ``sortby`` and ``properties`` are offered too (and described in ``/ogc/api``), but their
#: classes (Parts 5, 6 and 8) are drafts whose other requirements (``/sortables``…) are
#: not implemented: they are not declared.

#: Page sizes: the default, and the most one page holds.
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000


def epsg_of(uri: str | None, parameter: str = "crs") -> int:
    """The EPSG code of a CRS URI this API offers (CRS84 when None), or a 400 naming the
    parameter and the CRS offered."""
    if uri is None or uri == "":
        return 4326
    code = CRS_URIS.get(uri.strip().strip("<>"))
    if code is None:
        raise InvalidInputError(
            "ogc_crs_not_offered", field=parameter, uri=uri, offered=list(CRS_URIS)
        )
    return code


def uri_of(epsg: int) -> str:
    return next(uri for uri, code in CRS_URIS.items() if code == epsg)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` (or the 6 numbers of a 3D box, heights ignored)."""
    try:
        numbers = [float(x) for x in text.split(",")]
    except ValueError:
        raise InvalidInputError("bbox_not_numbers", field="bbox", text=text) from None
    if len(numbers) not in (4, 6) or not all(n == n and abs(n) < 1e9 for n in numbers):
        raise InvalidInputError("bbox_count", field="bbox", text=text)
    half = len(numbers) // 2
    box = (numbers[0], numbers[1], numbers[half], numbers[half + 1])
    if box[1] > box[3]:
        raise InvalidInputError("bbox_south_north", field="bbox")
    if box[0] > box[2]:
        raise InvalidInputError("bbox_antimeridian", field="bbox")
    return box


_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}([Tt ][0-9:.]+([Zz]|[+-]\d{2}:?\d{2})?)?")


def _day(text: str) -> date | None:
    if text in ("..", ""):
        return None
    if not _INSTANT.fullmatch(text):
        raise InvalidInputError("datetime_unreadable", field="datetime", text=text)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).date()
    except ValueError:
        raise InvalidInputError("date_invalid", field="datetime", text=text) from None


def parse_datetime(text: str) -> tuple[date | None, date | None]:
    """An instant or an interval (``start/end``, ``../end``, ``start/..``) as the first and
    last days it covers (None: open); the app's dates are days."""
    if "/" not in text:
        day = _day(text)
        if day is None:
            raise InvalidInputError("datetime_open_bound", field="datetime")
        return day, day
    start, _, end = text.partition("/")
    first, last = _day(start), _day(end)
    if first is not None and last is not None and first > last:
        raise InvalidInputError("interval_start_after_end", field="datetime")
    return first, last


def parse_sortby(text: str) -> list[tuple[str, bool]]:
    """``+a,-b``: the properties to sort by, each ascending (True) or descending, each
    once (``id,id`` was a 500: one sort column named twice in the query).

    >>> parse_sortby("-reported_on,id,+reported_on")
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: sortby : « reported_on » nommée deux fois
    """
    out: list[tuple[str, bool]] = []
    for part in text.split(","):
        name = part.strip()
        ascending = not name.startswith("-")
        name = name.lstrip("+-").strip()
        if not name:
            raise InvalidInputError("sortby_property_expected", field="sortby", text=text)
        if any(name == seen for seen, _up in out):
            raise InvalidInputError("sortby_property_twice", field="sortby", name=name)
        out.append((name, ascending))
    return out


def parse_names(text: str) -> list[str]:
    """A comma-separated list of property names."""
    return [n.strip() for n in text.split(",") if n.strip()]
