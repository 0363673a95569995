"""Requests that used to freeze the server or answer 500 (issue 22): each gets a clean
4xx naming what to fix."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import LineString
from sqlalchemy import Engine, text

from tests.api.test_audits import request_body
from tests.roles import PASSWORD


def test_a_grid_too_fine_for_the_csp_is_refused_before_any_work(
    client: TestClient, csp_id: int
) -> None:
    grids = client.get(f"/api/csp/{csp_id}/grids").json()["count"]
    started = time.monotonic()
    response = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 15})
    assert time.monotonic() - started < 5  # used to build for minutes and take GBs
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("Grille : à la résolution 15, la grille compterait environ")
    assert "25\u202f000" in detail and response.json()["type"] == "InvalidInputError"
    # a grid a command could build, but too long to build within a request
    # (PSQ_MAX_GRID_CELLS, 25 000 by default): refused as well, before any work
    finer = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 11})
    assert finer.status_code == 422 and "25\u202f000 permises" in finer.json()["detail"]
    # street blocks are cut by the same H3 cells: the same budget
    blocks = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 14, "units": "blocks"})
    assert blocks.status_code == 422 and blocks.json()["detail"].startswith("Grille :")
    # past what H3 supports: the schema refuses it
    beyond = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 16})
    assert beyond.status_code == 422 and beyond.json()["fields"][0]["loc"][-1] == "resolution"
    assert client.get(f"/api/csp/{csp_id}/grids").json()["count"] == grids


def _refused_field(response: Any) -> list[Any]:
    """Where a 422 for a control character points (the fields of the validation error)."""
    assert response.status_code == 422, response.text
    (error,) = response.json()["fields"]
    assert error["type"] == "string_control_character"
    assert error["msg"].startswith("caractère de contrôle interdit (U+")
    return list(error["loc"])


def test_control_characters_are_refused_in_any_text(client: TestClient, csp_id: int) -> None:
    # a query filter: PostgreSQL used to refuse the NUL with a 500
    response = client.get(f"/api/csp/{csp_id}/problems", params={"category": "a\x00b"})
    assert _refused_field(response) == ["query", "category"]
    # a JSON body, escaped as JSON does ("\u0000"), at any depth
    problem = {"category": "rassemblements", "title": "hall\x00", "lon": 6.86, "lat": 47.64}
    response = client.post(f"/api/csp/{csp_id}/problems", json=problem)
    assert _refused_field(response) == ["body", "title"]
    response = client.post(f"/api/csp/{csp_id}/grids", json={"weights": {"population\x1f": 1}})
    assert _refused_field(response) == ["body", "weights", "population\x1f"]
    # a form field, and the name of an uploaded file
    files = {"file": ("zone.geojson", b"{}", "application/geo+json")}
    form = {"kind": "zones", "name": "zone\x07"}
    response = client.post("/api/layers", data=form, files=files)
    assert _refused_field(response) == ["body", "name"]
    parts = [
        b'Content-Disposition: form-data; name="kind"\r\n\r\nzones',
        b'Content-Disposition: form-data; name="name"\r\n\r\nzone',
        b'Content-Disposition: form-data; name="file"; filename="zone\x00.geojson"\r\n'
        b"Content-Type: application/geo+json\r\n\r\n{}",
    ]
    body = b"".join(b"--b0undary\r\n" + part + b"\r\n" for part in parts) + b"--b0undary--\r\n"
    headers = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    response = client.post("/api/layers", content=body, headers=headers)
    assert _refused_field(response) == ["body", "file"]
    # tabs and line breaks are text
    problem["title"], problem["description"] = "hall", "ligne 1\r\nligne 2\tfin"
    assert client.post(f"/api/csp/{csp_id}/problems", json=problem).status_code == 201
    assert client.get(f"/api/csp/{csp_id}/problems", params={"q": "é"}).status_code == 200


def test_integers_past_postgresql_are_refused_by_the_schema(
    client: TestClient, csp_id: int
) -> None:
    response = client.get(f"/api/csp/{csp_id}/problems", params={"sector": 99999999999})
    assert response.status_code == 422, response.text  # was a 500: integer out of range
    assert response.json()["fields"][0]["loc"][:2] == ["query", "sector"]
    too_big = {"name": "GPO", "theme": "transports", "partner_ids": [2**31]}
    response = client.post(f"/api/csp/{csp_id}/gpos", json=too_big)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"][:2] == ["body", "partner_ids"]


def test_a_value_the_database_cannot_store_is_a_422(
    client: TestClient, csp_id: int, tmp_path: Path
) -> None:
    del csp_id  # the demo territory, for the layer to lie in
    path = tmp_path / "roads.geojson"
    road = LineString([(6.83, 47.62), (6.87, 47.66)])
    gpd.GeoDataFrame({"highway": ["primary"]}, geometry=[road], crs=4326).to_file(path)
    name = "r" * 600 + ".geojson"  # the file name is kept in a column of 500 characters
    files = {"file": (name, path.read_bytes(), "application/geo+json")}
    response = client.post("/api/layers", files=files, data={"kind": "barriers", "name": "R"})
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": "valeur : texte trop long pour cette colonne",
        "type": "DatabaseInvalidValue",
    }


def _while_waiting(engine: Engine, statement: str, values: dict[str, Any], call: Any) -> Any:
    """Run ``call`` in a thread while another transaction holds ``statement`` uncommitted,
    commit that transaction once ``call`` waits on a lock, and return ``call``'s answer."""
    answers: list[Any] = []
    with engine.connect() as other:
        other.begin()
        other.execute(text(statement), values)
        thread = threading.Thread(target=lambda: answers.append(call()))
        thread.start()
        deadline = time.monotonic() + 20
        with engine.connect() as watcher:
            while not watcher.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one():
                assert time.monotonic() < deadline and thread.is_alive()
                time.sleep(0.05)
        other.commit()
    thread.join(timeout=20)
    (answer,) = answers
    return answer


