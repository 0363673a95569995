"""Safety-study requests through the API on the demo territory (synthetic problems),
checked against PostGIS: filing, bad input, duplicates, the life cycle, documents, the
référents' queue with its evidence, a commune's aggregated map and the camera
suggestion."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Engine, text

from tests.clock import TODAY

BELFORT = "90010"
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "ban_sample_belfort.csv"
PLACE_ARMES = (6.8640, 47.6378)  # Place d'Armes, Belfort
GARE = (6.8526, 47.6320)  # near Belfort station


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def request_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "commune_code": BELFORT,
        "kind": "videoprotection",
        "site": point(*PLACE_ARMES),
        "site_name": "Place d'Armes",
        "need": "Rassemblements nocturnes et dégradations ; projet de vidéoprotection.",
        "desired_from": (TODAY + timedelta(days=30)).isoformat(),
        "desired_to": (TODAY + timedelta(days=90)).isoformat(),
        "contact_name": "Mme Martin",
        "contact_role": "Adjointe au maire chargée de la sécurité",
        "contact_email": "securite@mairie-belfort.example",
    }
    body.update(overrides)
    return body


def field_of(response: Any) -> str:
    """The field a refusal names first (its name in the request)."""
    return str(response.json()["fields"][0]["field"])


def detail(response: Any) -> str:
    body = response.json()
    return body["detail"] if isinstance(body["detail"], str) else str(body["detail"])


@pytest.fixture
def referent(client: TestClient, csp_id: int) -> int:
    response = client.post(
        f"/api/csp/{csp_id}/referents",
        json={"name": "Cne Durand", "role": "referent", "grade": "Capitaine"},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_request_goes_through_its_life_cycle(
    client: TestClient, csp_id: int, referent: int
) -> None:
    filed = client.post("/api/audits", json=request_body())
    assert filed.status_code == 201, filed.text
    r = filed.json()
    assert (r["status"], r["commune_name"], r["csp_id"]) == ("demandee", "Belfort", csp_id)
    assert r["geometry"]["coordinates"] == list(PLACE_ARMES)
    assert [e["status"] for e in r["events"]] == ["demandee"]
    url = f"/api/audits/{r['id']}/transitions"

    illegal = client.post(url, json={"status": "realisee"})
    assert illegal.status_code == 409 and field_of(illegal) == "status"
    assert "« Demandée » ne peut pas passer à « Réalisée »" in detail(illegal)
    assert client.post(url, json={"status": "acceptee"}).status_code == 200
    no_referent = client.post(url, json={"status": "planifiee", "planned_on": str(TODAY)})
    assert no_referent.status_code == 422 and field_of(no_referent) == "referent_id"
    stranger = client.post(
        url, json={"status": "planifiee", "planned_on": str(TODAY), "referent_id": referent + 99}
    )
    assert stranger.status_code == 422 and "aucun référent n° " in detail(stranger)
    future_step = client.post(
        url,
        json={
            "status": "planifiee",
            "on": str(TODAY + timedelta(days=2)),
            "planned_on": str(TODAY),
            "referent_id": referent,
        },
    )
    assert future_step.status_code == 422 and field_of(future_step) == "on"
    planned = client.post(
        url, json={"status": "planifiee", "planned_on": str(TODAY), "referent_id": referent}
    )
    assert planned.status_code == 200, planned.text
    assert (planned.json()["referent"], planned.json()["planned_on"]) == ("Cne Durand", str(TODAY))

    workload = client.get(f"/api/csp/{csp_id}/referents").json()["data"][0]
    assert (workload["planned"], workload["next_on"]) == (1, str(TODAY))

    assert client.post(url, json={"status": "realisee"}).status_code == 200
    empty = client.post(url, json={"status": "preconisations_remises"})
    assert empty.status_code == 422 and field_of(empty) == "recommendations"
    bad_type = client.post(
        f"/api/audits/{r['id']}/document",
        files={"file": ("plan.exe", b"MZ...", "application/x-msdownload")},
    )
    assert bad_type.status_code == 422 and "application/x-msdownload" in detail(bad_type)
    pdf = b"%PDF-1.4 preconisations"
    name = "Préconisations \u2013 sûreté\u2019œ.pdf"  # en dash, apostrophe, ligature
    uploaded = client.post(
        f"/api/audits/{r['id']}/document", files={"file": (name, pdf, "application/pdf")}
    )
    assert uploaded.status_code == 200 and uploaded.json()["document"] == name
    done = client.post(url, json={"status": "preconisations_remises", "note": "Remis en mairie"})
    assert done.status_code == 200, done.text
    final = done.json()
    assert [e["status"] for e in final["events"]] == [
        "demandee",
        "acceptee",
        "planifiee",
        "realisee",
        "preconisations_remises",
    ]
    assert final["events"][2]["referent"] == "Cne Durand"
    downloaded = client.get(f"/api/audits/{r['id']}/document")
    assert downloaded.content == pdf and downloaded.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''Pr%C3%A9conisations" in downloaded.headers["content-disposition"]
    closed = client.post(url, json={"status": "refusee", "reason": "trop tard"})
    assert closed.status_code == 409 and "possible : aucun (close)" in detail(closed)

    workload = client.get(f"/api/csp/{csp_id}/referents").json()["data"][0]
    assert (workload["planned"], workload["awaiting_recommendations"]) == (0, 0)
    assert workload["done_12_months"] == 1


def test_a_refusal_needs_its_reason(client: TestClient, csp_id: int) -> None:
    del csp_id
    r = client.post("/api/audits", json=request_body(kind="evenement")).json()
    url = f"/api/audits/{r['id']}/transitions"
    missing = client.post(url, json={"status": "refusee"})
    assert missing.status_code == 422 and field_of(missing) == "reason"
    refused = client.post(url, json={"status": "refusee", "reason": "Relève de la gendarmerie"})
    assert refused.status_code == 200
    assert refused.json()["refusal_reason"] == "Relève de la gendarmerie"
    # a refused request is no longer open: the same site may be asked again
    again = client.post("/api/audits", json=request_body())
    assert again.status_code == 201 and again.json()["duplicate_of"] is None


def test_bad_requests_name_the_field(client: TestClient, csp_id: int, engine: Engine) -> None:
    del csp_id
    # a point in Danjoutin, next to Belfort
    outside = client.post("/api/audits", json=request_body(site=point(6.8626, 47.6184)))
    assert outside.status_code == 422
    assert field_of(outside) == "site" and "hors de commune 90010 (Belfort)" in detail(outside)
    swapped = client.post("/api/audits", json=request_body(site=point(47.6378, 6.8640)))
    assert swapped.status_code == 422 and "inversées" in detail(swapped)
    unknown = client.post("/api/audits", json=request_body(commune_code="99999"))
    assert unknown.status_code == 422 and field_of(unknown) == "commune_code"
    kind = client.post("/api/audits", json=request_body(kind="piscine"))
    assert kind.status_code == 422 and "piscine" in detail(kind)
    line = client.post(
        "/api/audits",
        json=request_body(site={"type": "LineString", "coordinates": [PLACE_ARMES, GARE]}),
    )
    assert line.status_code == 422 and "une géométrie « LineString » n'est pas acceptée" in detail(
        line
    )
    collection = client.post(
        "/api/audits", json=request_body(site={"type": "GeometryCollection", "geometries": []})
    )
    assert collection.status_code == 422 and "site" in detail(collection)
    period = client.post(
        "/api/audits",
        json=request_body(desired_from=str(TODAY + timedelta(days=9)), desired_to=str(TODAY)),
    )
    assert (
        period.status_code == 422
        and field_of(period) == "desired_to"
        and "précède son début" in detail(period)
    )
    nothing = client.post("/api/audits", json=request_body(site=None))
    assert (
        nothing.status_code == 422
        and field_of(nothing) == "site"
        and "indiquez son adresse" in detail(nothing)
    )
    no_contact = client.post("/api/audits", json=request_body(contact_email=None))
    assert no_contact.status_code == 422 and "un courriel ou un téléphone" in detail(no_contact)
    with engine.connect() as conn:  # nothing half-written
        assert conn.execute(text("SELECT count(*) FROM audit_request")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == 0


def test_a_second_open_request_for_the_same_site_is_flagged(
    client: TestClient, csp_id: int
) -> None:
    del csp_id
    first = client.post("/api/audits", json=request_body()).json()
    # 20 m away: the same site
    nearby = request_body(site=point(PLACE_ARMES[0] + 0.0002, PLACE_ARMES[1]))
    flagged = client.post("/api/audits", json=nearby)
    assert flagged.status_code == 409
    assert flagged.json()["existing_id"] == first["id"]
    assert f"demande n° {first['id']}" in detail(flagged)
    confirmed = client.post("/api/audits", json={**nearby, "confirm_duplicate": True})
    assert confirmed.status_code == 201 and confirmed.json()["duplicate_of"] == first["id"]
    elsewhere = client.post("/api/audits", json=request_body(site=point(*GARE)))
    assert elsewhere.status_code == 201 and elsewhere.json()["duplicate_of"] is None
    listed = client.get("/api/audits", params={"commune": BELFORT}).json()
    assert listed["count"] == 3


def test_a_polygon_site_and_an_address(client: TestClient, csp_id: int) -> None:
    del csp_id
    assert (
        client.post(
            "/api/addresses/import", files={"file": (SAMPLE.name, SAMPLE.read_bytes())}
        ).status_code
        == 201
    )
    x, y = GARE
    square = [[x, y], [x + 0.001, y], [x + 0.001, y + 0.0007], [x, y + 0.0007], [x, y]]
    polygon = client.post(
        "/api/audits",
        json=request_body(kind="espace_public", site={"type": "Polygon", "coordinates": [square]}),
    )
    assert polygon.status_code == 201 and polygon.json()["geometry"]["type"] == "Polygon"
    with_height = client.post(
        "/api/audits",
        json=request_body(site={"type": "Point", "coordinates": [6.858, 47.64, 360]}),
    )
    assert with_height.status_code == 201, with_height.text
    assert with_height.json()["geometry"]["coordinates"] == [6.858, 47.64]
    by_address = client.post(
        "/api/audits",
        json=request_body(site=None, address="3 place d'Armes", kind="batiment_communal"),
    )
    assert by_address.status_code == 201, by_address.text
    assert by_address.json()["geometry"]["coordinates"] == [6.864, 47.6378]
    unknown = client.post(
        "/api/audits", json=request_body(site=None, address="12 rue de Nulle Part")
    )
    assert unknown.status_code == 422 and field_of(unknown) == "address"


def _belfort_anchors(engine: Engine, since: date) -> np.ndarray:
    """lon/lat of the anchors of Belfort's problems reported since ``since``."""
    with engine.connect() as conn:
        xy = np.array(
            conn.execute(
                text(
                    "SELECT ST_X(p.anchor), ST_Y(p.anchor) FROM problem p JOIN commune c "
                    "ON c.code = '90010' AND ST_Intersects(c.geom, p.anchor) "
                    "WHERE p.reported_on >= :since"
                ),
                {"since": since},
            ).all()
        )
    return xy


