"""The printed compte rendu of a GPO meeting: an A4 PDF printed by Chromium, whose text
(read back with pypdf) carries the « DIFFUSION RESTREINTE » banner on every page, the
GPO, the attendance, the decisions by problem, the minutes and the next date."""

from __future__ import annotations

import io
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time

import pypdf
import pytest

from api.schemas import GpoPublic, MeetingPublic
from api.schemas.meetings import DecisionPublic, MeetingPartnerPublic
from web.meetings import decisions_by_problem, long_date, print_meeting_report, report_html

pytestmark = pytest.mark.browser

A4_POINTS = (595, 842)  # 210 x 297 mm


def gpo() -> GpoPublic:
    return GpoPublic.model_validate(
        {
            "id": 7,
            "csp_id": 1,
            "kind": "sector",
            "name": "GPO Belfort Centre",
            "sector": 2,
            "sectors": [2],
            "theme": None,
            "categories": [],
            "plan_id": 3,
            "active": True,
            "chief_name": "Julie Leroy",
            "chief_grade": "Capitaine",
            "chief_contact": None,
            "deputy_name": "Paul Martin",
            "deputy_grade": "Lieutenant",
            "cadence_days": 15,
            "partner_ids": [11, 12, 13],
            "last_meeting_on": date(2026, 12, 1),
            "next_meeting_due": date(2026, 12, 16),
            "next_meeting_on": None,
            "next_meeting_id": None,
            "overdue": False,
            "open_problems": 4,
            "actions_due": 1,
            "actions_overdue": 0,
            "version": 1,
        }
    )


def partner(
    pid: int, name: str, present: bool | None, by: str | None = None
) -> MeetingPartnerPublic:
    return MeetingPartnerPublic(
        partner_id=pid,
        organisation=name,
        type_label="Bailleur social",
        contact_name=None,
        invited=True,
        present=present,
        represented_by=by,
        synthetic=False,
    )


def decision(
    did: int, kind: str, label: str, problem: tuple[int, str] | None, text: str
) -> DecisionPublic:
    return DecisionPublic(
        id=did,
        kind=kind,  # type: ignore[arg-type]
        kind_label=label,
        problem_id=problem[0] if problem else None,
        problem_title=problem[1] if problem else None,
        action_id=None,
        text=text,
        created_at=datetime(2026, 12, 15, 15, 0),
    )


def meeting(decisions: list[DecisionPublic], *, synthetic: bool = False) -> MeetingPublic:
    return MeetingPublic(
        id=21,
        gpo_id=7,
        gpo_name="GPO Belfort Centre",
        status="close",
        status_label="Close",
        held_on=date(2026, 12, 15),
        starts_at=time(14, 30),
        place="Commissariat de Belfort, salle 2",
        partners=[
            partner(11, "Territoire Habitat", True),
            partner(12, "Ville de Belfort", True, "Mme Durand"),
            partner(13, "Optymo", False),
        ],
        attendees=["Brigadier Noël"],
        notes="Tour de table sans remarque.",
        decisions=decisions,
        invited_at=datetime(2026, 12, 2, 9, 0),
        closed_at=datetime(2026, 12, 15, 16, 0),
        closed_by="Julie Leroy",
        has_report=False,
        next_proposed_on=date(2026, 12, 30),
        version=3,
        synthetic=synthetic,
    )


def printed(meeting: MeetingPublic, gpo: GpoPublic) -> bytes:
    """The PDF, printed in a thread of its own as the app's routes do: the browser tests'
    Chromium (Playwright's sync API) may be running an event loop in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(print_meeting_report, meeting, gpo).result()


def pdf_text(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert [round(float(v)) for v in page.mediabox[2:]] == list(A4_POINTS)
    # NFKC: Chromium's fonts set ligatures (« ﬁ »), which pypdf reads as one character.
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in reader.pages]


def test_decisions_are_grouped_by_problem_and_notes_come_last() -> None:
    ds = [
        decision(1, "note", "Note", None, "Point divers"),
        decision(2, "action", "Action", (5, "Rodéos"), "Patrouilles"),
        decision(3, "step", "Étape", (6, "Squat"), "Analyse"),
        decision(4, "evaluation", "Évaluation", (5, "Rodéos"), "Efficace"),
    ]
    groups = decisions_by_problem(ds)
    assert [(g.problem_id, [d.id for d in g.decisions]) for g in groups] == [
        (5, [2, 4]),
        (6, [3]),
        (None, [1]),
    ]
    assert long_date(date(2026, 12, 15)) == "mardi 15 décembre 2026"


def test_the_report_is_a_restricted_a4_pdf() -> None:
    ds = [
        decision(
            1,
            "action",
            "Nouvelle action",
            (5, "Rodéos urbains rue de Mulhouse"),
            "Patrouilles renforcées le vendredi soir",
        ),
        decision(2, "note", "Note", None, "Prévoir une visite du quartier"),
    ]
    pages = pdf_text(printed(meeting(ds), gpo()))
    text = " ".join(" ".join(pages).split())
    assert "DIFFUSION RESTREINTE" in text
    assert "GPO Belfort Centre" in text
    assert "Rodéos urbains rue de Mulhouse" in text
    assert "Patrouilles renforcées le vendredi soir" in text
    assert "mardi 15 décembre 2026 à 14 h 30" in text
    assert "Commissariat de Belfort, salle 2" in text
    assert "Capitaine Julie Leroy" in text
    assert "représenté par Mme Durand" in text
    assert "Optymo" in text and "Brigadier Noël" in text
    assert "Tour de table sans remarque." in text
    assert "Prochaine réunion proposée : mercredi 30 décembre 2026" in text
    assert "Données fictives de démonstration" not in text


def test_every_page_of_a_long_report_carries_the_banner() -> None:
    # 120 decisions over 40 problems: several pages.
    ds = [
        decision(
            i,
            "action",
            "Nouvelle action",
            (i % 40 + 1, f"Problématique numéro {i % 40 + 1}"),
            f"Décision numéro {i} : une action longue à décrire pour remplir la page",
        )
        for i in range(120)
    ]
    pages = pdf_text(printed(meeting(ds, synthetic=True), gpo()))
    assert len(pages) >= 3
    for page in pages:
        assert "DIFFUSION RESTREINTE" in page
    assert "Données fictives de démonstration" in " ".join(" ".join(pages).split())
    assert "Décision numéro 119" in " ".join(pages)


def test_the_html_escapes_what_people_wrote() -> None:
    html = report_html(meeting([decision(1, "note", "Note", None, "<script>x</script>")]), gpo())
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