def test_a_duplicate_key_under_a_race_is_a_409(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    """Another transaction creates the same account and has not committed yet: the POST
    sees no account, inserts, waits on the same key, which the other one then holds."""
    email = "course@tests.example"
    response = _while_waiting(
        engine,
        "INSERT INTO account (email, name, role, password_hash) VALUES (:e, 'Course', 'chef', 'x')",
        {"e": email},
        lambda: client.post(
            "/api/accounts",
            json={
                "email": email,
                "role": "planificateur",
                "password": PASSWORD,
                "csp_ids": [csp_id],
            },
        ),
    )
    assert response.status_code == 409, response.text  # was a 500
    assert response.json()["type"] == "DatabaseConflict"
    assert response.json()["detail"].startswith("email : cette valeur existe déjà")


def test_concurrent_changes_of_a_gpos_partners_wait_for_each_other(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    """Another transaction adds the same partner and has not committed yet: the PATCH
    locks the GPO, waits for it, then replaces the partners it sees (4 of 20 such
    PATCHes failed on a duplicate key before the GPO was locked)."""
    gpo = client.post(f"/api/csp/{csp_id}/gpos", json={"name": "GPO", "theme": "transports"})
    partner = client.post(
        f"/api/csp/{csp_id}/partners", json={"organisation": "Mairie", "type": "mairie"}
    )
    gpo_id, partner_id = gpo.json()["id"], partner.json()["id"]
    response = _while_waiting(
        engine,
        "INSERT INTO gpo_partner (gpo_id, partner_id) VALUES (:g, :p)",
        {"g": gpo_id, "p": partner_id},
        lambda: client.patch(f"/api/gpos/{gpo_id}", json={"partner_ids": [partner_id]}),
    )
    assert response.status_code == 200, response.text
    assert client.get(f"/api/gpos/{gpo_id}").json()["partner_ids"] == [partner_id]


def _null_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    (error,) = response.json()["fields"]
    assert error["loc"] == ["body", field] and error["type"] == "not_null"
    assert error["msg"] == "null interdit : omettez le champ pour le laisser tel quel"


def test_an_explicit_null_of_a_field_that_always_has_a_value_is_a_422(
    client: TestClient, csp_id: int
) -> None:
    place = {"category": "rassemblements", "title": "Hall", "lon": 6.86, "lat": 47.64}
    problem = client.post(f"/api/csp/{csp_id}/problems", json=place).json()
    added = client.post(f"/api/problems/{problem['id']}/actions", json={"type": "patrouilles"})
    action_id = added.json()["actions"][-1]["id"]
    # was a 500: the NOT NULL column refused it
    _null_refused(client.patch(f"/api/actions/{action_id}", json={"status": None}), "status")
    # the nullable fields may be emptied, the others left out
    cleared = client.patch(
        f"/api/actions/{action_id}", json={"due_on": "2030-01-01", "note": "Rondes"}
    )
    assert cleared.status_code == 200
    cleared = client.patch(f"/api/actions/{action_id}", json={"due_on": None, "note": None})
    assert cleared.status_code == 200 and cleared.json()["status"] == "prevue"
    assert cleared.json()["due_on"] is None and cleared.json()["note"] is None
    gpo = client.post(f"/api/csp/{csp_id}/gpos", json={"name": "GPO", "theme": "transports"})
    gpo_id = gpo.json()["id"]
    _null_refused(client.patch(f"/api/gpos/{gpo_id}", json={"cadence_days": None}), "cadence_days")
    chief = client.patch(f"/api/gpos/{gpo_id}", json={"chief_name": None, "partner_ids": None})
    assert chief.status_code == 200 and chief.json()["cadence_days"] == 30


def test_an_unknown_geojson_geometry_type_is_a_422(client: TestClient, csp_id: int) -> None:
    foo = {"type": "Foo", "coordinates": []}
    place = {"category": "rassemblements", "title": "Hall", "geometry": foo}
    response = client.post(f"/api/csp/{csp_id}/problems", json=place)
    assert response.status_code == 422, response.text  # was a 500
    # The schema names the geometry types (an enum), and the coordinates are not empty.
    fields = {f["field"]: f["msg"] for f in response.json()["fields"]}
    assert fields["geometry.type"] == (
        "valeur attendue parmi 'Point', 'MultiPoint', 'LineString', 'MultiLineString', "
        "'Polygon' ou 'MultiPolygon'"
    )
    assert fields["geometry.coordinates"] == "la liste ne peut pas être vide"
    study = request_body(site=foo)
    response = client.post("/api/audits", json=study)
    assert response.status_code == 422, response.text  # was a 500
    assert {f["field"] for f in response.json()["fields"]} == {"site.type", "site.coordinates"}
    # a type GeoJSON knows but a site does not take keeps its own answer
    line = {"type": "LineString", "coordinates": [[6.86, 47.63], [6.87, 47.64]]}
    response = client.post("/api/audits", json=request_body(site=line))
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "site"


PROBLEM_HEADER = b"lon,lat,category,title,reported_on,address\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "CSV illisible"),
        (b"\n", "CSV illisible"),
        (bytes(range(256)) * 40, "Fichier : "),
        (PROBLEM_HEADER + b"6.86,47.63,autre,Titre,2026-11-01," + b"A" * 400 + b"\n", "address"),
    ],
    ids=["empty", "blank line", "binary junk", "long address"],
)
def test_malformed_problem_files_are_refused_whole(
    client: TestClient, csp_id: int, content: bytes, expected: str
) -> None:
    """Files that used to answer 500 (an empty CSV, an address longer than its column):
    a 422 naming the problem, and nothing imported."""
    before = len(client.get(f"/api/csp/{csp_id}/problems").json()["features"])
    response = client.post(
        f"/api/csp/{csp_id}/problems/import", files={"file": ("problemes.csv", content)}
    )
    assert response.status_code == 422, response.text
    assert expected in response.text
    assert len(client.get(f"/api/csp/{csp_id}/problems").json()["features"]) == before


