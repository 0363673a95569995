"""A refused form says why in French, next to the field (issue 23), in real Chromium: the
study request of /commune (an e-mail that is not one, a period that ends before it
starts), a problem of /problematiques (placed nowhere, reported in the future) and a
proposal of /secteurs (a whole-commune threshold that keeps Belfort whole, too heavy for
one sector). One page per form."""

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
    r"outside|swapped)\b|\b\d{3} —",
    re.IGNORECASE,
)


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


def test_the_study_request_says_each_refusal_under_its_field(  # type: ignore[no-untyped-def]
    browser, live_demo: str
) -> None:
    page = browser.new_page("commune", viewport={"width": 1440, "height": 950})
    page.goto(f"{live_demo}/commune")
    page.wait_for_function(
        "document.body.dataset.ready === '1' || document.getElementById('error').textContent",
        timeout=60_000,
    )
    page.click("#draw-centre")
    page.fill("#need", "Vols à la roulotte sur le parking de la mairie (fictif)")
    page.fill("#contact-name", "Claire Martin")
    page.fill("#contact-email", "mairie-vetrigne")
    page.click("#submit-request")
    page.wait_for_selector("#contact-email[aria-invalid=true]")
    said = message_next_to(page, "#contact-email")
    assert said == "« mairie-vetrigne » n'est pas une adresse e-mail (exemple : mairie@commune.fr)"
    assert page.evaluate("document.activeElement.id") == "contact-email"
    summary = page.locator("#request-error")
    assert summary.inner_text() == f"Demande non envoyée : Adresse e-mail de contact : {said}"
    # the summary stands by the button, on screen
    button, box = page.locator("#submit-request").bounding_box(), summary.bounding_box()
    assert 0 <= box["y"] - (button["y"] + button["height"]) <= 30
    no_english(page)

    page.fill("#contact-email", "mairie@vetrigne.example")
    page.fill("#desired-from", (TODAY + timedelta(days=60)).isoformat())
    page.fill("#desired-to", (TODAY + timedelta(days=30)).isoformat())
    page.click("#submit-request")
    page.wait_for_selector("#desired-to[aria-invalid=true]")
    assert page.locator("#contact-email").get_attribute("aria-invalid") is None  # cleared
    start, end = TODAY + timedelta(days=60), TODAY + timedelta(days=30)
    assert message_next_to(page, "#desired-to") == (
        f"la fin de la période souhaitée ({end:%d/%m/%Y}) précède son début ({start:%d/%m/%Y})"
    )
    no_english(page)


def test_a_problem_refused_says_why_under_the_map_tools_and_the_date(  # type: ignore[no-untyped-def]
    browser, live_server: str
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(live_server + "/problematiques")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    page.fill("#title", "Rodéos motorisés (fictif)")
    page.click("#submit-problem")
    tools = "#intake .toolbar"
    assert page.locator(tools).get_attribute("aria-invalid") == "true"
    note = page.locator("#intake .field-error")
    assert note.inner_text() == "placez d'abord la problématique sur la carte (point, rue ou lieu)"
    gap = note.bounding_box()["y"] - sum(
        page.locator(tools).bounding_box()[k] for k in ("y", "height")
    )
    assert 0 <= gap <= 30

    box = page.locator("#map").bounding_box()
    page.click("[data-shape=Point]")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tomorrow = TODAY + timedelta(days=1)
    # The date field's max stops a future date in Chromium; the server is the judge of
    # what another client sends: the field lets it through here.
    page.evaluate("document.getElementById('reported_on').removeAttribute('max')")
    page.fill("#reported_on", tomorrow.isoformat())
    page.click("#submit-problem")
    page.wait_for_selector("#reported_on[aria-invalid=true]")
    assert message_next_to(page, "#reported_on") == f"le {tomorrow:%d/%m/%Y} est dans le futur"
    assert page.locator(tools).get_attribute("aria-invalid") is None
    assert page.locator("#form-error").inner_text() == (
        f"Enregistrement refusé : Date du signalement : le {tomorrow:%d/%m/%Y} est dans le futur"
    )
    no_english(page)


def test_a_proposal_refused_names_the_commune_and_the_field_to_change(  # type: ignore[no-untyped-def]
    browser, live_server: str
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(live_server + "/secteurs")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    page.fill("#k", "4")
    page.fill("#whole-communes", "10000000")
    page.click("#propose")
    page.wait_for_selector("#whole-communes[aria-invalid=true]", timeout=60_000)
    said = message_next_to(page, "#whole-communes")
    assert said.startswith("trop chargé pour rester entier : Belfort (90010, charge "), said
    assert (
        "baissez le seuil « Communes jamais coupées sous » (actuellement 10\u202f000\u202f000"
        in said
    )
    assert (
        page.locator("#form-error")
        .inner_text()
        .startswith(
            "Proposition impossible : Communes jamais coupées sous (habitants) : trop chargé"
        )
    )
    no_english(page)
