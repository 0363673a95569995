"""Uploads (issue 22): bounded per kind (413, French JSON), streamed to disk, and no
server path in what a refused file is answered."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.uploads import (
    _DECLARED,
    BODY_LIMIT,
    FORM_LIMIT,
    MULTIPART_MARGIN,
    declared_form_fields,
    scrub_paths,
    upload_kind,
)
from psq.app import create_app
from tests.access_world import our_routes
from tests.conftest import ADMIN
from tests.roles import bearer_for
from tests.route_log import record_routes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KB = 1024
#: The limits of the small app: 64 KB for every kind (0.0625 MB).
SMALL_MB = 0.0625
SMALL = 64 * KB
SERVER_PATH = re.compile(r"/(tmp|var|root|home|usr|work)/")


@pytest.fixture
def small(settings: Settings, demo: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app with 64 KB upload limits, called by an admin."""
    del demo
    limits = {
        f"max_upload_mb_{kind}": SMALL_MB for kind in ("layer", "problems", "addresses", "document")
    }
    with TestClient(record_routes(create_app(settings.model_copy(update=limits)))) as client:
        client.headers.update(bearer_for(client.app.state.context, "admin", email=ADMIN))
        yield client


def _multipart(field: str, name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body of one file field, and its Content-Type."""
    boundary = "psqboundary1234"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _assert_too_large(response, kind: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["type"] == "TooLargeError"
    assert body["field"] == "file" and body["kind"] == kind
    assert body["limit_bytes"] == SMALL  # 0.0625 MB = 64 KiB
    assert body["detail"].startswith("Fichier : fichier trop volumineux")
    assert "0,06 Mo" in body["detail"]


def test_content_length_over_the_limit_is_refused_at_once(small: TestClient) -> None:
    csp_id = small.get("/api/csp").json()["data"][0]["id"]
    content = b"category,title,reported_on,lon,lat\n" + b"x" * (SMALL + MULTIPART_MARGIN)
    response = small.post(
        f"/api/csp/{csp_id}/problems/import", files={"file": ("gros.csv", content)}
    )
    _assert_too_large(response, "problems")
    assert response.headers["x-content-type-options"] == "nosniff"  # security headers too


def test_a_chunked_body_is_cut_off_past_the_limit(small: TestClient, engine: Engine) -> None:
    """Without Content-Length, the body is counted as it arrives."""
    body, content_type = _multipart("file", "adresses.csv", b"y" * (SMALL + MULTIPART_MARGIN))
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 16 * KB):
            sent.append(start)
            yield body[start : start + 16 * KB]

    response = small.post(
        "/api/addresses/import", content=chunks(), headers={"Content-Type": content_type}
    )
    _assert_too_large(response, "addresses")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM address")).scalar_one() == 0


def test_a_file_part_over_the_limit_within_the_margin(small: TestClient) -> None:
    """A body under limit + margin passes the middleware; the file's own bytes are
    counted when it is written to disk (the route's thread sees the request's limit)."""
    content = b"numero;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"
    content += b"1;Rue A;90000;90010;Belfort;6.86;47.63\n" * (SMALL // 38 + 100)
    assert SMALL < len(content) < SMALL + MULTIPART_MARGIN // 2
    response = small.post("/api/addresses/import", files={"file": ("a.csv", content)})
    _assert_too_large(response, "addresses")


def test_under_the_limit_is_taken(small: TestClient) -> None:
    sample = (FIXTURES / "ban_sample_belfort.csv").read_bytes()
    assert len(sample) < SMALL
    response = small.post("/api/addresses/import", files={"file": ("ban.csv", sample)})
    assert response.status_code == 201, response.text


def test_a_document_over_the_limit(small: TestClient) -> None:
    response = small.post(
        "/api/audits/1/document", files={"file": ("rapport.pdf", b"%PDF" + b"0" * SMALL * 5)}
    )
    _assert_too_large(response, "document")


def test_other_forms_are_bounded(anonymous_client: TestClient) -> None:
    response = anonymous_client.post(
        "/api/auth/login", data={"email": "a@b.fr", "password": "x" * (FORM_LIMIT + 1)}
    )
    assert response.status_code == 413 and response.json()["kind"] == "form"


def test_a_json_body_is_bounded(client: TestClient, csp_id: int) -> None:
    """A JSON body was read whole into memory whatever its size (300 Mo of spaces were,
    before a 422): past :data:`BODY_LIMIT` it is a 413 naming the body, in French."""
    body = b" " * (BODY_LIMIT + 1)
    headers = {"Content-Type": "application/json"}
    response = client.post(f"/api/csp/{csp_id}/problems", content=body, headers=headers)
    assert response.status_code == 413, response.text
    assert response.json() == {
        "detail": "Corps de la requête : trop volumineux ; au plus 16 Mo pour ce type "
        "d'envoi (json)",
        "type": "TooLargeError",
        "field": "body",
        "limit_bytes": BODY_LIMIT,
        "kind": "json",
    }


def test_every_upload_route_has_a_kind(client: TestClient) -> None:
    """A route taking a file must be listed in api.uploads.UPLOAD_ROUTES (its limit)."""
    found = []
    for route in our_routes(client.app):  # type: ignore[arg-type]
        original = route.original_route
        takes_file = any(
            "UploadFile" in str(p.field_info.annotation) for p in original.dependant.body_params
        )
        if takes_file:
            path = re.sub(r"\{[^}]+\}", "7", route.path)
            found += [(m, route.path, upload_kind(m, path)) for m in original.methods]
    assert len(found) == 5, found
    assert all(kind is not None for _, _, kind in found), found


# -- no server path in any message -------------------------------------------------------
def _no_server_path(response) -> None:  # type: ignore[no-untyped-def]
    assert SERVER_PATH.search(response.text) is None, response.text
    assert "psq-upload-" not in response.text


@pytest.mark.filterwarnings("ignore:GPKG. bad application_id")  # GDAL reading the corrupt file
def test_a_corrupt_geopackage_names_the_file_not_the_server_path(client: TestClient) -> None:
    corrupt = b"SQLite format 3\x00" + b"\x07" * 4000
    response = client.post(
        "/api/layers",
        data={"kind": "zones", "name": "Quartiers"},
        files={"file": ("quartiers.gpkg", corrupt)},
    )
    assert response.status_code == 422, response.text
    _no_server_path(response)
    assert "quartiers.gpkg" in response.json()["detail"]


def test_a_corrupt_shapefile_zip_names_the_file_not_the_server_path(client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("zones.shp", b"\x00\x00\x27\x0a" + b"garbage" * 50)
        archive.writestr("zones.dbf", b"not a dbf")
    response = client.post(
        "/api/layers",
        data={"kind": "zones", "name": "Zones"},
        files={"file": ("zones.zip", buffer.getvalue())},
    )
    assert response.status_code == 422, response.text
    _no_server_path(response)
    assert "zones.zip" in response.json()["detail"]


@pytest.mark.filterwarnings("ignore:GPKG. bad application_id")  # GDAL reading the corrupt file
def test_a_corrupt_plan_and_problem_file(client: TestClient, csp_id: int) -> None:
    plan = client.post(
        f"/api/csp/{csp_id}/plans/import",
        data={"name": "x"},
        files={"file": ("secteurs.gpkg", b"SQLite format 3\x00" + b"\x01" * 2000)},
    )
    assert plan.status_code == 422, plan.text
    _no_server_path(plan)
    problems = client.post(
        f"/api/csp/{csp_id}/problems/import",
        files={"file": ("faits.geojson", b'{"type": "FeatureCollection", "features": [')},
    )
    assert problems.status_code == 422, problems.text
    _no_server_path(problems)


def test_scrub_paths() -> None:
    path = Path("/tmp/psq-upload-ab12/zones.zip")
    said = scrub_paths(
        "/vsizip//tmp/psq-upload-ab12/zones.zip/zones.shp: not a shapefile; "
        "see /usr/share/gdal/gdalvrt.xsd",
        path,
        "Zones 2024.zip",
    )
    assert said == "Zones 2024.zip/zones.shp: not a shapefile; see …"


# -- the fields of a form ----------------------------------------------------------------
def _multipart_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every route whose body the OpenAPI document says is a form."""
    schema = client.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "multipart/form-data" in (operation.get("requestBody") or {}).get("content", {})
    ]


