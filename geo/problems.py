"""The problem-solving method of the GPO: categories of problems, the life cycle of a
problem and its legal transitions, actions, evaluations and partners (from the ministry's
PSQ documents). Codes are stable identifiers stored in the database; labels are French,
shown as they are.

Life cycle (each step dated)::

    signale -> analyse -> actions_en_cours -> evalue -> resolu
       |          |              |              |   \\-> actions_en_cours (new actions)
       +----------+--------------+--------------+-----> clos_sans_suite

A problem is *resolved* only after an evaluation of its actions has been recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import shapely

from geo.errors import InvalidInputError, StateConflictError

CATEGORIES: Mapping[str, str] = {
    "stupefiants": "Trafic de stupéfiants / économie souterraine",
    "rassemblements": "Rassemblements (halls, squares)",
    "nuisances": "Nuisances et incivilités",
    "rodeos": "Rodéos / deux-roues motorisés",
    "alcoolisation": "Alcoolisation sur la voie publique",
    "stationnement": "Stationnement anarchique / sécurité routière",
    "scolaire": "Violences et harcèlement scolaire",
    "cambriolages": "Cambriolages",
    "campements": "Campements illicites",
    "transports": "Transports (incivilités, fraude, agressions)",
    "autre": "Autre",
}

STATUSES: Mapping[str, str] = {
    "signale": "Signalé",
    "analyse": "Analysé",
    "actions_en_cours": "Actions en cours",
    "evalue": "Évalué",
    "resolu": "Résolu",
    "clos_sans_suite": "Clos sans suite",
}
OPEN_STATUSES = frozenset({"signale", "analyse", "actions_en_cours", "evalue"})
CLOSED_STATUSES = frozenset({"resolu", "clos_sans_suite"})

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "signale": frozenset({"analyse", "clos_sans_suite"}),
    "analyse": frozenset({"actions_en_cours", "clos_sans_suite"}),
    "actions_en_cours": frozenset({"evalue", "clos_sans_suite"}),
    "evalue": frozenset({"resolu", "actions_en_cours", "clos_sans_suite"}),
    "resolu": frozenset(),
    "clos_sans_suite": frozenset(),
}

PRIORITIES: Mapping[str, str] = {"basse": "Basse", "normale": "Normale", "haute": "Haute"}

ACTION_TYPES: Mapping[str, str] = {
    "patrouilles": "Densification des patrouilles",
    "parties_communes": "Contrôle des parties communes et caves",
    "arrete_municipal": "Arrêté municipal / application renforcée de la réglementation",
    "enquete": "Enquête judiciaire ciblée",
    "permanence": "Permanence en mairie",
    "vehicules": "Enlèvement de véhicules ventouses ou épaves",
    "encombrants": "Enlèvement d'encombrants",
    "neutralisation": "Neutralisation d'accès",
    "videoprotection": "Vidéoprotection",
    "suivi_social": "Suivi social ou éducatif",
    "prevention": "Prévention",
    "autre": "Autre",
}
ACTION_STATUSES: Mapping[str, str] = {
    "prevue": "Prévue",
    "en_cours": "En cours",
    "realisee": "Réalisée",
    "abandonnee": "Abandonnée",
}
#: The action cycle: prévue → en cours → réalisée | abandonnée (an action planned may also
#: be abandoned before it starts); réalisée and abandonnée are final.
ACTION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "prevue": frozenset({"en_cours", "abandonnee"}),
    "en_cours": frozenset({"realisee", "abandonnee"}),
    "realisee": frozenset(),
    "abandonnee": frozenset(),
}
OPEN_ACTION_STATUSES = frozenset({"prevue", "en_cours"})
OUTCOMES: Mapping[str, str] = {
    "positif": "Effet positif",
    "partiel": "Effet partiel",
    "sans_effet": "Sans effet",
}

PARTNER_TYPES: Mapping[str, str] = {
    "mairie": "Maire et services municipaux",
    "police_municipale": "Police municipale",
    "education_nationale": "Éducation nationale",
    "bailleur_social": "Bailleur social",
    "transporteur": "Transporteur",
    "renseignement_territorial": "Renseignement territorial",
    "surete_departementale": "Sûreté départementale",
    "delegue_cohesion": "Délégué cohésion police-population",
    "protection_enfance": "Protection de l'enfance",
    "association": "Association",
    "commercant": "Commerçants",
    "habitants": "Représentants des habitants",
    "autre": "Autre",
}

THEMES: Mapping[str, str] = {
    "transports": "Transports",
    "mineurs_non_accompagnes": "Mineurs non accompagnés",
    "voie_publique": "Occupation de la voie publique",
    "autre": "Autre thème",
}

CADENCES_DAYS = (15, 30)  # every 15 days, or monthly at most


def check_code(kind: str, value: str, allowed: Mapping[str, str]) -> str:
    """``value`` if it is one of the codes of ``allowed``; else an error naming it."""
    if value not in allowed:
        raise InvalidInputError("unknown_code", field=kind, value=value, expected=list(allowed))
    return value


def check_transition(current: str, new: str, *, evaluated: bool) -> None:
    """Raise unless a problem may go from ``current`` to ``new``; ``evaluated`` says
    whether an evaluation of its actions has been recorded."""
    check_code("status", new, STATUSES)
    if new not in TRANSITIONS[current]:
        allowed = [STATUSES[s] for s in sorted(TRANSITIONS[current])] or ["aucun (close)"]
        raise StateConflictError(
            "problem_transition_refused",
            field="status",
            current=STATUSES[current],
            new=STATUSES[new],
            allowed=allowed,
        )
    if new in ("evalue", "resolu") and not evaluated:
        raise StateConflictError("problem_needs_evaluation", field="status", new=STATUSES[new])


def theme_categories(kind: str, categories: Sequence[str]) -> tuple[str, ...] | None:
    """The problem categories a GPO deals with: a thematic GPO's theme (its categories of
    the taxonomy); None, every category, for a sector GPO or a theme without categories."""
    if kind != "thematic":
        return None
    return tuple(sorted({c for c in categories if c in CATEGORIES})) or None


def action_overdue(status: str, due_on: date | None, today: date) -> bool:
    """Whether an action is late: its due date passed and it is neither done nor abandoned."""
    return due_on is not None and due_on < today and status in OPEN_ACTION_STATUSES


def check_action_transition(current: str, new: str) -> None:
    """Raise unless an action may go from ``current`` to ``new`` (:data:`ACTION_TRANSITIONS`)."""
    check_code("status", new, ACTION_STATUSES)
    if new not in ACTION_TRANSITIONS[current]:
        allowed = " ou ".join(
            f"« {ACTION_STATUSES[s]} »" for s in sorted(ACTION_TRANSITIONS[current])
        )
        raise StateConflictError(
            "action_transition_refused" if allowed else "action_closed",
            field="status",
            current=ACTION_STATUSES[current],
            new=ACTION_STATUSES[new],
            allowed=allowed,
        )


def place(
    points: np.ndarray, sectors: Sequence[tuple[int, shapely.Geometry]], tolerance: float
) -> np.ndarray:
    """The sector of each point (shape (n, 2), same CRS as the sectors): the sector
    whose outline holds it (boundary included), else the nearest sector within
    ``tolerance`` (a point on the territory's border), else -1."""
    x, y = points[:, 0], points[:, 1]
    found = np.full(len(points), -1, dtype=int)
    for sector, outline in sectors:
        todo = found < 0
        if not todo.any():
            break
        shapely.prepare(outline)
        hit = shapely.intersects_xy(outline, x[todo], y[todo])
        found[np.flatnonzero(todo)[hit]] = sector
    missing = np.flatnonzero(found < 0)
    if len(missing) and len(sectors):
        tree = shapely.STRtree([outline for _, outline in sectors])
        at, nearest = tree.query_nearest(
            shapely.points(points[missing]), max_distance=tolerance, all_matches=False
        )
        found[missing[at]] = np.array([sectors[i][0] for i in nearest], dtype=int)
    return found