def _busiest_and_quietest(engine: Engine, since: date) -> tuple[tuple[float, float], ...]:
    """The H3 res-10 cell centres of Belfort with the most and the fewest problems within
    200 m over the period."""
    xy = _belfort_anchors(engine, since)
    with engine.connect() as conn:
        outline = shapely.from_wkb(
            conn.execute(
                text("SELECT ST_AsBinary(geom) FROM commune WHERE code = '90010'")
            ).scalar_one()
        )
    centres = [
        h3.cell_to_latlng(c)[::-1]
        for c in h3.h3shape_to_cells(h3.geo_to_h3shape(outline.buffer(-0.003)), 10)
    ]
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    px, py = to_l93.transform(xy[:, 0], xy[:, 1])
    counts = []
    for lon, lat in centres:
        sx, sy = to_l93.transform(lon, lat)
        counts.append(int((np.hypot(px - sx, py - sy) <= 200).sum()))
    return centres[int(np.argmax(counts))], centres[int(np.argmin(counts))]


def test_the_queue_shows_the_evidence_and_sorts(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    busy, quiet = _busiest_and_quietest(engine, TODAY - timedelta(days=364))
    old = client.post("/api/audits", json=request_body(site=point(*quiet))).json()
    with engine.begin() as conn:  # filed 60 days ago
        conn.execute(
            text("UPDATE audit_request SET requested_on = :day, status_on = :day WHERE id = :id"),
            {"day": TODAY - timedelta(days=60), "id": old["id"]},
        )
    hot = client.post("/api/audits", json=request_body(site=point(*busy))).json()
    queue = client.get(
        "/api/audits", params={"csp": csp_id, "evidence": "true", "order": "evidence"}
    ).json()
    assert [r["id"] for r in queue["data"]] == [hot["id"], old["id"]]
    assert queue["date_from"] == str(TODAY - timedelta(days=364))
    for r in queue["data"]:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT p.category, count(*) FROM problem p, audit_request r "
                    "WHERE r.id = :id AND p.reported_on >= :since AND "
                    "ST_Distance(p.anchor::geography, r.geom::geography) <= 200 "
                    "GROUP BY p.category"
                ),
                {"id": r["id"], "since": TODAY - timedelta(days=364)},
            ).all()
        assert r["evidence"]["by_category"] == dict(rows)
        assert r["evidence"]["problems"] == sum(n for _, n in rows)
    assert queue["data"][0]["evidence"]["problems"] > queue["data"][1]["evidence"]["problems"]
    assert queue["data"][0]["evidence"]["hotspot_level"] >= 1  # the busiest spot is hot
    waiting = client.get("/api/audits", params={"csp": csp_id, "order": "waiting"}).json()
    assert [r["id"] for r in waiting["data"]] == [old["id"], hot["id"]]
    assert waiting["data"][0]["waiting_days"] == 60 and waiting["data"][0]["evidence"] is None
    need_csp = client.get("/api/audits", params={"evidence": "true"})
    assert need_csp.status_code == 422 and field_of(need_csp) == "evidence"
    bad_status = client.get("/api/audits", params={"csp": csp_id, "status": "perdue"})
    assert bad_status.status_code == 422 and "perdue" in detail(bad_status)


