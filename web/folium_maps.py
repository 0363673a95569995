"""folium maps served offline: every CDN link of a rendered map rewritten to the copies that
``scripts/vendor.sh`` commits under ``web/static/vendor/``.

A folium page loads its libraries (Leaflet, jQuery, Bootstrap, Font Awesome, plugins…) from four
CDN hosts; the machines running the app have no internet, so such a page renders blank. Use
``render_map(m)`` instead of ``m.get_root().render()``: it rewrites each URL that
``CDN_ASSETS`` knows, then refuses the page (``UnknownAssetError``) if anything would still be
fetched from outside the app, so that a new folium version or plugin cannot slip a CDN link in.

What counts as fetched: a ``src``, ``href``, ``srcset`` or ``poster`` attribute (in markup or in
the markup strings of the map's script), a CSS ``url(…)`` or ``@import``, the URL given to a
Leaflet tile, WMS, image or video layer, and the same inside an ``<iframe>`` whose document is a
``data:text/html;base64`` URL (folium's ``IFrame`` popups). Protocol-relative URLs (``//host/…``)
count as external. Not fetched, hence left alone: ``<a href>`` and ``<area href>`` (links the
user may follow), XML namespaces, and URLs in popup or tooltip text.

Tiles cannot load offline: build maps with ``folium.Map(tiles=None)``; a tile layer with a
remote URL template is refused like any other external asset. Without a tile layer the map has no
maximum zoom, which the MarkerCluster plugin needs: give the map its own (``maxZoom=18``, passed
through to Leaflet).
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Final

from geo.errors import UnavailableError

if TYPE_CHECKING:
    from branca.element import Element

VENDOR_DIR: Final = Path(__file__).resolve().parent / "static" / "vendor"
VENDOR_URL: Final = "/static/vendor"  # where web.pages serves VENDOR_DIR

# Every asset a folium 0.20 map loads for the features we use (Map, GeoJson with its tooltip
# and popup, CircleMarker, Marker, LayerControl, FitBounds, the HeatMap and MarkerCluster plugins,
# a branca colormap legend), exactly as folium and branca render the URL, mapped to its copy
# under VENDOR_DIR. Versions are those of web/static/vendor/VERSIONS: where folium asks for an
# older release that npm lacks or that predates Leaflet 1.9, the pinned one replaces it.
CDN_ASSETS: Final[dict[str, str]] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "glyphicons/css/bootstrap-glyphicons.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (  # noqa: E501
        "leaflet.awesome-markers/leaflet.awesome-markers.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (  # noqa: E501
        "leaflet.awesome-markers/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (  # noqa: E501
        "folium/leaflet.awesome.rotate.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (  # noqa: E501
        "folium/leaflet_heat.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (  # noqa: E501
        "leaflet.markercluster/MarkerCluster.Default.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3/d3.min.js",
}

# A known URL is rewritten only when whole: not followed by more URL characters.
_KNOWN = re.compile(
    "|".join(re.escape(url) for url in sorted(CDN_ASSETS, key=len, reverse=True))
    + r"(?![\w./?#%&=~+@-])"
)
# An absolute or protocol-relative URL, up to a quote, space, backslash, bracket or parenthesis.
_EXTERNAL = r"(?P<url>(?:https?:)?//[^\s\"'`\\<>()]+)"
# An optional opening quote: plain, escaped in a JS string, or an HTML entity.
_QUOTE = r"(?:\\?[\"']|&quot;|&#39;)?"
_FETCHED = (
    re.compile(rf"(?<![\w-])(?P<attr>src|href|srcset|poster)\s*=\s*{_QUOTE}\s*{_EXTERNAL}", re.I),
    re.compile(rf"\burl\(\s*{_QUOTE}\s*{_EXTERNAL}", re.I),
    re.compile(rf"@import\s+{_QUOTE}\s*{_EXTERNAL}", re.I),
    re.compile(rf"\bL\.(?:tileLayer(?:\.wms)?|imageOverlay|videoOverlay)\(\s*[\"'`]{_EXTERNAL}"),
)
# The last tag opened before an attribute (markup, or markup escaped in a JS string).
_TAG_OPEN = re.compile(r"(?:<|\\u003c)(?P<tag>[a-z][a-z0-9-]*)\b", re.I)
_TAG_CLOSE = re.compile(r">|\\u003e", re.I)
_LINK_TAGS = frozenset({"a", "area"})
_DATA_HTML = re.compile(r"data:text/html(?:;[\w=-]+)*;base64,(?P<payload>[A-Za-z0-9+/=]+)")


class UnknownAssetError(ValueError):
    """A rendered map would load ``url`` from outside the app."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"the map would load {url} from outside the app, which the offline machines cannot "
            "reach: vendor it under web/static/vendor (scripts/vendor.sh) and map its URL in "
            "web.folium_maps.CDN_ASSETS, or do not use the folium feature that adds it"
        )


