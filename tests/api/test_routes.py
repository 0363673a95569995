"""HTTP API against the real PostGIS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.route_log import record_routes


@pytest.fixture
def belfort(client: TestClient, demo: sessionmaker[Session]) -> dict:
    del demo
    return client.get("/api/csp").json()["data"][0]


def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["postgis"].startswith("3.")


def test_csp_list(belfort: dict) -> None:
    assert belfort["name"] == "Belfort" and belfort["code"] == "belfort"
    assert belfort["commune_count"] == 10
    assert belfort["population"] == 71_619
    assert 50 < belfort["area_km2"] < 65
    min_x, min_y, max_x, max_y = belfort["bbox"]
    assert 6.7 < min_x < max_x < 7.0 and 47.5 < min_y < max_y < 47.8


def test_empty_csp_list(client: TestClient) -> None:
    assert client.get("/api/csp").json() == {"data": [], "count": 0}


def test_csp_outline(client: TestClient, belfort: dict) -> None:
    body = client.get(f"/api/csp/{belfort['id']}").json()
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["commune_codes"][0] == "90001"
    assert len(feature["properties"]["commune_codes"]) == 10
    assert body["bbox"] == belfort["bbox"]


def test_unknown_csp_is_404(client: TestClient) -> None:
    response = client.get("/api/csp/4242")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "introuvable : CSP n° 4242 (ou hors de votre périmètre)",
        "type": "NotFoundError",
        "code": "not_found_by_id",
    }
    response = client.get("/api/communes", params={"csp": 4242})
    assert response.status_code == 404
    assert "4242" in response.json()["detail"]


def test_communes(client: TestClient, belfort: dict) -> None:
    every = client.get("/api/communes").json()
    assert len(every["features"]) == 101
    of_csp = client.get("/api/communes", params={"csp": belfort["id"]}).json()
    assert len(of_csp["features"]) == 10
    feature = next(f for f in of_csp["features"] if f["id"] == "90010")
    assert feature["properties"] == {
        "code": "90010",
        "name": "Belfort",
        "population": 45912,
        "csp_ids": [belfort["id"]],
        # its intercommunalité, as data/boundaries/communes_90.geojson gives it
        "epci_code": "200069052",
        "epci_name": "CA Grand Belfort",
    }
    outside = next(f for f in every["features"] if f["id"] == "90033")  # Delle
    assert outside["properties"]["csp_ids"] == []


def test_communes_in_bbox(client: TestClient, belfort: dict) -> None:
    del belfort
    # A small box in the centre of Belfort touches no other commune.
    body = client.get("/api/communes", params={"bbox": "6.84,47.63,6.85,47.64"}).json()
    assert [f["id"] for f in body["features"]] == ["90010"]
    far = client.get("/api/communes", params={"bbox": "2.0,48.0,2.1,48.1"}).json()
    assert far["features"] == []


@pytest.mark.parametrize(
    ("bbox", "fragment"),
    [
        ("1,2,3", "reçu 3"),
        ("a,b,c,d", "quatre nombres séparés par des virgules"),
        ("6.9,47.6,6.8,47.7", "minimum au-dessus de son maximum"),
        ("6.8,47.6,6.9,147.7", "sort des longitudes"),
        ("", "quatre nombres séparés par des virgules"),
    ],
)
def test_malformed_bbox_is_422_naming_it(client: TestClient, bbox: str, fragment: str) -> None:
    response = client.get("/api/communes", params={"bbox": bbox})
    assert response.status_code == 422
    [error] = response.json()["fields"]
    assert error["loc"] == ["query", "bbox"]
    assert fragment in error["msg"]


def test_non_integer_csp_is_422(client: TestClient) -> None:
    response = client.get("/api/communes", params={"csp": "belfort"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == ["query", "csp"]


def test_openapi_documents_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/health", "/api/communes", "/api/csp", "/api/csp/{csp_id}"} <= set(spec["paths"])
    bbox = next(
        p for p in spec["paths"]["/api/communes"]["get"]["parameters"] if p["name"] == "bbox"
    )
    assert "WGS84" in bbox["description"]
    assert "404" in spec["paths"]["/api/csp/{csp_id}"]["get"]["responses"]


def test_the_schema_says_what_a_valid_request_is(client: TestClient) -> None:
    """Codes are enums, input models refuse unknown properties, strings sent carry the
    control-character rule, a bbox its format, a field that may not be null is not
    nullable (issue 22: a request valid by the schema is not refused as invalid)."""
    spec = client.get("/openapi.json").json()
    models = spec["components"]["schemas"]
    transition = models["ProblemTransition"]
    assert transition["additionalProperties"] is False
    assert transition["properties"]["status"]["enum"] == [
        "signale", "analyse", "actions_en_cours", "evalue", "resolu", "clos_sans_suite"
    ]  # fmt: skip
    assert models["ProblemCreate"]["properties"]["title"]["pattern"] == (
        r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
    )
    assert models["GpoUpdate"]["properties"]["cadence_days"]["enum"] == [15, 30]
    assert {"type": "null"} not in models["ActionUpdate"]["properties"]["status"].get("anyOf", [])
    bbox = next(
        p for p in spec["paths"]["/api/communes"]["get"]["parameters"] if p["name"] == "bbox"
    )
    assert bbox["schema"]["pattern"].startswith("^-?(?:180")
    # What the schema says is what the app does: an unknown property is a 422 naming it.
    extra = client.post("/api/problems/1/transitions", json={"status": "analyse", "x": 1})
    assert extra.status_code == 422
    assert [f["loc"] for f in extra.json()["fields"]] == [["body", "x"]]


@pytest.mark.parametrize("path", ["/api/csp/99999999999", "/api/communes?csp=99999999999999"])
def test_ids_beyond_the_database_range_are_422(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 422


def test_database_outage_is_503_json(settings) -> None:  # type: ignore[no-untyped-def]
    from api.cluster import free_port
    from psq.app import create_app

    down = settings.model_copy(
        update={"database_url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"}
    )
    with TestClient(record_routes(create_app(down))) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["type"] == "DatabaseUnavailable"