def test_a_commune_sees_counts_per_cell_never_records(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    del csp_id
    answer = client.get(f"/api/communes/{BELFORT}/hotspots")
    assert answer.status_code == 200
    body = answer.json()
    with engine.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT count(*) FROM problem p JOIN commune c ON c.code = '90010' "
                "AND ST_Intersects(c.geom, p.anchor) WHERE p.reported_on >= :since"
            ),
            {"since": TODAY - timedelta(days=364)},
        ).scalar_one()
    assert body["meta"]["problems"] == expected > 0
    assert body["meta"]["commune_code"] == BELFORT
    shown = [f["properties"] for f in body["features"]]
    masked = [c for c in shown if c["few"]]
    assert masked and all(c["count"] is None for c in masked)  # 1 or 2: never shown
    assert all(c["count"] >= 3 or c["count"] == 0 for c in shown if not c["few"])
    counted = sum(c["count"] for c in shown if not c["few"])
    assert counted + len(masked) <= expected <= counted + 2 * len(masked)
    for f in body["features"]:
        assert set(f["properties"]) == {"h3", "count", "few", "level", "label"}
        assert f["geometry"]["type"] == "Polygon"
    unknown = client.get("/api/communes/99999/hotspots")
    assert unknown.status_code == 422 and field_of(unknown) == "code"
    assert client.get("/api/communes/9'0/hotspots").status_code == 422