def import_folium() -> ModuleType:
    """folium with its plugins, imported on first use (1 s of imports: not at app start).

    Examples
    --------
    >>> folium = import_folium()
    >>> m = folium.Map(tiles=None)
    >>> _ = folium.plugins.HeatMap([[47.64, 6.86, 1.0]]).add_to(m)
    """
    try:
        import folium
        import folium.plugins
    except ImportError as exc:
        raise UnavailableError(
            f"folium is needed to draw this map but cannot be imported ({exc}): "
            "install it with `pip install 'folium>=0.20'`"
        ) from exc
    return folium


def localise_assets(html: str, *, vendor_url: str = VENDOR_URL) -> str:
    """Rewrite every CDN URL of ``CDN_ASSETS`` in a rendered page to ``vendor_url``.

    Raises ``UnknownAssetError`` naming the first URL that the page would still fetch from
    outside the app (see the module docstring for what counts as fetched).

    Examples
    --------
    >>> localise_assets('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>')
    '<script src="/static/vendor/jquery/jquery.min.js"></script>'
    >>> page = '<script src="https://cdn.example.org/x.js"></script>'
    >>> localise_assets(page)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    web.folium_maps.UnknownAssetError: the map would load https://cdn.example.org/x.js ...
    """
    base = vendor_url.rstrip("/")
    localised = _KNOWN.sub(lambda m: f"{base}/{CDN_ASSETS[m.group()]}", html)
    if (url := first_external_url(localised)) is not None:
        raise UnknownAssetError(url)
    return localised


def render_map(m: Element, *, vendor_url: str = VENDOR_URL) -> str:
    """The complete HTML page of a folium map (or any branca element), loading nothing but
    the app's own files; raises ``UnknownAssetError`` otherwise. The page says it is in
    French (``<html lang="fr">``), as every page of the app."""
    html = re.sub(r"<html(?=[\s>])", '<html lang="fr"', m.get_root().render(), count=1)
    return localise_assets(html, vendor_url=vendor_url)


def first_external_url(html: str) -> str | None:
    """The first URL that ``html`` would fetch from another host, or None."""
    for pattern in _FETCHED:
        for match in pattern.finditer(html):
            if _is_link(html, match):
                continue
            return match["url"]
    for match in _DATA_HTML.finditer(html):
        try:
            document = base64.b64decode(match["payload"], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue  # not a document we can read, hence not one folium wrote
        if (url := first_external_url(document)) is not None:
            return url
    return None


def _is_link(html: str, match: re.Match[str]) -> bool:
    """Whether ``match`` is the ``href`` attribute of an ``<a>`` or ``<area>`` tag."""
    pos = match.start()
    if (match.groupdict().get("attr") or "").lower() != "href" or not html[pos - 1 : pos].isspace():
        return False  # not an href, or a JS property (`a.href = …`) rather than an attribute
    window = html[max(0, pos - 4000) : pos]
    tags = list(_TAG_OPEN.finditer(window))
    opened = tags[-1] if tags else None
    if opened is None or _TAG_CLOSE.search(window, opened.end()):
        return False  # not inside a tag
    return opened["tag"].lower() in _LINK_TAGS