def test_every_form_route_refuses_an_unknown_field(client: TestClient) -> None:
    """Each multipart route answers 422 naming a field it does not declare, in the one
    error shape with the catalogue's code, and its OpenAPI body says so."""
    routes = _multipart_routes(client)
    # the five upload routes: layers, plans, problems and addresses imports, documents
    assert len(routes) == 5, routes
    schema = client.get("/openapi.json").json()
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", "7", path)
        response = client.request(
            method,
            url,
            files={"file": ("a.csv", b"x")},
            data={"nom_inconnu": "x"},
        )
        assert response.status_code == 422, (path, response.text)
        body = response.json()
        assert body["code"] == "form_field_unknown", (path, body)
        assert body["fields"][0]["field"] == "nom_inconnu"
        assert body["detail"].startswith("nom_inconnu : champ inconnu dans le formulaire : ")
        assert "« nom_inconnu »" in body["detail"] and "file" in body["detail"]
        operation = schema["paths"][path][method.lower()]
        ref = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        assert (
            schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["additionalProperties"] is False
        )


def test_a_form_may_carry_its_declared_fields_and_the_csrf_token(client: TestClient) -> None:
    """The layer route's own fields and the CSRF token field pass the rule (the file
    itself is then refused as unreadable, by the import)."""
    response = client.post(
        "/api/layers",
        files={"file": ("vide.geojson", b"{}")},
        data={"kind": "roads", "name": "Routes", "csrf_token": "x"},
    )
    assert response.status_code == 422
    assert response.json()["code"] != "form_field_unknown"
    listed = client.post(
        "/api/layers",
        files={"file": ("vide.geojson", b"{}")},
        data={"kind": "roads", "x": "1", "y": "2"},
    )
    assert listed.json()["detail"].startswith("x : champ inconnu dans le formulaire : « x », « y »")


def test_a_routes_form_fields_are_walked_once(client: TestClient) -> None:
    """The fields a route declares are listed at its first multipart request and read back
    after (the same set, not walked again); an entry goes with its route."""
    _DECLARED.clear()
    response = client.post("/api/layers", files={"file": ("a.geojson", b"{}")}, data={"nom": "R"})
    assert response.json()["code"] == "form_field_unknown"
    [(ref, kept)] = _DECLARED.values()  # the layer route's, listed by this request
    # create_layer's File and Form parameters, and the CSRF token any form may carry.
    assert kept == {"file", "kind", "name", "default_class", "crs", "csrf_token"}
    again = client.post("/api/layers", files={"file": ("a.geojson", b"{}")}, data={"x": "1"})
    assert "« x »" in again.json()["detail"]
    assert len(_DECLARED) == 1 and declared_form_fields(ref()) is kept

    class Route:  # a route of another app, gone with it
        dependant = None

    other = Route()
    assert declared_form_fields(other) == {"csrf_token"} and id(other) in _DECLARED
    key = id(other)
    del other
    assert key not in _DECLARED
