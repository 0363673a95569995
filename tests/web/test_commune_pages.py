"""The writes of the commune's space in real headless Chromium on the demo (issue 18):

- the mayor (the demo's ``commune`` account, Belfort) sets its alert preferences, changes
  its convention, meets a change made meanwhile (409, said in French), denounces it
  (« Dénoncée », ending with its current term), and sees no button it may not use;
- a chef records an intervention clicked on the map of Belfort: it waits for the mayor's
  quiet hours in the delivery log, then reaches the real local SMTP receiver of the alert
  tests, and the log says it was sent;
- the état-major creates a contrat de sécurité intégrée over two communes chosen by name,
  two actions of one objective as rows (a lead partner among the CSP's partners, another
  typed; indicators added and removed), a missing intitulé and a bad end date said next
  to their fields; reloaded, the list and the editor have the actions; changed (version 2
  in its versions), its diagnostic partagé (PDF) lists them;
- the état-major opens a convention whose quartier is drawn in two parts: both are in the
  editor, a third is clicked on the map, and the three are saved.
"""

from __future__ import annotations

import io
import json
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
from shapely.geometry import Polygon, box, mapping, shape
from shapely.ops import polylabel, unary_union
from sqlalchemy.orm import Session, sessionmaker

from api.mailer import SmtpServer
from api.services.context import Context
from api.services.notifications import Delivery, deliver_due
from geo.participation import PARIS
from tests.api.test_notifications import SmtpTestServer
from tests.conftest import DEMO_DIR

pytestmark = pytest.mark.browser
BELFORT, BAVILLIERS = "90010", "90008"
READY = "document.body.dataset.ready === '1' || document.getElementById('error').textContent"
MAYOR = "commune@demo.psq.example"
ASSOCIATION = "Association de prévention spécialisée (fictif)"


def _open(browser: Any, role: str, url: str) -> Any:
    page = browser.new_page(role, viewport={"width": 1440, "height": 1000})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(READY, timeout=60_000)
    assert not page.locator("#error").inner_text(), page.errors
    return page


