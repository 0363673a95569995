"""Safety studies (*études de sûreté*) requested by communes: kinds of site, the life
cycle of a request and its legal transitions, and what each step must record.

A commune applies to the DDSP, explaining its need; a *référent sûreté* (or a
*correspondant sûreté*) studies the site and hands over recommendations (*préconisations*).
Codes are stable identifiers stored in the database; labels are French, shown as they are.

Life cycle (each step dated)::

    demandee -> acceptee -> planifiee -> realisee -> preconisations_remises
        |           |           | ^  (re-planned: planifiee -> planifiee)
        +-----------+-----------+-----> refusee (with its reason)

- ``planifiee`` needs a date (``planned_on``) and the référent assigned;
- ``refusee`` needs the reason, which the commune sees;
- ``preconisations_remises`` needs the recommendations (notes) or a document.

A request is *open* until the recommendations are handed over or it is refused: a second
open request for the same site is flagged to the commune rather than silently recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from geo.errors import InvalidInputError, StateConflictError
from geo.problems import check_code

KINDS: Mapping[str, str] = {
    "videoprotection": "Vidéoprotection de voie publique",
    "batiment_communal": "Bâtiment communal",
    "etablissement_scolaire": "Établissement scolaire",
    "evenement": "Événement, manifestation",
    "espace_public": "Espace public (place, parc, parking)",
    "equipement_sportif": "Équipement sportif ou culturel",
    "commerce": "Zone commerciale",
    "autre": "Autre",
}

STATUSES: Mapping[str, str] = {
    "demandee": "Demandée",
    "acceptee": "Acceptée",
    "planifiee": "Planifiée",
    "realisee": "Réalisée",
    "preconisations_remises": "Préconisations remises",
    "refusee": "Refusée",
}
CLOSED_STATUSES = frozenset({"preconisations_remises", "refusee"})
OPEN_STATUSES = frozenset(STATUSES) - CLOSED_STATUSES

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "demandee": frozenset({"acceptee", "refusee"}),
    "acceptee": frozenset({"planifiee", "refusee"}),
    "planifiee": frozenset({"planifiee", "realisee", "refusee"}),
    "realisee": frozenset({"preconisations_remises"}),
    "preconisations_remises": frozenset(),
    "refusee": frozenset(),
}

REFERENT_ROLES: Mapping[str, str] = {
    "referent": "Référent sûreté",
    "correspondant": "Correspondant sûreté",
}

#: Radius (metres) around a site within which problems are counted as its evidence.
EVIDENCE_RADIUS_M = 200.0
#: Two open requests of a commune whose sites are closer than this (metres) are the same site.
SAME_SITE_M = 50.0


def check_transition(
    current: str,
    new: str,
    *,
    planned_on: date | None = None,
    referent_id: int | None = None,
    reason: str | None = None,
    recommendations: str | None = None,
    has_document: bool = False,
) -> None:
    """Raise unless a request may go from ``current`` to ``new`` with what is given.

    Examples
    --------
    >>> check_transition("demandee", "acceptee")
    >>> check_transition("demandee", "realisee")
    Traceback (most recent call last):
    ...
    geo.errors.StateConflictError: Statut : une demande « Demandée » ne peut pas passer à \
« Réalisée » ; possible : Acceptée, Refusée
    >>> check_transition("acceptee", "planifiee", planned_on=date(2026, 1, 5))
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: Référent : une étude planifiée a besoin de son référent
    """
    check_code("status", new, STATUSES)
    if new not in TRANSITIONS[current]:
        allowed = [STATUSES[s] for s in sorted(TRANSITIONS[current])] or ["aucun (close)"]
        raise StateConflictError(
            "study_transition_refused",
            field="status",
            current=STATUSES[current],
            new=STATUSES[new],
            allowed=allowed,
        )
    if new == "planifiee":
        if planned_on is None:
            raise InvalidInputError("study_planned_needs_date", field="planned_on")
        if referent_id is None:
            raise InvalidInputError("study_planned_needs_referent", field="referent_id")
    if new == "refusee" and not (reason and reason.strip()):
        raise InvalidInputError("study_refused_needs_reason", field="reason")
    if (
        new == "preconisations_remises"
        and not (recommendations and recommendations.strip())
        and not has_document
    ):
        raise InvalidInputError("study_recommendations_needed", field="recommendations")
