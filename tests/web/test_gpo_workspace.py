"""The GPO workspace in real Chromium, on the demo as shipped: a chef de secteur plans a
meeting, records the attendance and a decision creating an action led by a partner,
writes the minutes and closes the meeting, whose compte rendu PDF is restricted; the
partner finds the action in « Mes actions » and marks it done; the chef sees it done on
the GPO's page. Each role sees only what it may."""

from __future__ import annotations

import io
import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.services import accounts
from api.services.context import Context
from api.services.demo_accounts import DEMO_ACCOUNTS
from tests.clock import TODAY
from tests.web.axe import serious_violations

pytestmark = pytest.mark.browser

READY = "['true', '1'].includes(document.body.dataset.ready)"
DECISION = "Rondes communes devant le collège aux heures de sortie"
COMMENT = "Rondes faites les trois soirs prévus, rien à signaler"


def watch(page: Any) -> dict[str, list[str]]:
    """The script errors and failed requests of ``page`` (refusals are the tests' own)."""
    seen: dict[str, list[str]] = {"errors": [], "failed": []}
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on(
        "response",
        lambda r: seen["failed"].append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return seen


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def demo_bindings(factory: sessionmaker[Session]) -> tuple[int, int]:
    """The demo chef's GPO and the demo partner's organisation (a partner of that GPO)."""
    ctx = Context(factory)
    chef = accounts.get_account(ctx, DEMO_ACCOUNTS["chef"])
    partner = accounts.get_account(ctx, DEMO_ACCOUNTS["partenaire"])
    assert partner.gpo_ids == chef.gpo_ids and partner.partner_id is not None
    return chef.gpo_ids[0], partner.partner_id


def test_a_chef_runs_a_meeting_and_the_partner_carries_out_its_action(
    browser: Any,
    live_demo: str,
    demo_adopted: sessionmaker[Session],
    artifacts: Path,
) -> None:
    base = live_demo
    gpo_id, partner_id = demo_bindings(demo_adopted)
    held_on = TODAY  # held today: a meeting closes once held
    due_on = TODAY + timedelta(days=10)

    # -- the chef: the GPO list, then its GPO --------------------------------------------
    chef = browser.new_page(role="chef", viewport={"width": 1400, "height": 1000})
    seen = watch(chef)
    chef.on("dialog", lambda d: d.accept())
    open_page(chef, base + "/gpo")
    row = chef.locator(f"#gpo-table tr[data-gpo='{gpo_id}']")
    assert row.count() == 1
    assert row.locator(".state").inner_text() in ("À jour", "En retard")
    chef.screenshot(path=str(artifacts / "gpo_list_chef.png"), full_page=True)
    row.locator("a").click()
    chef.wait_for_url(f"{base}/gpo/{gpo_id}")
    chef.wait_for_function(READY, timeout=30_000)
    # The partner's organisation in the GPO: the chef adds it when the demo has not.
    member = chef.locator(f"#partner-table tr[data-partner='{partner_id}']")
    if member.count() == 0:
        chef.locator("#add-partner").select_option(str(partner_id))
        chef.get_by_role("button", name="Ajouter au GPO", exact=True).click()
        member.wait_for()
    assert member.count() == 1

    # Plan a meeting: every partner invited by default.
    form = chef.locator("#plan-form")
    assert form.is_visible()
    invited = form.locator("#m-invited input[name=invited]")
    assert invited.count() >= 1
    assert all(invited.nth(i).is_checked() for i in range(invited.count()))
    form.get_by_label("Date").fill(held_on.isoformat())
    form.get_by_label("Heure").fill("14:30")
    form.get_by_label("Lieu").fill("Mairie annexe, salle B")
    form.get_by_role("button", name="Planifier la réunion").click()
    chef.locator("#plan-done a").wait_for()
    chef.screenshot(path=str(artifacts / "gpo_workspace_chef.png"), full_page=True)
    inaccessible = serious_violations(chef)  # the GPO's workspace
    chef.locator("#plan-done a", has_text="Ouvrir la réunion").click()
    chef.wait_for_url(f"{base}/gpo/reunions/*")
    chef.wait_for_function(READY, timeout=30_000)
    meeting_id = int(chef.url.rsplit("/", 1)[1])
    assert chef.locator("#meeting-status").inner_text() == "Prévue"
    assert "Mairie annexe, salle B" in chef.locator("#meeting-summary").inner_text()
    inaccessible += serious_violations(chef)  # the meeting's page
    assert inaccessible == [], "\n".join(inaccessible)
    # The agenda: the hot spots' trends, one line per trend (geo.hotspots.TRENDS).
    trends = chef.locator("#hotspot-trends li").all_inner_texts()
    assert [t.split(" : ")[0] for t in trends] == [
        "Nouveau",
        "En hausse",
        "Persistant",
        "En baisse",
    ]
    ics = chef.request.get(f"{base}/api/meetings/{meeting_id}/invitation.ics")
    assert ics.status == 200 and ics.headers["content-type"].startswith("text/calendar")

    # Attendance: the partner present, another person present.
    partner_row = chef.locator(f"#attendance-table tr[data-partner='{partner_id}']")
    partner_row.locator(".present").check()
    partner_row.locator(".represented").fill("M. Petit, adjoint")
    chef.locator("#attendees").fill("Brigadier-chef Noël")
    chef.locator("#attendance-save").click()
    chef.locator("#attendance-done", has_text="Présences enregistrées.").wait_for()

    # A decision: a new action led by the partner.
    decision = chef.locator("#decision-form")
    problem = decision.locator("#d-problem")
    problem_title = problem.locator("option:checked").inner_text()
    assert problem.input_value() != ""
    decision.locator("#d-kind").select_option("action")
    decision.locator("#d-lead").select_option(str(partner_id))
    decision.locator("#d-due").fill(due_on.isoformat())
    decision.locator("#d-text").fill(DECISION)
    decision.get_by_role("button", name="Enregistrer la décision").click()
    group = chef.locator("#decision-list .decision-group", has_text=DECISION)
    group.wait_for()
    assert problem_title in group.inner_text()

    # A decision without its problem is refused next to the field, nothing sent.
    problem.select_option("")
    decision.get_by_role("button", name="Enregistrer la décision").click()
    assert (
        chef.locator("#d-problem-error").inner_text() == "choisissez celle que la décision concerne"
    )
    assert chef.locator("#decision-error").inner_text() == (
        "Décision non enregistrée : Problématique : choisissez celle que la décision concerne"
    )

    # Someone else changes the meeting meanwhile: the page's save is refused, said so.
    changed = chef.request.patch(
        f"{base}/api/meetings/{meeting_id}",
        data={"place": "Mairie annexe, salle B (1er étage)"},
        headers=chef.csrf_headers(),
    )
    assert changed.status == 200
    chef.locator("#notes").fill("Brouillon")
    chef.locator("#minutes-save").click()
    chef.locator("#minutes-error:not(:empty)").wait_for()
    assert chef.locator("#minutes-error").inner_text() == (
        "Quelqu'un a modifié cette réunion entre-temps : rechargez la page."
    )
    open_page(chef, f"{base}/gpo/reunions/{meeting_id}")
    assert "(1er étage)" in chef.locator("#meeting-summary").inner_text()

    # The minutes, then the closing.
    chef.locator("#notes").fill("Tour de table : les partenaires confirment la hausse des rodéos.")
    chef.locator("#minutes-save").click()
    chef.locator("#minutes-done", has_text="Compte rendu enregistré.").wait_for()
    chef.get_by_role("button", name="Clôturer la réunion").click()
    chef.locator("#closed-box:not([hidden]), #close-error:not(:empty)").first.wait_for()
    assert chef.locator("#close-error").inner_text() == ""
    assert chef.locator("#closed-box").is_visible()
    assert chef.locator("#meeting-status").inner_text() == "Tenue (compte rendu clos)"
    assert chef.locator("#decision-form").is_hidden()
    chef.screenshot(path=str(artifacts / "gpo_meeting_closed.png"), full_page=True)
    next_href = chef.locator("#plan-next").get_attribute("href")
    assert next_href.startswith(f"/gpo/{gpo_id}?planifier=")

    # The compte rendu: a restricted A4 PDF holding the decision.
    report = chef.request.get(base + chef.locator("#report-link").get_attribute("href"))
    assert report.status == 200
    assert report.headers["content-type"] == "application/pdf"
    text = pdf_text(report.body())
    assert "DIFFUSION RESTREINTE" in text
    assert DECISION in text
    assert "Mairie annexe, salle B (1er étage)" in text
    assert "représenté par M. Petit, adjoint" in text
    (artifacts / "gpo_compte_rendu.pdf").write_bytes(report.body())

    # « Planifier la suivante » fills the date the cadence proposes.
    chef.locator("#plan-next").click()
    chef.wait_for_url(f"**/gpo/{gpo_id}?planifier=**")
    chef.wait_for_load_state()
    chef.wait_for_function(READY, timeout=30_000)
    assert chef.locator("#m-date").input_value() == next_href.split("planifier=")[1].split("#")[0]
    # The one refused request is the stale save.
    assert seen == {"errors": [], "failed": [f"409 {base}/api/meetings/{meeting_id}"]}, seen

    # -- the partner: « Mes actions » -------------------------------------------------------
    partner = browser.new_page(role="partenaire", viewport={"width": 1400, "height": 1000})
    seen = watch(partner)
    open_page(partner, base + "/mes-actions")
    card = partner.locator("#group-soon .action-card", has_text=DECISION)
    assert card.count() == 1
    assert problem_title in card.inner_text()
    # A planned action starts, then is done (prévue → en cours → réalisée).
    assert card.get_by_role("button", name="Marquer réalisée").count() == 0
    card.get_by_role("button", name="Démarrer").click()
    card = partner.locator("#group-soon .action-card", has_text=DECISION)
    card.locator(".action-state", has_text="En cours").wait_for()
    card.locator(".comment").fill(COMMENT)
    card.get_by_role("button", name="Marquer réalisée").click()
    # The finished actions are folded when they are many (the demo's partner has its
    # history of done actions): unfold them.
    if partner.locator("#done-details").get_attribute("open") is None:
        partner.locator("#done-details > summary").click()
    done = partner.locator("#group-done .action-card", has_text=DECISION)
    partner.locator(
        "#group-done .action-card:has-text('Rondes communes'), .action-card .error-text:not(:empty)"
    ).first.wait_for()
    assert partner.locator(".action-card .error-text:not(:empty)").all_inner_texts() == []
    assert done.locator(".action-state").inner_text() == "Réalisée"
    assert COMMENT in done.locator(".history").inner_text()
    partner.screenshot(path=str(artifacts / "mes_actions_partenaire.png"), full_page=True)

    # It reads its GPO and the meeting, but plans and closes nothing.
    open_page(partner, f"{base}/gpo/{gpo_id}")
    assert partner.locator("#plan-form").is_hidden()
    assert partner.locator("#chief-form").is_hidden()
    assert partner.get_by_role("button", name="Planifier la réunion").count() == 0 or (
        partner.get_by_role("button", name="Planifier la réunion").is_hidden()
    )
    open_page(partner, f"{base}/gpo/reunions/{meeting_id}")
    assert partner.locator("#closing").is_hidden()
    assert partner.locator("#decision-form").is_hidden()
    assert partner.locator("#report-link").is_visible()  # a member reads the compte rendu
    assert partner.locator("#plan-next").is_hidden()
    partner.screenshot(path=str(artifacts / "gpo_meeting_partenaire.png"), full_page=True)
    assert seen == {"errors": [], "failed": []}, seen
    partner.close()

    # -- the chef sees the action done --------------------------------------------------------
    open_page(chef, f"{base}/gpo/{gpo_id}")
    action_row = chef.locator("#action-table tbody tr", has_text=problem_title).filter(
        has_text="Réalisée"
    )
    assert action_row.count() >= 1
    chef.screenshot(path=str(artifacts / "gpo_workspace_action_done.png"), full_page=True)
    chef.close()


def test_each_role_sees_only_what_it_may(
    browser: Any, live_demo: str, demo_adopted: sessionmaker[Session], artifacts: Path
) -> None:
    base = live_demo
    gpo_id, _ = demo_bindings(demo_adopted)
    # A commune account: refused.
    commune = browser.new_page(role="commune")
    response = commune.goto(base + "/gpo")
    assert response.status == 403
    assert commune.locator("h1").inner_text() == "Accès refusé"
    assert commune.goto(base + "/mes-actions").status == 403
    commune.close()
    # The état-major: the GPOs and their figures, a thematic GPO to create, no record.
    planner = browser.new_page(role="planificateur", viewport={"width": 1400, "height": 1000})
    seen = watch(planner)
    open_page(planner, base + "/gpo")
    assert planner.locator("#create-section").is_visible()
    # It creates a thematic GPO: transports, over two sectors, for two categories.
    create = planner.locator("#create-form")
    create.get_by_label("Nom", exact=True).fill("GPO Transports en commun")
    create.get_by_label("Thème", exact=True).select_option("transports")
    create.get_by_label("Cadence", exact=True).select_option("15")
    sectors = create.locator("#c-sectors input")
    sectors.nth(0).check()
    sectors.nth(1).check()
    names = [create.locator("#c-sectors label").nth(i).inner_text().strip() for i in (0, 1)]
    create.locator("#c-categories input").nth(0).check()
    category = create.locator("#c-categories label").nth(0).inner_text().strip()
    create.get_by_role("button", name="Créer le GPO").click()
    planner.wait_for_url(f"{base}/gpo/*")
    planner.wait_for_load_state()
    planner.wait_for_function(READY, timeout=30_000)
    assert planner.locator("#gpo-name").inner_text() == "GPO Transports en commun"
    assert "GPO thématique" in planner.locator("#gpo-summary").inner_text()
    assert planner.locator("#sector-names").inner_text() == ", ".join(names)
    assert planner.locator("#categories").inner_text() == category
    assert "tous les 15 jours" in planner.locator("#cadence-text").inner_text()
    open_page(planner, base + "/gpo")
    assert planner.locator("#gpo-table tr", has_text="GPO Transports en commun").count() == 1
    open_page(planner, f"{base}/gpo/{gpo_id}")
    assert planner.locator("#plan-form").is_hidden()
    assert planner.locator("#partner-table").is_hidden()
    assert planner.locator("#action-table").is_hidden()
    assert planner.locator("#key-figures div").count() >= 2
    assert planner.locator("#sector-names").inner_text() not in ("", "aucun")
    planner.screenshot(path=str(artifacts / "gpo_workspace_planificateur.png"), full_page=True)
    assert seen == {"errors": [], "failed": []}, seen
    assert planner.goto(base + "/gpo/reunions/1").status == 403
    planner.close()
    # An anonymous visitor: to the sign-in page.
    anonymous = browser.new_page(role=None)
    anonymous.goto(base + f"/gpo/{gpo_id}")
    assert anonymous.url == f"{base}/connexion?next=/gpo/{gpo_id}"
    anonymous.close()


def test_a_chef_invites_again_then_cancels_a_meeting(
    browser: Any, live_demo: str, demo_adopted: sessionmaker[Session]
) -> None:
    base = live_demo
    gpo_id, _ = demo_bindings(demo_adopted)
    chef = browser.new_page(role="chef", viewport={"width": 1400, "height": 1000})
    seen = watch(chef)
    chef.on("dialog", lambda d: d.accept())
    open_page(chef, f"{base}/gpo/{gpo_id}")
    form = chef.locator("#plan-form")
    # The date is required, said next to it.
    form.get_by_label("Date").fill("")
    form.get_by_role("button", name="Planifier la réunion").click()
    assert chef.locator("#m-date-error").inner_text() == "choisissez la date de la réunion"
    assert chef.locator("#m-date").get_attribute("aria-invalid") == "true"
    form.get_by_label("Date").fill((TODAY + timedelta(days=7)).isoformat())
    form.locator("#m-send").uncheck()
    form.get_by_role("button", name="Planifier la réunion").click()
    done = chef.locator("#plan-done")
    done.locator("a").wait_for()
    assert "invitations envoyées" not in done.inner_text()  # not sent yet
    done.locator("a").click()
    chef.wait_for_url(f"{base}/gpo/reunions/*")
    chef.wait_for_load_state()
    chef.wait_for_function(READY, timeout=30_000)
    assert "invitations envoyées" not in chef.locator("#meeting-summary").inner_text()
    chef.get_by_role("button", name="Renvoyer les invitations").click()
    chef.locator("#close-done", has_text="Invitations envoyées.").wait_for()
    assert "invitations envoyées le" in chef.locator("#meeting-summary").inner_text()
    chef.get_by_role("button", name="Annuler la réunion").click()
    chef.locator("#meeting-status", has_text="Annulée").wait_for()
    assert chef.locator("#closing").is_hidden()
    assert chef.locator("#decision-form").is_hidden()
    assert seen == {"errors": [], "failed": []}, seen
    chef.close()