def test_the_mayor_and_the_police(  # type: ignore[no-untyped-def]
    browser,
    live_demo: str,
    demo_adopted: sessionmaker[Session],
    smtp: SmtpTestServer,
    artifacts: Path,
) -> None:
    mayor = _open(browser, "commune", f"{live_demo}/commune/{BELFORT}")
    # no contract to write for a commune: neither « Nouveau contrat » nor « Modifier »
    assert not mayor.locator("#contract-add").is_visible()
    assert mayor.locator("#dash-contracts .csi-edit").count() == 0

    # its alert preferences: e-mail only, silent from an hour ago to an hour from now
    now = datetime.now(PARIS)
    quiet_to = now + timedelta(hours=1)
    mayor.uncheck("#pref-sms")
    mayor.check("#pref-email")
    mayor.check("#pref-natures input[value=accident]")
    mayor.fill("#pref-quiet-from", f"{now - timedelta(hours=1):%H:%M}")
    mayor.fill("#pref-quiet-to", f"{quiet_to:%H:%M}")
    mayor.click("#alerts-form button[type=submit]")
    mayor.wait_for_function("document.getElementById('alerts-result').textContent")
    assert mayor.locator("#alerts-result").inner_text() == "Préférences enregistrées."

    # its convention (started on 15/06/2022, renewed on 15/06/2025): renamed, a référent more
    item = mayor.locator("#dash-conventions li").first
    assert "période en cours du 15/06/2025 au 14/06/2028" in item.inner_text()
    assert "1 reconduction(s) tacite(s)" in item.inner_text()
    item.locator(".conv-edit").click()
    assert mayor.locator("#conv-quartier").input_value() == "Quartier centre (fictif)"
    mayor.fill("#conv-quartier", "Quartier centre élargi (fictif)")
    referents = mayor.locator("#conv-referents").input_value()
    mayor.fill("#conv-referents", referents + "\nNouveau Référent (fictif) ; 06 12 34 56 78")
    mayor.click("#conv-submit")
    mayor.wait_for_function("document.getElementById('conv-status').textContent")
    assert mayor.locator("#conv-status").inner_text() == (
        f"Convention n° {item.get_attribute('data-id')} modifiée : reconduite."
    )
    item = mayor.locator("#dash-conventions li").first
    assert "Quartier centre élargi (fictif) — Reconduite" in item.inner_text()
    assert "4 référent(s)" in item.inner_text()

    # someone else changes it meanwhile: the mayor's change is refused, in French
    convention_id = item.get_attribute("data-id")
    item.locator(".conv-edit").click()
    current = mayor.request.get(f"{live_demo}/api/conventions/{convention_id}").json()
    meanwhile = mayor.request.patch(
        f"{live_demo}/api/conventions/{convention_id}",
        data={"version": current["version"], "note": "Changée ailleurs"},
        headers=mayor.csrf_headers(),
    )
    assert meanwhile.status == 200, meanwhile.text()
    mayor.fill("#conv-note", "Ma note")
    mayor.click("#conv-submit")
    mayor.wait_for_function(
        "document.getElementById('conv-status').textContent.startsWith('Cette convention')"
    )
    assert (
        mayor.locator("#conv-status")
        .inner_text()
        .startswith("Cette convention a été modifiée entre-temps par quelqu'un d'autre")
    )

    # « Dénoncer » on 15/06/2026 (today): it runs to the end of its term, 14/06/2028
    mayor.locator("#dash-conventions .conv-denounce").first.click()
    assert mayor.locator("#denounce-on").input_value() == "2026-06-15"
    assert "le 14/06/2028, puis prend fin" in mayor.locator("#denounce-hint").inner_text()
    dialogs: list[str] = []
    mayor.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    mayor.click("#denounce-submit")
    mayor.wait_for_function(
        "document.querySelector('#dash-conventions li').dataset.status === 'denoncee'"
    )
    assert dialogs == [
        "Dénoncer la convention « Quartier centre élargi (fictif) » le 15/06/2026 ? "
        "Elle ne sera pas reconduite."
    ]
    item = mayor.locator("#dash-conventions li").first
    assert "— Dénoncée · fin le 14/06/2028" in item.inner_text()
    assert "dénoncée le 15/06/2026" in item.inner_text()
    assert item.locator(".conv-denounce").count() == 0

    # the interventions page: the list and the log, no form for a commune
    mayor.goto(f"{live_demo}/interventions")
    mayor.wait_for_function(READY)
    assert not mayor.locator("#intervention-section").is_visible()
    # the acronym spelled out for a mayor
    assert mayor.get_by_label("Circonscription (CSP)").count() == 1
    assert [o.get_attribute("value") for o in mayor.locator("#log-commune option").all()] == [
        BELFORT
    ]
    assert mayor.errors == []

    # a chef records an accident clicked inside Belfort
    chef = _open(browser, "chef", f"{live_demo}/interventions")
    csp_id = chef.locator("#csp-select").input_value()
    communes = chef.request.get(f"{live_demo}/api/communes?csp={csp_id}").json()["features"]
    (belfort,) = [f for f in communes if f["id"] == BELFORT]
    inside = polylabel(shape(belfort["geometry"]), 0.0005)
    point = chef.evaluate(
        f"(() => {{ const p = document.getElementById('map').leafletMap"
        f".latLngToContainerPoint([{inside.y}, {inside.x}]); return [p.x, p.y]; }})()"
    )
    box = chef.locator("#map").bounding_box()
    chef.click("#place-point")
    chef.mouse.click(box["x"] + point[0], box["y"] + point[1])
    assert chef.locator("#place-commune").inner_text() == (
        "Commune : Belfort — son maire sera alerté."
    )
    chef.select_option("#nature", "accident")
    chef.fill("#place", "Faubourg de France (fictif)")
    chef.click("#intervention-submit")
    chef.wait_for_function("document.getElementById('intervention-result').textContent")
    result = chef.locator("#intervention-result").inner_text()
    assert result.endswith("enregistrée à Belfort : 1 alerte(s) mise(s) en file pour le maire.")
    assert chef.locator("#log-commune").input_value() == BELFORT
    first = chef.locator("#deliveries li").first.inner_text()
    assert first.startswith(
        f"Courriel à {MAYOR} — Intervention en cours à Belfort : Accident de la circulation"
    )
    until = quiet_to.replace(second=0, microsecond=0)
    assert f"différé (heures de silence) jusqu'au {until:%d/%m/%Y %H:%M}" in first
    latest = chef.locator("#interventions tbody tr").first.inner_text()
    assert "Accident de la circulation" in latest

    # the quiet hours over, the e-mail reaches the SMTP receiver; the log says so
    ctx = Context(demo_adopted)
    delivery = Delivery(server=SmtpServer.from_url(smtp.url), sender="psq@tests.example")
    assert deliver_due(ctx, delivery, now=datetime.now(UTC) + timedelta(hours=2)).sent == 1
    (mail,) = smtp.inbox.messages
    assert mail.rcpt_tos == [MAYOR]
    assert mail.message["Subject"] == "Intervention en cours à Belfort : Accident de la circulation"
    assert "Faubourg de France (fictif)" in mail.message.get_content()
    chef.select_option("#log-commune", BELFORT)
    chef.wait_for_function("document.querySelector('#deliveries li')?.dataset.status === 'sent'")
    assert "envoyé le" in chef.locator("#deliveries li").first.inner_text()
    chef.screenshot(path=str(artifacts / "interventions.png"))
    assert chef.errors == []