def test_every_error_has_one_shape_in_french_and_the_schema_says_so(
    client: TestClient, csp_id: int
) -> None:
    """A validation error is a sentence naming each field in French, a stable type, and
    the fields; the OpenAPI document gives every 422 that shape."""
    response = client.post(
        f"/api/csp/{csp_id}/problems",
        json={"category": "rassemblements", "title": "x" * 201, "lon": "est", "lat": 47.6},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "RequestValidationError"
    fields = {f["field"]: f for f in body["fields"]}
    assert fields["title"]["msg"] == "au plus 200 caractères"
    assert fields["title"]["type"] == "string_too_long"
    assert fields["lon"]["msg"] == "nombre attendu"
    assert body["detail"] == "Intitulé : au plus 200 caractères ; Longitude : nombre attendu"
    assert (body["code"], fields["title"]["label"]) == ("string_too_long", "Intitulé")
    missing = client.post(f"/api/csp/{csp_id}/problems", json={"title": "Hall"})
    assert "Catégorie : champ obligatoire" in missing.json()["detail"]
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    invalid = [
        (path, method, r["422"]["content"]["application/json"]["schema"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "422" in (r := operation["responses"])
    ]
    assert len(invalid) > 50
    assert {str(s) for _, _, s in invalid} == {"{'$ref': '#/components/schemas/ErrorPublic'}"}
    error = schema["components"]["schemas"]["ErrorPublic"]
    assert {"detail", "type", "fields"} <= set(error["properties"])


def test_a_body_that_cannot_be_read_is_a_422_naming_it(client: TestClient, csp_id: int) -> None:
    """Not UTF-8, not a form, not a route: the one error shape, in French (these were
    FastAPI's and Starlette's own English 400 and 404 bodies)."""
    garbage = client.post(
        f"/api/csp/{csp_id}/referents",
        content=b"\xd2\xe7\x1b",
        headers={"Content-Type": "application/json"},
    )
    assert garbage.status_code == 422, garbage.text
    assert garbage.json()["detail"].startswith("corps de la requête : illisible")
    form = client.post(
        "/api/addresses/import",
        content=b"--b\r\n[True]--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert form.status_code == 422, form.text
    assert "formulaire illisible" in form.json()["detail"]
    unknown = client.get("/api/nulle-part")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "detail": "adresse inconnue : aucune route ni page à cette adresse",
        "type": "RouteNotFound",
    }


def test_days_and_times_are_their_iso_text_within_the_calendar(
    client: TestClient, csp_id: int
) -> None:
    """A day, a time, a date and time are sent as the OpenAPI document says (ISO text):
    pydantic alone took a number as seconds since 1970 (``?to=0`` was a 200 for
    01/01/1970), and a time zone that puts a date and time past the year 9999 was a 500
    (issue 22's hostile run)."""
    for query in ({"to": "0"}, {"to": "2026-01-01T00:00"}):
        response = client.get(f"/api/csp/{csp_id}/hotspots", params=query)
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["msg"] == "date attendue (AAAA-MM-JJ)"
    meeting = client.post("/api/gpos/1/meetings", json={"held_on": 0})
    assert meeting.status_code == 422 and meeting.json()["fields"][0]["loc"] == ["body", "held_on"]
    intervention = {"csp_id": csp_id, "nature": "rixe", "lon": 6.86, "lat": 47.64}
    for at, field in ((0, "datetime_type"), ("9999-12-31T23:59:59-23:59", "datetime_out_of_range")):
        response = client.post("/api/interventions", json={**intervention, "occurred_at": at})
        assert response.status_code == 422, response.text  # the second was a 500
        (error,) = response.json()["fields"]
        assert (error["loc"], error["type"]) == (["body", "occurred_at"], field)
    assert "entre les années 1 et 9999" in response.json()["detail"]
    # the last day of the calendar is a day like any other (the trail's end was a 500)
    assert client.get("/api/audit-log", params={"to": "9999-12-31"}).status_code == 200


def test_what_a_request_sends_is_bounded_and_finite(client: TestClient, csp_id: int) -> None:
    """Every list, map and free text a JSON body sends has a bound in the OpenAPI document,
    and the app applies it: a GPO with two million partners took 53 s, 16 s of it
    collecting garbage, before a 503; a grid weighted by ``Infinity`` was a 422 naming no
    field and one weighted by 1e308 was stored, and every proposal on it failed."""
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    unbounded: set[str] = set()

    def walk(node: Any, where: str, seen: set[str]) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, where, seen)
            return
        if not isinstance(node, dict):
            return
        if (ref := node.get("$ref")) and (name := ref.rsplit("/", 1)[-1]) not in seen:
            seen.add(name)
            walk(components[name], name, seen)
        kind = node.get("type")
        if kind == "array" and "maxItems" not in node and "prefixItems" not in node:
            unbounded.add(f"{where}: {node.get('title', 'array')}")
        mapping = isinstance(node.get("additionalProperties"), dict)
        if kind == "object" and mapping and "maxProperties" not in node:
            unbounded.add(f"{where}: {node.get('title', 'map')}")
        free = not any(k in node for k in ("enum", "const", "format", "maxLength"))
        if kind == "string" and free and node.get("pattern", "").startswith("^[^"):
            unbounded.add(f"{where}: {node.get('title', 'text')}")
        for key, child in node.items():
            if key not in ("examples", "example", "default", "enum"):
                walk(child, where, seen)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            # forms are bounded whole (api.uploads), GeoJSON positions by their count
            walk(content.get("application/json"), f"{method.upper()} {path}", {"GeometryIn"})
    assert not unbounded, sorted(unbounded)
    started = time.monotonic()
    gpo = {"name": "G", "theme": "autre", "partner_ids": [1] * 2_000_000}
    response = client.post(f"/api/csp/{csp_id}/gpos", json=gpo)
    assert response.status_code == 422 and time.monotonic() - started < 30
    assert response.json()["fields"][0]["msg"] == "au plus 200 éléments"
    for weight in ("Infinity", "NaN", "1e308", "-1"):
        body = f'{{"weights": {{"population": {weight}}}}}'.encode()
        headers = {"Content-Type": "application/json"}
        response = client.post(f"/api/csp/{csp_id}/grids", content=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["loc"] == ["body", "weights", "population"]
    # a JSON boolean is not a number (``[false]`` was sector 0), nor a number a boolean
    gpo = {"name": "G", "theme": "autre", "sectors": [False]}
    response = client.post(f"/api/csp/{csp_id}/gpos", json=gpo)
    assert response.status_code == 422 and response.json()["fields"][0]["type"] == "int_type"
    meeting = {"held_on": "2026-06-20", "send_invitations": 1}
    response = client.post("/api/gpos/1/meetings", json=meeting)
    assert response.status_code == 422 and response.json()["fields"][0]["type"] == "bool_type"


def test_a_method_an_address_does_not_take_is_a_405_naming_them_all(
    client: TestClient,
) -> None:
    """``PATCH /api/conventions/figures`` was ``PATCH /api/conventions/{convention_id}``
    with the id « figures » (a 403 or a 422); a 405's ``Allow`` named the methods of one
    route only. And the OpenAPI document says the 401 and 403 of every route whose policy
    admits only some roles (a partner's run of schemathesis met undocumented 403s)."""
    response = client.patch("/api/conventions/figures", json={})
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    response = client.delete("/api/gpos/1")
    assert response.status_code == 405 and response.headers["allow"] == "GET, PATCH"
    assert response.json()["type"] == "MethodNotAllowed"
    assert client.get("/api/plans/premier").status_code == 404
    assert client.get("/api/plans/0").status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert {"401", "403"} <= set(paths["/api/accounts"]["get"]["responses"])
    assert {"401", "403"} <= set(paths["/api/gpos/{gpo_id}"]["patch"]["responses"])
    assert "403" not in paths["/api/health"]["get"]["responses"]


def test_what_a_library_would_refuse_its_own_way_is_the_apps_answer(
    client: TestClient, csp_id: int
) -> None:
    """Hostile input that reached a library as is: a sort named twice (SQLAlchemy's
    « Label name … is being renamed », a 500), a malformed ``Range`` on a static file
    (Starlette's English plain-text 400), a CSV of 10 000 columns (pandas, 8 s), a CSV in
    UTF-16 (a spreadsheet's « texte Unicode », refused as « ParserError »)."""
    response = client.get("/ogc/collections/problems/items", params={"sortby": "id,-id"})
    assert response.status_code == 400, response.text
    assert response.json() == {
        "code": "InvalidInputError",
        "description": "sortby : « id » nommée deux fois",
    }
    static = client.get("/static/js/api.js", headers={"Range": "bytes=5-2"})
    assert static.status_code == 200 and "content-range" not in static.headers
    header = ";".join(f"c{i}" for i in range(10_000)).encode() + b"\r\n"
    started = time.monotonic()
    response = client.post(
        f"/api/csp/{csp_id}/problems/import", files={"file": ("p.csv", header, "text/csv")}
    )
    assert response.status_code == 422 and time.monotonic() - started < 5
    assert response.json()["detail"] == (
        "Fichier : 10\u202f000 colonnes : au plus 200 (la catégorie, l'intitulé, la date, "
        "la position…)"
    )
    text = "category;title;lon;lat;reported_on\r\nautre;t;6.86;47.64;2026-06-01\r\n"
    utf16 = text.encode("utf-16")
    response = client.post(
        f"/api/csp/{csp_id}/problems/import", files={"file": ("p.csv", utf16, "text/csv")}
    )
    assert response.status_code == 201, response.text  # was a 500 (csv.Error) for a while


def test_the_tiles_refuse_as_the_api_does(anonymous_client: TestClient) -> None:
    """A tile is data, not a page: an anonymous request is the documented 401 in JSON,
    not a redirect to the sign-in page (schemathesis's ``ignored_auth`` followed it to
    an HTML page of 200)."""
    response = anonymous_client.get("/tiles/0/0/0.pbf", follow_redirects=False)
    assert response.status_code == 401, response.text
    assert response.json()["type"] == "AuthenticationRequiredError"
    assert anonymous_client.get("/carte", follow_redirects=False).status_code == 303
