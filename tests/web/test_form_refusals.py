"""Every form of every page that sends what a person types says a refusal in French, next
to the field, with the focus on it (issue 23), in real Chromium on the demo as shipped:
for each form, the most natural mistake its API refuses (an e-mail that is not one, a
period that ends before it starts, a number out of range, a place outside the
territory…). The message under the input is the API's French sentence (forms.js,
``showRefusal``), and the summary by the submit button names the field in words.

One page load per page and role, several forms per page; the forms left out (pure
filters, choices among the values the API accepts) are listed in the report of issue 23.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.clock import TODAY

pytestmark = pytest.mark.browser

#: What would say the page speaks English or raw API text.
ENGLISH = re.compile(
    r"\b(the|must|is not|cannot|should|value error|invalid|unknown|expected|got|lies "
    r"outside|swapped|field required|input should)\b|\b\d{3} —",
    re.IGNORECASE,
)
READY = "['true', '1'].includes(document.body.dataset.ready)"
BELFORT = "90010"


def message_next_to(page: Any, input_selector: str) -> str:
    """The refusal shown for an input: its text, checked to stand right under the input
    (its aria-describedby names it, the input is aria-invalid)."""
    field = page.locator(input_selector)
    assert field.get_attribute("aria-invalid") == "true"
    ids = (field.get_attribute("aria-describedby") or "").split()
    note = page.locator(f"#{ids[-1]}")
    assert "field-error" in (note.get_attribute("class") or "")
    below, above = note.bounding_box(), field.bounding_box()
    assert below is not None and above is not None
    gap = below["y"] - (above["y"] + above["height"])
    assert 0 <= gap <= 30, (input_selector, gap)
    assert abs(below["x"] - above["x"]) <= 30, (input_selector, below, above)
    return str(note.inner_text())


def no_english(page: Any) -> None:
    text = page.locator("main").inner_text()
    assert not ENGLISH.search(text), ENGLISH.search(text)


def refused(page: Any, selector: str, summary: str, prefix: str, label: str) -> str:
    """Wait for the refusal of the input ``selector``; check it stands under the input, in
    French, with the focus on the input, and that the summary ``summary`` (by the submit
    button) says ``prefix : label : message``. Returns the message."""
    try:
        page.wait_for_selector(f"{selector}[aria-invalid=true]", timeout=30_000)
    except Exception as e:  # say what the page said instead
        raise AssertionError(page.locator(summary).inner_text()) from e
    said = message_next_to(page, selector)
    assert said and not ENGLISH.search(said), said
    focused = page.evaluate(
        "(s) => { const e = document.querySelector(s); const a = document.activeElement;"
        " return e === a || e.contains(a); }",
        selector,
    )
    assert focused, (selector, page.evaluate("document.activeElement.outerHTML"))
    assert page.locator(summary).inner_text() == f"{prefix} : {label} : {said}"
    return said


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY, timeout=60_000)


def test_the_commune_forms_say_each_refusal_under_its_field(  # type: ignore[no-untyped-def]
    browser, live_demo: str
) -> None:
    """The mayor's page: the study request, a convention, its denunciation, the alert
    preferences and the cameras' coverage; then the état-major's contract editor."""
    page = browser.new_page("commune", viewport={"width": 1440, "height": 950})
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{live_demo}/commune")
    page.wait_for_function(
        "document.body.dataset.ready === '1' || document.getElementById('error').textContent",
        timeout=60_000,
    )
    # The study request: an e-mail that is not one, then a period that ends first.
    page.click("#draw-centre")
    page.fill("#need", "Vols à la roulotte sur le parking de la mairie (fictif)")
    page.fill("#contact-name", "Claire Martin")
    page.fill("#contact-email", "mairie-vetrigne")
    page.click("#submit-request")
    said = refused(
        page, "#contact-email", "#request-error", "Demande non envoyée", "Adresse e-mail de contact"
    )
    assert said == "« mairie-vetrigne » n'est pas une adresse e-mail (exemple : mairie@commune.fr)"
    # the summary stands by the button, on screen
    button, box = (
        page.locator("#submit-request").bounding_box(),
        page.locator("#request-error").bounding_box(),
    )
    assert 0 <= box["y"] - (button["y"] + button["height"]) <= 30
    page.fill("#contact-email", "mairie@vetrigne.example")
    start, end = TODAY + timedelta(days=60), TODAY + timedelta(days=30)
    page.fill("#desired-from", start.isoformat())
    page.fill("#desired-to", end.isoformat())
    page.click("#submit-request")
    page.wait_for_selector("#desired-to[aria-invalid=true]")
    assert page.locator("#contact-email").get_attribute("aria-invalid") is None  # cleared
    assert message_next_to(page, "#desired-to") == (
        f"la fin de la période souhaitée ({end:%d/%m/%Y}) précède son début ({start:%d/%m/%Y})"
    )

    # A new convention that ends before it starts.
    page.click("#convention-add")
    page.fill("#conv-quartier", "Quartier des Tilleuls (fictif)")
    page.check("#conv-whole")
    page.fill("#conv-start", "2026-09-01")
    page.fill("#conv-end", "2026-03-01")
    page.click("#conv-submit")
    said = refused(page, "#conv-end", "#conv-result", "Convention non enregistrée", "Date de fin")
    assert said == "la fin (01/03/2026) précède le début (01/09/2026)"
    page.click("#conv-cancel")

    # Denouncing the demo's convention on a day before it started.
    page.locator("#dash-conventions .conv-denounce").first.click()
    page.fill("#denounce-on", "2000-01-01")
    page.click("#denounce-submit")
    said = refused(
        page, "#denounce-on", "#denounce-result", "Dénonciation refusée", "Date de dénonciation"
    )
    assert said.startswith("le 01/01/2000 précède le début ("), said
    page.click("#denounce-cancel")

    # SMS alerts without a phone number.
    page.check("#pref-sms")
    page.fill("#pref-phone", "")
    page.locator("#alerts-form button[type=submit]").click()
    said = refused(
        page, "#pref-phone", "#alerts-result", "Préférences non enregistrées", "Téléphone"
    )
    assert said == "un numéro de téléphone est nécessaire pour les SMS"

    # Cameras that see farther than the API allows.
    page.fill("#radius", "800")
    page.click("#coverage-run")
    said = refused(page, "#radius", "#coverage-error", "Calcul impossible", "Portée (m)")
    assert said == "doit être au plus 500"
    no_english(page)
    page.close()

    # The état-major's contract editor: a contract that ends before it starts.
    page = browser.new_page("planificateur", viewport={"width": 1440, "height": 1100})
    page.goto(f"{live_demo}/commune/{BELFORT}")
    page.wait_for_function(
        "document.body.dataset.ready === '1' || document.getElementById('error').textContent",
        timeout=60_000,
    )
    page.click("#contract-add")
    page.fill("#csi-name", "Contrat de test (fictif)")
    page.fill("#csi-start", "2026-07-01")
    page.fill("#csi-end", "2026-01-01")
    page.click("#csi-submit")
    said = refused(page, "#csi-end", "#csi-result", "Contrat non enregistré", "Date de fin")
    assert said == "la fin (01/01/2026) précède le début (01/07/2026)"
    no_english(page)


def test_the_police_forms_say_each_refusal_under_its_field(  # type: ignore[no-untyped-def]
    browser, live_demo: str
) -> None:
    """The chef de secteur: an intervention placed outside the CSP; a problem placed
    nowhere, then reported in the future; an action due before it starts; filters over a
    period backwards; a meeting planned too far ahead, a decision's action due before
    today, a postponement before the action began."""
    page = browser.new_page("chef", viewport={"width": 1440, "height": 950})
    open_page(page, f"{live_demo}/interventions")
    page.click("#place-point")
    for _ in range(4):  # far out, then a click outside the circonscription
        page.click(".leaflet-control-zoom-out")
        page.wait_for_timeout(250)
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + 40, box["y"] + box["height"] - 40)
    page.click("#intervention-submit")
    said = refused(
        page,
        "#intervention-form .toolbar",
        "#intervention-result",
        "Intervention non enregistrée",
        "Longitude",
    )
    assert said.startswith("le point choisi est hors de la circonscription de "), said
    no_english(page)

    open_page(page, f"{live_demo}/problematiques")
    page.fill("#title", "Rodéos motorisés (fictif)")
    page.click("#submit-problem")
    tools = "#intake .toolbar"
    said = refused(page, tools, "#form-error", "Enregistrement refusé", "Emplacement sur la carte")
    assert said == "placez d'abord la problématique sur la carte (point, rue ou lieu)"
    box = page.locator("#map").bounding_box()
    page.click("[data-shape=Point]")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tomorrow = TODAY + timedelta(days=1)
    # The date field's max stops a future date in Chromium; the server is the judge of
    # what another client sends: the field lets it through here.
    page.evaluate("document.getElementById('reported_on').removeAttribute('max')")
    page.fill("#reported_on", tomorrow.isoformat())
    page.click("#submit-problem")
    said = refused(
        page, "#reported_on", "#form-error", "Enregistrement refusé", "Date du signalement"
    )
    assert said == f"le {tomorrow:%d/%m/%Y} est dans le futur"
    assert page.locator(tools).get_attribute("aria-invalid") is None

    # A period backwards in the filters.
    page.fill("#filter-since", "2026-05-02")
    page.fill("#filter-until", "2026-05-01")
    page.click("#filter-apply")
    said = refused(page, "#filter-since", "#filter-error", "Filtres refusés", "Début de la période")
    assert said == "le début (02/05/2026) suit la fin (01/05/2026)"
    page.click("#filter-reset")
    page.wait_for_function("document.querySelectorAll('#problem-list button').length > 0")

    # An action due before it starts (today), on an open problem.
    page.locator("#problem-list button[data-problem]").first.click()
    page.wait_for_selector("#action-form:not([hidden])")
    yesterday = TODAY - timedelta(days=1)
    page.fill("#action-due", yesterday.isoformat())
    page.locator("#action-form button[type=submit]").click()
    said = refused(page, "#action-due", "#action-error", "Refusé", "Échéance")
    assert said == f"l'échéance ({yesterday:%d/%m/%Y}) précède le début ({TODAY:%d/%m/%Y})"
    no_english(page)

    # The GPO's workspace: a meeting more than a year ahead.
    gpo_id = page.evaluate("fetch('/api/me').then((r) => r.json()).then((me) => me.gpo_ids[0])")
    open_page(page, f"{live_demo}/gpo/{gpo_id}")
    page.fill("#m-date", "")
    page.click("#m-submit")
    said = refused(page, "#m-date", "#plan-error", "Réunion non planifiée", "Date")
    assert said == "choisissez la date de la réunion"
    far = TODAY + timedelta(days=400)
    page.fill("#m-date", far.isoformat())
    page.click("#m-submit")
    said = refused(page, "#m-date", "#plan-error", "Réunion non planifiée", "Date de la réunion")
    assert said == f"le {far:%d/%m/%Y} est à plus d'un an ; planifiez une date plus proche"
    # A new partner without its organisation.
    page.click("#new-partner-form button[type=submit]")
    said = refused(
        page, "#np-organisation", "#partner-error", "Partenaire non créé", "Organisation"
    )
    assert said == "obligatoire"
    no_english(page)

    # A meeting planned next week, then its decision: an action due before today.
    page.fill("#m-date", (TODAY + timedelta(days=7)).isoformat())
    page.uncheck("#m-send")
    page.click("#m-submit")
    page.locator("#plan-done a").click()
    page.wait_for_function(READY, timeout=30_000)
    page.wait_for_function(
        "document.querySelectorAll('#d-problem option[value]:not([value=\"\"])').length > 0"
    )
    page.select_option("#d-problem", index=1)
    page.select_option("#d-kind", "action")
    page.select_option("#d-lead", index=1)
    page.fill("#d-due", yesterday.isoformat())
    page.click("#d-submit")
    said = refused(page, "#d-due", "#decision-error", "Décision non enregistrée", "Échéance")
    assert said == f"l'échéance ({yesterday:%d/%m/%Y}) précède le début ({TODAY:%d/%m/%Y})"
    no_english(page)

    # « Mes actions »: an action's deadline put back before the action began.
    open_page(page, f"{live_demo}/mes-actions")
    card = page.locator(".cards .new-due").first
    card.fill("2000-01-01")
    controls = page.locator(".controls", has=page.locator(".new-due")).first
    controls.locator("[data-do=postpone]").click()
    page.wait_for_selector(".new-due[aria-invalid=true]")
    said = message_next_to(page, ".new-due[aria-invalid=true]")
    assert said.startswith("l'échéance du 01/01/2000 précède le début de l'action ("), said
    assert controls.locator(".error-text[role=alert]").inner_text() == f"Refusé : Échéance : {said}"
    assert page.evaluate("document.activeElement.classList.contains('new-due')")
    no_english(page)


def test_the_direction_forms_say_each_refusal_under_its_field(  # type: ignore[no-untyped-def]
    browser, live_demo: str, tmp_path: Any
) -> None:
    """The direction: an account with an e-mail that is not one, a token's name too long,
    the journal and the report over a period backwards, a thematic GPO without a name, a
    layer and an address file that are none, the cartography's period backwards, a study
    refused without its reason, a proposal too heavy for a whole commune, a plan import
    that is no layer, a working copy saved without its comment; and the sign-in page."""
    page = browser.new_page("admin", viewport={"width": 1440, "height": 950})
    open_page(page, f"{live_demo}/comptes")
    page.fill("#a-email", "chef.sud-police")
    page.select_option("#a-role", "planificateur")
    page.fill("#a-password", "provisoire 2026!")
    page.click("#account-create")
    said = refused(page, "#a-email", "#account-error", "Compte non créé", "Adresse e-mail")
    assert said == "« chef.sud-police » n'est pas une adresse e-mail (exemple : mairie@commune.fr)"
    no_english(page)

    open_page(page, f"{live_demo}/compte")
    page.evaluate("document.getElementById('token-name').removeAttribute('maxlength')")
    page.fill("#token-name", "x" * 101)
    page.click("#token-create")
    said = refused(page, "#token-name", "#token-error", "Jeton non créé", "Nom")
    assert said == "un jeton a besoin d'un nom de 1 à 100 caractères"

    open_page(page, f"{live_demo}/journal")
    page.fill("#f-from", "2026-06-10")
    page.fill("#f-to", "2026-06-01")
    page.locator("#journal-form button[type=submit]").click()
    said = refused(page, "#f-to", "#journal-error", "Recherche impossible", "Fin de la période")
    assert said == "le début (10/06/2026) suit la fin (01/06/2026)"
    no_english(page)

    open_page(page, f"{live_demo}/bilans")
    page.fill("#report-from", "2026-06-10")
    page.fill("#report-to", "2026-06-01")
    page.click("#report-show")
    said = refused(page, "#report-to", "#report-error", "Bilan impossible", "Fin de la période")
    assert said == "le début (10/06/2026) suit la fin (01/06/2026)"
    no_english(page)

    open_page(page, f"{live_demo}/gpo")
    page.click("#c-submit")
    said = refused(page, "#c-name", "#c-error", "GPO non créé", "Nom")
    assert said == "obligatoire"

    not_a_layer = tmp_path / "secteurs.geojson"
    not_a_layer.write_text("ceci n'est pas une couche", encoding="utf-8")
    open_page(page, f"{live_demo}/carte")
    page.set_input_files("#layer-file", str(not_a_layer))
    page.fill("#layer-name", "Pas une couche")
    page.click("#layer-submit")
    said = refused(page, "#layer-file", "#layer-error", "Import refusé", "Fichier")
    assert "secteurs.geojson" in said, said
    page.set_input_files("#address-file", str(not_a_layer))
    page.click("#address-submit")
    said = refused(page, "#address-file", "#address-error", "Import refusé", "Fichier")
    no_english(page)

    open_page(page, f"{live_demo}/cartographie")
    page.fill("#date-from", "2026-06-10")
    page.fill("#date-to", "2026-06-01")
    page.click("#apply")
    said = refused(page, "#date-from", "#error", "Carte impossible", "Début de la période")
    assert said == "le début (10/06/2026) suit la fin (01/06/2026)"
    no_english(page)

    open_page(page, f"{live_demo}/etudes?csp=1")
    taxonomy = page.request.get(f"{live_demo}/api/audits/taxonomy").json()
    open_ones = page.request.get(f"{live_demo}/api/audits?csp=1").json()["data"]
    request = next(r for r in open_ones if "refusee" in taxonomy["transitions"][r["status"]])
    page.click(f"#queue tbody tr[data-id='{request['id']}']")
    page.locator(".step-form[data-status='refusee'] button[type=submit]").click()
    said = refused(
        page,
        "#f-reason",
        ".step-form[data-status='refusee'] .step-error",
        "Étape non enregistrée",
        "Motif",
    )
    assert said == "un refus a besoin du motif donné à la commune"
    page.locator("summary", has_text="Ajouter un référent").click()
    page.locator("#referent-form button[type=submit]").click()
    said = refused(page, "#referent-name", "#referent-error", "Référent non ajouté", "Nom")
    assert said == "à remplir : ce champ ne peut pas rester vide"
    no_english(page)

    open_page(page, f"{live_demo}/secteurs")
    page.fill("#k", "4")
    page.fill("#whole-communes", "10000000")
    page.click("#propose")
    said = refused(
        page,
        "#whole-communes",
        "#form-error",
        "Proposition impossible",
        "Communes jamais coupées sous (habitants)",
    )
    assert said.startswith("trop chargé pour rester entier : Belfort (90010, charge "), said
    assert (
        "baissez le seuil « Communes jamais coupées sous » (actuellement 10\u202f000\u202f000"
        in said
    )
    page.set_input_files("#import-file", str(not_a_layer))
    page.click("#import")
    said = refused(page, "#import-file", "#import-error", "Import impossible", "Fichier")
    assert "secteurs.geojson" in said, said
    no_english(page)
    page.fill("#whole-communes", "")
    page.click("#edit")
    page.wait_for_url(re.compile(r"/secteurs/edition\?plan=\d+"))
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.click("#save")
    said = refused(page, "#save-comment", "#save-error", "Enregistrement impossible", "Commentaire")
    assert said == "à remplir : ce champ ne peut pas rester vide"
    no_english(page)
    page.close()

    # Signing in: the password forgotten, then a wrong one.
    page = browser.new_page(None, viewport={"width": 1440, "height": 950})
    open_page(page, f"{live_demo}/connexion")
    page.fill("#login-email", "admin@demo.psq.example")
    page.click("#login-submit")
    page.wait_for_selector("#login-password[aria-invalid=true]")
    assert message_next_to(page, "#login-password") == "saisissez votre mot de passe"
    assert page.evaluate("document.activeElement.id") == "login-password"
    page.fill("#login-password", "pas le bon mot de passe")
    page.click("#login-submit")
    page.wait_for_function(
        "document.getElementById('login-error').textContent.includes('incorrect')"
    )
    assert (
        page.locator("#login-error").inner_text()
        == "Adresse électronique ou mot de passe incorrect."
    )
    assert page.evaluate("document.activeElement.id") == "login-password"
    no_english(page)