def test_the_planner_writes_a_contract(browser, live_demo: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page = _open(browser, "planificateur", f"{live_demo}/commune/{BELFORT}")
    # the base map's legend counts the layers of Belfort's CSP
    csp_id = page.evaluate(
        "fetch('/api/communes').then((r) => r.json()).then((c) => c.features"
        f".find((f) => f.id === '{BELFORT}').properties.csp_ids[0])"
    )
    expected = page.request.get(f"{live_demo}/api/basemap?csp={csp_id}").json()["layers"]
    page.wait_for_function("document.querySelector('.basemap-legend [data-layer]')")
    shown = page.locator(".basemap-legend [data-layer]").all_inner_texts()
    assert shown == [layer["legend"] for layer in expected]

    # the conventions' figures of the planner's perimeter, its CSP and its département
    # (the demo's five conventions, its ten communes: Belfort reconduite (3 référents),
    # two signées (2 each, one renewed in 40 days), one dénoncée still running (1), one
    # en projet)
    rows = [r.split("\t") for r in page.locator("#conv-figures tbody tr").all_inner_texts()]
    assert [r[1:] for r in rows] == [["4 / 10", "4", "1", "8", "1"]] * 2
    assert rows[0][0].startswith("CSP ") and rows[1][0] == "Département 90"

    page.click("#contract-add")
    # (the editor opens once the CSP's partners are read)
    page.wait_for_function("!document.getElementById('contract-editor').hidden")
    # « all the communes of the intercommunalité »: those of the CA Grand Belfort in the
    # boundaries file that lie in the planner's CSPs
    boundaries = json.loads((DEMO_DIR / "communes_90.geojson").read_text())
    grand_belfort = {
        f["properties"]["code_insee"]
        for f in boundaries["features"]
        if f["properties"]["epci_nom"] == "CA Grand Belfort"
    }
    mine = {
        f["id"]
        for f in page.request.get(f"{live_demo}/api/communes").json()["features"]
        if f["properties"]["csp_ids"]
    }
    assert page.locator("#csi-epci").inner_text() == (
        "Toutes les communes de l'intercommunalité (CA Grand Belfort)"
    )
    page.click("#csi-epci")
    chosen = {o.get_attribute("value") for o in page.locator("#csi-communes option:checked").all()}
    # (the CSP of Belfort lies wholly in it: its ten communes)
    assert chosen == grand_belfort & mine and len(chosen) == 10
    assert page.locator("#csi-communes-hint").inner_text() == (
        "10 commune(s) choisie(s). (celles de CA Grand Belfort dans votre périmètre)"
    )
    assert page.locator("#csi-interco").input_value() == "CA Grand Belfort"
    # this contract: two communes chosen by name
    page.fill("#csi-name", "Contrat de test Belfort-Bavilliers (fictif)")
    page.select_option("#csi-communes", [BELFORT, BAVILLIERS])
    page.fill("#csi-start", "2026-07-01")
    page.fill("#csi-end", "2026-01-01")
    # two actions of « Aide aux victimes »: a lead partner among the CSP's partners and
    # two indicators; a lead partner typed (« Autre ») and one indicator; a third removed
    csp_partners = page.request.get(f"{live_demo}/api/csi/partners?csp={csp_id}").json()["data"]
    assert ASSOCIATION in [p["organisation"] for p in csp_partners]
    victims = page.locator("#csi-objective-aide_victimes")
    victims.get_by_role("button", name="Ajouter une action").click()
    first = victims.locator(".csi-action").nth(0)
    first.locator(".csi-title").fill("Permanence en mairie (fictive)")
    leads = first.locator(".csi-lead option").all_inner_texts()
    assert leads[0] == "— sans pilote —" and leads[-1] == "Autre (à saisir)…"
    assert sorted(leads[1:-1]) == sorted({p["organisation"] for p in csp_partners})
    first.locator(".csi-lead").select_option(label=ASSOCIATION)
    assert not first.locator(".csi-lead-other").is_visible()
    first.locator(".csi-indicator-text").fill("Personnes reçues")
    first.get_by_role("button", name="Ajouter un indicateur").click()
    first.locator(".csi-indicator-text").nth(1).fill("Délai de première écoute")
    first.get_by_role("button", name="Ajouter un indicateur").click()
    first.get_by_role("button", name="Retirer cet indicateur").nth(2).click()
    victims.get_by_role("button", name="Ajouter une action").click()
    second = victims.locator(".csi-action").nth(1)
    second.locator(".csi-lead").select_option(label="Autre (à saisir)…")
    second.locator(".csi-lead-other").fill("France Victimes 90 (fictive)")
    second.locator(".csi-indicator-text").fill("Plaintes accompagnées")
    victims.get_by_role("button", name="Ajouter une action").click()
    victims.locator(".csi-action").nth(2).locator(".csi-title").fill("À retirer")
    victims.get_by_role("button", name="Retirer cette action").nth(2).click()
    assert victims.locator(".csi-action").count() == 2
    # the second action has no intitulé: refused, said under its input
    page.click("#csi-submit")
    page.wait_for_function("document.querySelector('#contract-form .field-error')")
    title = second.locator(".csi-title")
    assert title.get_attribute("aria-invalid") == "true"
    note = page.locator("#" + title.get_attribute("aria-describedby").split()[-1])
    assert note.inner_text() == "à remplir : ce champ ne peut pas rester vide"
    assert page.locator("#contract-editor").is_visible()
    title.fill("Accueil des victimes au commissariat (fictif)")
    page.click("#csi-submit")
    page.wait_for_function("document.querySelector('#csi-end[aria-invalid=true]')")
    assert page.locator("#csi-end-error").inner_text() == (
        "la fin (01/01/2026) précède le début (01/07/2026)"
    )
    page.fill("#csi-end", "2029-06-30")
    page.click("#csi-submit")
    page.wait_for_function("document.getElementById('csi-status').textContent")
    assert page.locator("#csi-status").inner_text() == (
        "Contrat « Contrat de test Belfort-Bavilliers (fictif) » enregistré (version 1)."
    )
    actions = [
        f"Permanence en mairie (fictive) — pilote : {ASSOCIATION}"
        " — indicateurs : Personnes reçues ; Délai de première écoute",
        "Accueil des victimes au commissariat (fictif) — pilote : France Victimes 90 (fictive)"
        " — indicateurs : Plaintes accompagnées",
    ]

    # reloaded (with a convention in two parts, for later): the list says the actions, the
    # editor has them as rows
    convention_id, squares = _two_part_convention(page, live_demo)
    page.reload()
    page.wait_for_function(READY, timeout=60_000)
    item = page.locator("#dash-contracts > li", has_text="Contrat de test")
    # from 01/07/2026, after today (15/06/2026); its communes in the order of the list
    assert "— en vigueur à partir du 01/07/2026, jusqu'au 30/06/2029" in item.inner_text()
    assert "Communes : Bavilliers, Belfort (CA Grand Belfort) · version 1" in item.inner_text()
    assert "Aide aux victimes : 2 action(s)" in item.inner_text()
    assert item.locator(".csi-action-item").all_inner_texts() == actions

    # the demo's contract, recorded before the rows: its lead partner, not among the CSP's
    # partners, is read back as typed (« Autre »)
    page.locator("#dash-contracts > li", has_text="de l'agglomération (fictif)").locator(
        ".csi-edit"
    ).click()
    page.wait_for_function("!document.getElementById('contract-editor').hidden")
    row = page.locator("#csi-objective-tranquillite_securite .csi-action")
    assert row.locator(".csi-lead").input_value() == "__other__"
    assert row.locator(".csi-lead-other").input_value() == "Police municipale (fictive)"
    page.click("#csi-cancel")

    # changed: an action of « Justice de proximité » without lead partner, saved as version 2
    item.locator(".csi-edit").click()
    page.wait_for_function("!document.getElementById('contract-editor').hidden")
    rows = victims.locator(".csi-action")
    assert rows.count() == 2
    assert [rows.nth(i).locator(".csi-title").input_value() for i in (0, 1)] == [
        "Permanence en mairie (fictive)",
        "Accueil des victimes au commissariat (fictif)",
    ]
    assert rows.nth(0).locator(".csi-lead").input_value() == ASSOCIATION
    assert rows.nth(1).locator(".csi-lead").input_value() == "__other__"
    assert rows.nth(1).locator(".csi-lead-other").input_value() == "France Victimes 90 (fictive)"
    assert [t.input_value() for t in rows.nth(0).locator(".csi-indicator-text").all()] == [
        "Personnes reçues",
        "Délai de première écoute",
    ]
    assert sorted(
        o.get_attribute("value") for o in page.locator("#csi-communes option:checked").all()
    ) == [BAVILLIERS, BELFORT]
    page.locator("#csi-objective-aide_victimes").screenshot(
        path=str(artifacts / "commune_contract_actions.png")
    )
    justice = page.locator("#csi-objective-justice_proximite")
    justice.get_by_role("button", name="Ajouter une action").click()
    justice.locator(".csi-title").fill("Rappels à l'ordre (fictif)")
    page.click("#csi-submit")
    page.wait_for_function(
        "document.getElementById('csi-status').textContent.includes('version 2')"
    )
    item = page.locator("#dash-contracts > li", has_text="Contrat de test")
    assert "Justice de proximité : 1 action(s)" in item.inner_text()
    assert item.locator(".csi-action-item").all_inner_texts() == [
        "Rappels à l'ordre (fictif)",
        *actions,
    ]
    item.locator(".csi-versions summary").click()
    page.wait_for_function(
        "document.querySelectorAll('#dash-contracts .csi-versions[open] li').length === 2"
    )
    versions = item.locator(".csi-versions li").all_inner_texts()
    assert [v.split(" — ")[0] for v in versions] == ["Version 2", "Version 1"]
    item.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "commune_contracts.png"))
    # the diagnostic partagé lists the objectives' actions, their lead partners, indicators
    href = item.locator("a").get_attribute("href")
    assert href.endswith("/diagnostic.pdf")
    printed = page.request.get(f"{live_demo}{href}")
    assert printed.status == 200
    pages = pypdf.PdfReader(io.BytesIO(printed.body())).pages
    text = " ".join(
        unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in pages)).split()
    )
    objectives = text[text.index("Objectifs du contrat") :]
    for line in ("Rappels à l'ordre (fictif)", *actions):
        assert line in objectives, line
    assert objectives.index("3. Justice de proximité") < objectives.index("4. Aide aux victimes")
    assert "Source : contrat version 2" in objectives
    _add_a_part(page, live_demo, convention_id, squares)
    assert page.errors == []


