"""The OpenAPI 3.0 document of the ``/ogc`` API (``/ogc/api``): its paths, parameters
and answers, written out rather than generated, since the app's own document (FastAPI,
OpenAPI 3.1) does not describe these routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geo.ogc import CRS_URIS, DEFAULT_LIMIT, MAX_LIMIT

_KEYED = {"plan": "plan_id", "grid": "grid_id", "layer": "layer_id", "camera-sites": "code"}


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **extra,
    }


_STRING = {"type": "string"}
_CRS = {"type": "string", "enum": list(CRS_URIS)}
_F = _query("f", "json (GeoJSON) ou html", {"type": "string", "enum": ["json", "html"]})
_ITEMS_PARAMETERS = [
    _F,
    _query(
        "limit",
        f"Nombre d'objets par page (au plus {MAX_LIMIT})",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    _query("offset", "Rang du premier objet", {"type": "integer", "minimum": 0, "default": 0}),
    _query(
        "after",
        "Identifiant après lequel la page commence (lien « next » d'une collection lue dans "
        "l'ordre de ses identifiants, sans sortby)",
        {"type": "integer", "minimum": 0},
    ),
    _query(
        "bbox",
        "Emprise minx,miny,maxx,maxy (dans bbox-crs)",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        style="form",
        explode=False,
    ),
    _query("bbox-crs", "SRC de bbox (CRS84 par défaut)", _CRS),
    _query("crs", "SRC des géométries rendues (CRS84 par défaut)", _CRS),
    _query("datetime", "Date ou intervalle (AAAA-MM-JJ/AAAA-MM-JJ, .. ouvert)", _STRING),
    _query("properties", "Propriétés rendues, séparées par des virgules", _STRING),
    _query("sortby", "Tri : +propriété,-propriété", _STRING),
    _query("filter", "Filtre CQL2 texte (voir /queryables)", _STRING),
    _query("filter-lang", "Langage du filtre", {"type": "string", "enum": ["cql2-text"]}),
    _query("filter-crs", "SRC des géométries du filtre (CRS84 par défaut)", _CRS),
]
_ERRORS = {
    "400": {"description": "Paramètre invalide (OGC exception : code, description)"},
    "401": {"description": "Authentification requise (Authorization: Bearer)"},
    "403": {"description": "Rôle non autorisé"},
    "404": {"description": "Collection ou objet inconnu"},
}


def _ok(media: str, description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": {media: {}}}, **_ERRORS}


def _operation(summary: str, parameters: list[dict[str, Any]], responses: Any) -> Any:
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def openapi_document(base: str, kinds: Sequence[str]) -> dict[str, Any]:
    """The document, for the collections' kinds (``plan`` stands for ``plan-{plan_id}``)."""
    paths: dict[str, Any] = {
        "/": _operation("Page d'accueil", [_F], _ok("application/json", "Liens")),
        "/conformance": _operation("Classes de conformité", [_F], _ok("application/json", "")),
        "/api": _operation("Ce document", [], _ok("application/vnd.oai.openapi+json", "")),
        "/collections": _operation("Collections", [_F], _ok("application/json", "")),
    }
    for kind in kinds:
        key = _KEYED.get(kind)
        cid = f"{kind}-{{{key}}}" if key else kind
        path_parameters = (
            [
                {
                    "name": key,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string" if key == "code" else "integer"},
                }
            ]
            if key
            else []
        )
        feature_id = {"name": "featureId", "in": "path", "required": True, "schema": _STRING}
        paths[f"/collections/{cid}"] = _operation(
            f"Collection {cid}", [*path_parameters, _F], _ok("application/json", "")
        )
        paths[f"/collections/{cid}/queryables"] = _operation(
            f"Propriétés interrogeables de {cid}",
            [*path_parameters, _F],
            _ok("application/schema+json", ""),
        )
        paths[f"/collections/{cid}/items"] = _operation(
            f"Objets de {cid}",
            [*path_parameters, *_ITEMS_PARAMETERS],
            _ok("application/geo+json", "FeatureCollection"),
        )
        paths[f"/collections/{cid}/items/{{featureId}}"] = _operation(
            f"Un objet de {cid}",
            [*path_parameters, feature_id, _F, _ITEMS_PARAMETERS[5], _ITEMS_PARAMETERS[7]],
            _ok("application/geo+json", "Feature"),
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "PSQ Secteurs - OGC API Features",
            "version": "1.0.0",
            "description": "OGC API - Features (Parts 1, 2, 3) sur les données de PSQ Secteurs.",
        },
        "servers": [{"url": base}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
