"""Contrats de sécurité intégrée (issue 18) on the demo territory: a contract over two
communes with its four objectives, refusals naming the field (no commune, an unknown
one, an end before the start), each commune seeing the contracts it belongs to only,
versions kept on every change, and the diagnostic partagé as an A4 PDF read back with
pypdf: its sections, each with its source and period, and the SSMSI figures."""

from __future__ import annotations

import io
import unicodedata
from datetime import timedelta

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.models import CsiContract, Partner
from tests.clock import TODAY
from tests.roles import as_role

pytestmark = pytest.mark.browser  # the PDF is printed by Chromium
BELFORT, ANDELNANS, BAVILLIERS = "90010", "90001", "90008"


def test_contract_objectives_scope_versions_and_diagnostic(
    client: TestClient, csp_id: int, demo: sessionmaker[Session]
) -> None:
    planner = as_role(client, "planificateur", csp_ids=[csp_id])
    body = {
        "name": "CSI de l'agglomération (fictif)",
        "intercommunalite": "Grand Belfort",
        "commune_codes": [BELFORT, ANDELNANS, BELFORT],
        "signed_on": "2025-06-01",
        "start_on": "2025-07-01",
        "objectives": [
            {
                "objective": "aide_victimes",
                "actions": [
                    {
                        "title": "Permanence d'aide aux victimes au commissariat",
                        "lead_partner": "Association d'aide aux victimes (fictive)",
                        "indicators": ["Victimes reçues par mois"],
                    }
                ],
            },
            {"objective": "citoyennete_prevention", "actions": []},
        ],
    }
    created = client.post("/api/csi", headers=planner, json=body)
    assert created.status_code == 201, created.text
    contract = created.json()
    assert [c["code"] for c in contract["communes"]] == [BELFORT, ANDELNANS]
    assert [o["objective"] for o in contract["objectives"]] == [
        "citoyennete_prevention",
        "tranquillite_securite",
        "justice_proximite",
        "aide_victimes",
    ]
    assert contract["objectives"][3]["actions"][0]["lead_partner"] == (
        "Association d'aide aux victimes (fictive)"
    )
    assert contract["in_force"] is True

    refusals = {
        "Communes : un contrat porte sur au moins une commune": {"commune_codes": []},
        "Communes : commune(s) inconnue(s) ou hors de toute CSP : 99999": {
            "commune_codes": [BELFORT, "99999"]
        },
        "Date de fin : la fin (30/06/2025) précède le début (01/07/2025)": {"end_on": "2025-06-30"},
    }
    for detail, change in refusals.items():
        refused = client.post("/api/csi", headers=planner, json={**body, **change})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"] == detail
    with demo() as session:
        assert session.scalar(select(func.count()).select_from(CsiContract)) == 1

    andelnans = as_role(client, "commune", commune_codes=[ANDELNANS])
    bavilliers = as_role(client, "commune", commune_codes=[BAVILLIERS])
    assert client.get("/api/csi", headers=andelnans).json()["count"] == 1
    assert client.get("/api/csi", headers=bavilliers).json()["count"] == 0
    assert client.get(f"/api/csi/{contract['id']}", headers=bavilliers).status_code == 404
    assert client.post("/api/csi", headers=andelnans, json=body).status_code == 403

    # the lead partners offered: the organisations of the CSP's partners, by name
    with demo() as session:
        organisations = sorted(
            session.scalars(select(Partner.organisation).where(Partner.csp_id == csp_id))
        )
    offered = client.get(f"/api/csi/partners?csp={csp_id}", headers=planner).json()
    assert sorted(p["organisation"] for p in offered["data"]) == organisations
    assert offered["count"] == len(organisations) > 0
    assert set(offered["data"][0]) == {"id", "csp_id", "organisation", "type_label"}
    assert client.get("/api/csi/partners", headers=andelnans).status_code == 403
    # a CSP outside the caller's perimeter (or none) is a 404, not an empty list
    assert client.get("/api/csi/partners?csp=999999", headers=planner).status_code == 404
    # an action without intitulé is refused, naming its field
    refused = client.post(
        "/api/csi",
        headers=planner,
        json={**body, "objectives": [{"objective": "aide_victimes", "actions": [{"title": ""}]}]},
    )
    assert refused.status_code == 422
    assert [f["field"] for f in refused.json()["fields"]] == ["objectives.0.actions.0.title"]

    end = (TODAY - timedelta(days=1)).isoformat()
    changed = client.patch(
        f"/api/csi/{contract['id']}",
        headers=planner,
        json={"version": 1, "end_on": end, "commune_codes": [BELFORT]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["in_force"] is False
    assert (
        client.patch(
            f"/api/csi/{contract['id']}", headers=planner, json={"version": 1, "name": "x"}
        ).status_code
        == 409
    )
    assert client.get("/api/csi", headers=andelnans).json()["count"] == 0
    versions = client.get(f"/api/csi/{contract['id']}/versions", headers=planner).json()
    assert [(v["version"], v["snapshot"]["commune_codes"]) for v in versions["data"]] == [
        (1, [BELFORT, ANDELNANS]),
        (2, [BELFORT]),
    ]

    printed = client.get(f"/csi/{contract['id']}/diagnostic.pdf", headers=planner)
    assert printed.status_code == 200, printed.text[:300]
    assert printed.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(printed.content))
    text = unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=1)  # A4 portrait
    for heading in (
        "Diagnostic partagé — CSI de l'agglomération (fictif)",
        "Problématiques par catégorie",
        "Points chauds",
        "Études de sûreté",
        "Participation citoyenne",
        "Délinquance enregistrée — département 90",
        "Objectifs du contrat",
        "Permanence d'aide aux victimes au commissariat",
    ):
        assert heading in text, heading
    assert text.count("Source :") == 6
    assert "produit le 22/01/2026" in text
    # SSMSI, département 90, 2025: 234 burglaries (3.2 per 1 000 dwellings), 192 in 2024
    assert "Cambriolages de logement Infraction 2025 234 3.2 192" in " ".join(text.split())
    assert (
        client.get(f"/csi/{contract['id']}/diagnostic.pdf", headers=bavilliers).status_code == 404
    )