def _free_square(free: Any, half: float) -> Any:
    """A square of side ``2 * half`` degrees around the pole of inaccessibility of the
    largest piece of ``free``, which must hold it."""
    pieces = getattr(free, "geoms", [free])
    centre = polylabel(max(pieces, key=lambda g: g.area), 1e-5)
    square = box(centre.x - half, centre.y - half, centre.x + half, centre.y + half)
    assert free.contains(square)
    return square


def _two_part_convention(page: Any, live_demo: str) -> tuple[int, list[Any]]:
    """A convention over a quartier in two parts (a MultiPolygon) of Belfort, recorded by
    the API, and three squares of Belfort apart from every quartier (the first two are
    its parts)."""
    communes = page.request.get(f"{live_demo}/api/communes").json()["features"]
    (belfort,) = [shape(f["geometry"]) for f in communes if f["id"] == BELFORT]
    existing = page.request.get(f"{live_demo}/api/conventions?commune={BELFORT}").json()["data"]
    assert existing and not any(c["whole_commune"] for c in existing)
    # away from the demo's quartier and from one another, inside Belfort
    half = 0.001
    free = belfort.buffer(-half).difference(
        unary_union([shape(c["quartier_geom"]) for c in existing]).buffer(4 * half)
    )
    squares: list[Any] = []
    for _ in range(3):
        squares.append(_free_square(free, half))
        free = free.difference(squares[-1].buffer(4 * half))
    two = {"type": "MultiPolygon", "coordinates": [mapping(q)["coordinates"] for q in squares[:2]]}
    created = page.request.post(
        f"{live_demo}/api/conventions",
        data={
            "commune_code": BELFORT,
            "quartier": "Deux îlots (fictif)",
            "quartier_geom": two,
            "start_on": "2026-01-01",
        },
        headers=page.csrf_headers(),
    )
    assert created.status == 201, created.text()
    return created.json()["id"], squares