def _brute_force_covered(
    engine: Engine, sites: list[tuple[float, float]], radius: float, since: date
) -> int:
    """Problems of Belfort within ``radius`` metres (Lambert-93) of any site."""
    xy = _belfort_anchors(engine, since)
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    px, py = to_l93.transform(xy[:, 0], xy[:, 1])
    covered = np.zeros(len(xy), dtype=bool)
    for lon, lat in sites:
        sx, sy = to_l93.transform(lon, lat)
        covered |= np.hypot(px - sx, py - sy) <= radius
    return int(covered.sum())


def test_the_camera_suggestion_covers_what_it_says(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    del csp_id
    requested = client.post("/api/audits", json=request_body()).json()
    school = request_body(kind="etablissement_scolaire", site=point(*GARE))
    assert client.post("/api/audits", json=school).status_code == 201  # not a camera site
    answer = client.get(f"/api/communes/{BELFORT}/coverage", params={"p": 4, "radius": 120})
    assert answer.status_code == 200, answer.text
    s = answer.json()
    assert (s["p"], s["radius_m"], s["candidate_kind"]) == (4, 120, "h3")
    assert len(s["sites"]) == 4 and [site["rank"] for site in s["sites"]] == [1, 2, 3, 4]
    assert s["method"] == "exact" and s["optimal"] and s["gap"] <= 1e-3
    gains = [site["gain"] for site in s["sites"]]
    assert gains == sorted(gains, reverse=True)
    assert s["sites"][-1]["cumulative_share"] == pytest.approx(s["covered_share"], abs=1e-3)
    since = TODAY - timedelta(days=364)
    sites = [(site["lon"], site["lat"]) for site in s["sites"]]
    assert s["problems_covered"] == _brute_force_covered(engine, sites, 120, since)
    counts = [site["problems"] for site in s["sites"]]
    assert all(n is None or n >= 3 for n in counts)  # 1 or 2 masked
    assert sum(n or 0 for n in counts) <= s["problems_covered"]
    assert s["sites"][0]["problems"] == _brute_force_covered(engine, sites[:1], 120, since)
    (scored,) = s["requested"]
    assert scored["request_id"] == requested["id"]
    alone = _brute_force_covered(engine, [PLACE_ARMES], 120, since)
    assert scored["problems"] == (None if 0 < alone < 3 else alone)
    # a video-protection study carried out there becomes a fixed site
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_request SET status = 'realisee' WHERE id = :id"),
            {"id": requested["id"]},
        )
    fixed = client.get(f"/api/communes/{BELFORT}/coverage", params={"p": 4, "radius": 120}).json()
    assert [f["source"] for f in fixed["fixed"]] == ["audit"]
    assert fixed["fixed_share"] == pytest.approx(scored["share"], abs=1e-3)
    assert fixed["requested"] == []
    covered_with_fixed = _brute_force_covered(
        engine, [PLACE_ARMES] + [(x["lon"], x["lat"]) for x in fixed["sites"]], 120, since
    )
    assert fixed["problems_covered"] == covered_with_fixed
    bad = client.get(f"/api/communes/{BELFORT}/coverage", params={"p": 0})
    assert bad.status_code == 422
    too_fine = client.get(f"/api/communes/{BELFORT}/coverage", params={"radius": 20})
    assert too_fine.status_code == 422  # a radius that could single a problem out
    many = client.get(f"/api/communes/{BELFORT}/coverage", params={"p": 50, "radius": 50})
    assert many.status_code == 200 and len(many.json()["sites"]) <= 50


