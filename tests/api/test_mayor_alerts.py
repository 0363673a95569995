"""Alerts to mayors (issue 18) on the demo territory: an intervention recorded by the
état-major alerts the mayors of its commune only, by e-mail to a real local SMTP server
and by SMS to a real local HTTP gateway (a ``http.server`` thread reading what it got),
as each mayor chose (natures, channels, quiet hours); a point outside the CSP is refused;
the commune reads its delivery log; a study request gets its acknowledgement and a
message at its next step."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from shapely.ops import polylabel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.cluster import free_port
from api.mailer import SmtpServer
from api.models import Intervention, Notification
from api.services.notifications import Delivery, deliver_due
from api.sms import SmsGateway
from geo.participation import PARIS
from tests.api.test_notifications import SmtpTestServer
from tests.roles import as_role

BELFORT, ANDELNANS, BAVILLIERS = "90010", "90001", "90008"
TOKEN = "jeton-secret-de-la-passerelle"


@dataclass
class Gateway:
    """What the local SMS gateway received; it answers 503 to the first ``fail`` POSTs."""

    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    fail: int = 0
    port: int = 0


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    got = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if got.fail > 0:
                got.fail -= 1
                self.send_response(503)
                self.end_headers()
                return
            got.received.append((dict(self.headers), json.loads(body)))
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "queued"}')

        def log_message(self, *args: Any) -> None:
            del args

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    got.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got
    server.shutdown()
    server.server_close()


def _inside(client: TestClient, csp_id: int) -> dict[str, tuple[float, float]]:
    communes = client.get("/api/communes", params={"csp": csp_id}).json()["features"]
    out = {}
    for f in communes:
        geom = shape(f["geometry"])
        largest = max(getattr(geom, "geoms", [geom]), key=lambda p: p.area)
        p = polylabel(largest, 0.0005)
        out[f["id"]] = (round(p.x, 6), round(p.y, 6))
    return out


def test_intervention_alerts_its_mayors_only(
    client: TestClient,
    csp_id: int,
    demo: sessionmaker[Session],
    smtp: SmtpTestServer,
    gateway: Gateway,
) -> None:
    belfort = as_role(client, "commune", commune_codes=[BELFORT], email="maire@belfort.test")
    deputy = as_role(client, "commune", commune_codes=[BELFORT], email="adjoint@belfort.test")
    andelnans = as_role(client, "commune", commune_codes=[ANDELNANS], email="maire@andelnans.test")
    bavilliers = as_role(
        client, "commune", commune_codes=[BAVILLIERS], email="maire@bavilliers.test"
    )
    planner = as_role(client, "planificateur", csp_ids=[csp_id])

    # the mayor of Belfort wants e-mails and SMS; its deputy only fires; Bavilliers's
    # mayor is in its quiet hours, from an hour ago to an hour from now (Paris time)
    saved = client.put(
        "/api/alert-preferences",
        headers=belfort,
        json={"channels": ["email", "sms"], "phone": "06 11 22 33 44"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["phone"] == "0611223344"
    assert (
        client.put(
            "/api/alert-preferences", headers=deputy, json={"natures": ["incendie"]}
        ).status_code
        == 200
    )
    no_phone = client.put("/api/alert-preferences", headers=deputy, json={"channels": ["sms"]})
    assert no_phone.status_code == 422
    assert "phone" in no_phone.json()["detail"]
    now = datetime.now(PARIS)
    quiet_from, quiet_to = now - timedelta(hours=1), now + timedelta(hours=1)
    assert (
        client.put(
            "/api/alert-preferences",
            headers=bavilliers,
            json={"quiet_from": f"{quiet_from:%H:%M}", "quiet_to": f"{quiet_to:%H:%M}"},
        ).json()["quiet_to"]
        == f"{quiet_to:%H:%M}"
    )

    points = _inside(client, csp_id)
    at = datetime.now(UTC).replace(microsecond=0)
    accident = {
        "csp_id": csp_id,
        "occurred_at": at.isoformat(),
        "nature": "accident",
        "lon": points[BELFORT][0],
        "lat": points[BELFORT][1],
        "place": "Faubourg de France (fictif)",
    }
    recorded = client.post("/api/interventions", headers=planner, json=accident)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["commune_code"] == BELFORT
    # the demo's commune account (Belfort, the most populated commune; e-mail by default)
    # and the mayor's e-mail and SMS; not the deputy (fires only), not the other communes
    assert recorded.json()["alerts_queued"] == 3
    held = client.post(
        "/api/interventions",
        headers=planner,
        json={
            "csp_id": csp_id,
            "occurred_at": at.isoformat(),
            "nature": "tapage",
            "lon": points[BAVILLIERS][0],
            "lat": points[BAVILLIERS][1],
        },
    )
    assert held.json()["alerts_queued"] == 1

    # a point in Paris is outside the CSP: refused, nothing written
    outside = client.post(
        "/api/interventions",
        headers=planner,
        json={
            "csp_id": csp_id,
            "occurred_at": at.isoformat(),
            "nature": "rixe",
            "lon": 2.3522,
            "lat": 48.8566,
        },
    )
    assert outside.status_code == 422
    assert outside.json()["detail"] == (
        "Longitude : le point choisi est hors de la circonscription de Belfort : placez "
        "l'intervention sur son territoire"
    )
    # the commune does not record interventions
    assert client.post("/api/interventions", headers=belfort, json=accident).status_code == 403
    with demo() as session:
        assert session.scalar(select(func.count()).select_from(Intervention)) == 2
        quiet = session.scalars(
            select(Notification).where(Notification.commune_code == BAVILLIERS)
        ).one()
        # held until the end of the quiet hours: an hour from now, to the minute
        assert quiet.next_attempt_at == quiet_to.replace(second=0, microsecond=0)

    # delivery: the SMS gateway fails once (503), the e-mail goes
    gateway.fail = 1
    delivery = Delivery(
        server=SmtpServer.from_url(smtp.url),
        sender="psq@tests.example",
        sms=SmsGateway(url=f"http://127.0.0.1:{gateway.port}/sms", token=TOKEN),
    )
    ctx = client.app.state.context  # type: ignore[attr-defined]
    first = deliver_due(ctx, delivery)
    assert (first.sent, first.retried) == (2, 1)
    later = deliver_due(ctx, delivery, now=datetime.now(UTC) + timedelta(minutes=5))
    assert later.sent == 1

    assert sorted(m.rcpt_tos[0] for m in smtp.inbox.messages) == [
        "commune@demo.psq.example",
        "maire@belfort.test",
    ]
    (mail,) = [m for m in smtp.inbox.messages if m.rcpt_tos == ["maire@belfort.test"]]
    assert mail.message["Subject"] == (
        "Intervention en cours à Belfort : Accident de la circulation"
    )
    assert "Faubourg de France (fictif)" in mail.message.get_content()
    ((headers, sms),) = gateway.received
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert sms["to"] == "0611223344"
    local = at.astimezone(PARIS)
    assert sms["text"] == (
        f"PSQ - Belfort : intervention de police (accident de la circulation) le "
        f"{local:%d/%m à %H:%M}, Faubourg de France (fictif)."
    )

    # the delivery log: Belfort's three messages, the SMS with its failed attempt
    log = client.get(f"/api/communes/{BELFORT}/deliveries", headers=belfort).json()
    assert [(d["channel"], d["status"], d["attempts"]) for d in log["data"]] == [
        ("sms", "sent", 2),
        ("email", "sent", 1),
        ("email", "sent", 1),
    ]
    assert log["data"][0]["last_error"] is None
    assert client.get(f"/api/communes/{BELFORT}/deliveries", headers=andelnans).status_code == 404
    assert (
        client.get(f"/api/communes/{ANDELNANS}/deliveries", headers=andelnans).json()["count"] == 0
    )
    assert client.get("/api/interventions", headers=andelnans).json()["count"] == 0
    mine = client.get("/api/interventions", headers=belfort).json()["data"]
    assert [i["nature"] for i in mine] == ["accident"]

    # the study requests' messages (the same demo database, to keep the suite short)
    _study_request_acknowledged_and_followed(client, csp_id, belfort)


def _study_request_acknowledged_and_followed(
    client: TestClient, csp_id: int, mayor: dict[str, str]
) -> None:
    """A study request filed by the mayor: its acknowledgement, then a message at its next
    step, to the request's contact and Belfort's commune accounts."""
    lon, lat = _inside(client, csp_id)[BELFORT]
    filed = client.post(
        "/api/audits",
        headers=mayor,
        json={
            "commune_code": BELFORT,
            "kind": "batiment_communal",
            "site": {"type": "Point", "coordinates": [lon, lat]},
            "site_name": "Médiathèque (fictive)",
            "need": "Intrusions répétées",
            "contact_name": "Services techniques",
            "contact_email": "technique@belfort.test",
        },
    )
    assert filed.status_code == 201, filed.text
    request = filed.json()
    moved = client.post(
        f"/api/audits/{request['id']}/transitions",
        json={"status": "acceptee", "version": request["version"]},
    )
    assert moved.status_code == 200, moved.text
    log = [
        d
        for d in client.get(f"/api/communes/{BELFORT}/deliveries", headers=mayor).json()["data"]
        if d["kind"] == "study-request"
    ]
    # to the request's contact and to Belfort's three commune accounts (the demo's, the
    # mayor, the deputy: study messages know no alert preference)
    recipients = [
        "adjoint@belfort.test",
        "commune@demo.psq.example",
        "maire@belfort.test",
        "technique@belfort.test",
    ]
    subjects = [
        f"Accusé de réception : demande d'étude de sûreté n° {request['id']} "
        "(Médiathèque (fictive))",
        f"Demande d'étude de sûreté n° {request['id']} : acceptée",
    ]
    assert sorted((d["recipient"], d["subject"]) for d in log) == [
        (r, s) for r in recipients for s in subjects
    ]