def _add_a_part(page: Any, live_demo: str, convention_id: int, squares: list[Any]) -> None:
    """The two-part convention's parts are both in the editor; a third part is clicked on
    the map, and the three are saved."""
    # dashed paths of two rings (« M… Z M… Z ») over the base map: the convention on the
    # map's « Participation citoyenne » layer, and once in the editor, its quartier there
    # too (the base map's tiles, loading meanwhile, are in another pane)
    two_rings = (
        "[...document.querySelectorAll('#map .leaflet-overlay-pane path[stroke-dasharray]')]"
        ".map((p) => p.getAttribute('d'))"
        ".filter((d) => d && (d.match(/M/g) || []).length === 2).length"
    )
    before = page.evaluate(two_rings)
    page.locator(f"#dash-conventions li[data-id='{convention_id}'] .conv-edit").click()
    assert "(2 parties)" in page.locator("#conv-hint").inner_text()
    assert page.evaluate(two_rings) == before + 1

    # a third part: a triangle in the third square, clicked on the map
    page.click("#conv-add-part")
    third = squares[2]
    x0, y0, x1, y1 = third.bounds
    triangle = [(x0, y0), (x1, y0), ((x0 + x1) / 2, y1)]
    box_ = page.locator("#map").bounding_box()
    for lng, lat in triangle:
        x, y = page.evaluate(
            f"(() => {{ const p = document.getElementById('map').leafletMap"
            f".latLngToContainerPoint([{lat}, {lng}]); return [p.x, p.y]; }})()"
        )
        page.mouse.click(box_["x"] + x, box_["y"] + y)
    assert page.locator("#conv-hint").inner_text().startswith("3 parties, ")
    page.click("#conv-submit")
    page.wait_for_function("document.getElementById('conv-status').textContent")
    assert (
        page.locator("#conv-status")
        .inner_text()
        .startswith(f"Convention n° {convention_id} modifiée")
    ), page.locator("#conv-result").inner_text()
    saved = page.request.get(f"{live_demo}/api/conventions/{convention_id}").json()
    parts = [
        shape({"type": "Polygon", "coordinates": c}) for c in saved["quartier_geom"]["coordinates"]
    ]
    assert len(parts) == 3
    # the two parts loaded, saved as they were (to a few centimetres); the third as clicked
    # (to a few pixels: at most 10 % of its area off)
    for part, square in zip(parts[:2], squares[:2], strict=True):
        assert part.symmetric_difference(square).area < 0.001 * square.area
    drawn_triangle = Polygon(triangle)
    assert parts[2].symmetric_difference(drawn_triangle).area < 0.1 * drawn_triangle.area