def test_refusals_are_french_coded_and_name_their_field(client: TestClient, csp_id: int) -> None:
    """Issue 23: « 422 — contact_email : Value error, 'mairie-vetrigne' is not an e-mail
    address » and « desired_from … is after desired_to » are said in French, with the
    catalogue's code, under the field a person reads."""
    del csp_id
    email = client.post("/api/audits", json=request_body(contact_email="mairie-vetrigne"))
    assert email.status_code == 422
    body = email.json()
    said = "« mairie-vetrigne » n'est pas une adresse e-mail (exemple : mairie@commune.fr)"
    assert body["detail"] == f"Adresse e-mail de contact : {said}"
    assert body["code"] == "not_an_email" and body["type"] == "RequestValidationError"
    assert body["fields"] == [
        {
            "loc": ["body", "contact_email"],
            "field": "contact_email",
            "label": "Adresse e-mail de contact",
            "msg": said,
            "type": "not_an_email",
        }
    ]
    start, end = TODAY + timedelta(days=40), TODAY + timedelta(days=10)
    period = client.post(
        "/api/audits", json=request_body(desired_from=str(start), desired_to=str(end))
    )
    assert period.status_code == 422
    [field] = period.json()["fields"]
    assert (field["loc"], field["type"]) == (["body", "desired_to"], "study_dates_order")
    assert period.json()["detail"] == (
        f"Fin de la période souhaitée : la fin de la période souhaitée ({end:%d/%m/%Y}) "
        f"précède son début ({start:%d/%m/%Y})"
    )
