"""The HTML renderings of the ``/ogc`` answers (``f=html``, or a browser asking for HTML):
plain pages, without script, listing what the JSON says and linking to it, in French."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
    "text-align:left;vertical-align:top}code{font-size:.9em}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - PSQ Secteurs OGC API</title>"
        f"<style>{_STYLE}</style></head><body>"
        '<p><a href="/ogc">OGC API Features</a> · <a href="/ogc/collections">Collections</a>'
        ' · <a href="/ogc/conformance">Conformité</a></p>'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def _links(links: list[dict[str, str]]) -> str:
    items = "".join(
        f'<li><a href="{escape(link["href"])}">{escape(link.get("title") or link["rel"])}</a>'
        f" <small>({escape(link['rel'])}, {escape(link.get('type', ''))})</small></li>"
        for link in links
    )
    return f"<ul>{items}</ul>"


def _value(value: Any) -> str:
    if value is None:
        return "<i>-</i>"
    if isinstance(value, dict | list):
        return f"<code>{escape(json.dumps(value, ensure_ascii=False))}</code>"
    return escape(str(value))


def landing(document: dict[str, Any]) -> str:
    body = f"<p>{escape(document['description'])}</p>{_links(document['links'])}"
    return _page(document["title"], body)


def conformance(document: dict[str, Any]) -> str:
    items = "".join(f"<li><code>{escape(c)}</code></li>" for c in document["conformsTo"])
    return _page("Classes de conformité", f"<ul>{items}</ul>")


def collections(document: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td><a href="/ogc/collections/{escape(c["id"])}">{escape(c["id"])}</a></td>'
        f"<td>{escape(c['title'])}</td><td>{escape(c['description'])}</td></tr>"
        for c in document["collections"]
    )
    table = f"<table><tr><th>Id</th><th>Titre</th><th>Description</th></tr>{rows}</table>"
    return _page("Collections", table)


def collection(document: dict[str, Any]) -> str:
    box = document["extent"]["spatial"]["bbox"][0]
    body = (
        f"<p>{escape(document['description'])}</p>"
        f"<p>Emprise (CRS84) : {escape(', '.join(f'{v:.5f}' for v in box))}</p>"
        f"<p>SRC : {', '.join(f'<code>{escape(c)}</code>' for c in document['crs'])}</p>"
        f"{_links(document['links'])}"
    )
    return _page(document["title"], body)


def queryables(document: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(spec.get('type', 'geometry'))}"
        f"{' (' + escape(spec['format']) + ')' if 'format' in spec else ''}</td></tr>"
        for name, spec in document["properties"].items()
    )
    body = f"<table><tr><th>Propriété</th><th>Type</th></tr>{rows}</table>"
    return _page(f"Propriétés interrogeables : {document['title']}", body)


def items(body: bytes, collection_id: str) -> str:
    """A page of features: their properties in a table, the paging links."""
    document = json.loads(body)
    features = document["features"]
    names = list(features[0]["properties"]) if features else []
    head = "".join(f"<th>{escape(n)}</th>" for n in ["id", *names])
    rows = "".join(
        f'<tr><td><a href="/ogc/collections/{escape(collection_id)}/items/'
        f'{escape(str(f["id"]))}?f=html">{escape(str(f["id"]))}</a></td>'
        + "".join(f"<td>{_value(f['properties'].get(n))}</td>" for n in names)
        + "</tr>"
        for f in features
    )
    summary = f"<p>{document['numberReturned']} objet(s) sur {document['numberMatched']}.</p>"
    links = [link for link in document["links"] if link["rel"] in ("next", "prev", "collection")]
    paging = _links(
        [
            link | {"href": link["href"] + "&f=html"} if link["rel"] in ("next", "prev") else link
            for link in links
        ]
    )
    table = f"<table><tr>{head}</tr>{rows}</table>"
    return _page(f"Objets de « {collection_id} »", summary + paging + table)


def feature(body: bytes, collection_id: str) -> str:
    document = json.loads(body)
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{_value(v)}</td></tr>"
        for k, v in document["properties"].items()
    )
    geometry = document.get("geometry") or {}
    body_html = (
        f"<table>{rows}</table><p>Géométrie : {escape(str(geometry.get('type')))}</p>"
        f"{_links(document['links'])}"
    )
    return _page(f"« {collection_id} » : objet {document['id']}", body_html)
