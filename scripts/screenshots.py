"""Refresh the README's screenshots (docs/*.png) from a running demo, in Debian's Chromium.

Run the app with the demo loaded (``scripts/run.sh``, or ``psq serve --port 8765``), then:

    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:8000] [--only NAME ...]

Each shot signs in as one of the demo accounts (``{role}@demo.psq.example``) in a 1440 x 950
window with a French locale, opens one page, waits for its data and maps, and writes
``docs/{name}.png``. Pages that need an id (a GPO, a meeting, a working copy of the adopted
plan) find it through the same API the pages call. The demo's problems, people and meetings
are fictitious; so are the screenshots' figures.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

DOCS = Path(__file__).resolve().parent.parent / "docs"
PASSWORD = "demo-psq-secteurs-2026"


def items(page: Page, url: str) -> list[dict[str, Any]]:
    """A list the API answers, paged (``{"data": [...]}``) or not."""
    body = page.request.get(url).json()
    return list(body["data"] if isinstance(body, dict) else body)


def first_gpo(page: Page) -> str:
    gpos = items(page, "/api/csp/1/gpos")
    return f"/gpo/{gpos[0]['id']}"


def first_meeting(page: Page) -> str:
    gpos = items(page, "/api/csp/1/gpos")
    meetings = items(page, f"/api/gpos/{gpos[0]['id']}/meetings")
    planned = [m for m in meetings if m.get("status") == "prevue"] or meetings
    return f"/gpo/reunions/{planned[0]['id']}"


def working_copy(page: Page) -> str:
    """The editor on a working copy of the adopted plan (made once, reused after)."""
    plans = items(page, "/api/csp/1/plans")
    copies = [p for p in plans if p.get("status") == "editing"]
    if not copies:
        adopted = next(p for p in plans if p.get("status") == "adopted")
        csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "psq_csrf")
        made = page.request.post(f"/api/plans/{adopted['id']}/edit", headers={"X-CSRF-Token": csrf})
        copies = [made.json()]
    return f"/secteurs/edition?plan={copies[0]['id']}"


@dataclass(frozen=True)
class Shot:
    name: str
    role: str | None  # None: not signed in
    path: str | Callable[[Page], str]
    full_page: bool = False


SHOTS = [
    Shot("connexion", None, "/connexion"),
    Shot("home", None, "/"),
    Shot("grid_map", "planificateur", "/carte"),
    Shot("plans", "planificateur", "/secteurs"),
    Shot("plan_editor", "planificateur", working_copy),
    Shot("start_chef", "chef", "/"),
    Shot("problems", "chef", "/problematiques"),
    Shot("cartography", "chef", "/cartographie"),
    Shot("gpo_list", "planificateur", "/gpo"),
    Shot("gpo_workspace", "chef", first_gpo),
    Shot("gpo_meeting", "chef", first_meeting),
    Shot("mes_actions", "partenaire", "/mes-actions"),
    Shot("commune", "commune", "/commune"),
    Shot("interventions", "chef", "/interventions"),
    Shot("audit_queue", "referent", "/etudes"),
    Shot("bilans", "planificateur", "/bilans"),
    Shot("compte", "chef", "/compte"),
    Shot("comptes", "admin", "/comptes"),
    Shot("journal", "admin", "/journal"),
]


def sign_in(page: Page, role: str) -> None:
    page.goto("/connexion")
    page.fill("input[type=email]", f"{role}@demo.psq.example")
    page.fill("input[type=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/connexion" not in url, timeout=30_000)


def take(browser: Any, base: str, shot: Shot) -> Path:
    context = browser.new_context(
        base_url=base, viewport={"width": 1440, "height": 950}, locale="fr-FR"
    )
    page = context.new_page()
    try:
        if shot.role:
            sign_in(page, shot.role)
        path = shot.path if isinstance(shot.path, str) else shot.path(page)
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1_500)  # map tiles and labels drawn after the data
        target = DOCS / f"{shot.name}.png"
        page.screenshot(path=str(target), full_page=shot.full_page)
        return target
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--only", nargs="*", help="names of the shots to take (default: all)")
    args = parser.parse_args()
    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    with sync_playwright() as playwright:
        # Chromium on Linux takes its language from LANGUAGE (date fields in jj/mm/aaaa,
        # « Choisir un fichier »), as tests/conftest.py's fixture does: --lang alone is not enough.
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--lang=fr-FR"],
            env={**os.environ, "LANGUAGE": "fr"},
        )
        try:
            for shot in shots:
                print(take(browser, args.base, shot).relative_to(DOCS.parent))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
