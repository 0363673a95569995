"""The stored codes a person reads, in words: one table per enum-like field, built from
the taxonomies that already name them (``geo.problems``, ``geo.audits``…) so that a code
is worded once.

:data:`VALUE_LABELS` is keyed by ``"entity.field"`` (a field whose codes depend on the
object: a problem's ``status`` is not an action's) or by ``"field"`` (the same codes
wherever the field appears). The journal of the audit trail shows every value through it
(``web/templates/audit_log.html`` embeds it, ``audit_log.js`` reads it); the pages' own
lists of plan origins, layer kinds, units and sector-design methods are these tables too
(the palette of ``web/pages.py``, the forms' options).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from geo import accounts, audits, csi, meetings, participation, problems
from geo.messages import FIELD_LABELS, PLAN_STATUS_WORDS

#: How a plan was made (``plan.origin``).
PLAN_ORIGINS: Mapping[str, str] = {
    "engine": "proposition",
    "communes": "communes entières",
    "import": "importé",
    "edit": "modifié à la main",
}
#: The sector-design methods of a proposal (``parameters.method``), as the form offers them
#: (short enough for the form's narrow list; the form's hint says what each does).
PLAN_METHODS: Mapping[str, str] = {
    "engine": "Secteurs équilibrés",
    "communes": "Communes entières",
    "exact": "Exacte (avec preuve)",
}
#: What a proposal minimises (``parameters.objective``), as the form offers it.
PLAN_OBJECTIVES: Mapping[str, str] = {
    "boundary": "Longueur des limites",
    "distance": "Distance moyenne au centre",
    "mix": "Mixte : distance et limites",
}
#: The elementary units of a grid (``units``).
UNITS: Mapping[str, str] = {"h3": "hexagones H3", "blocks": "îlots (rues)"}
#: The kinds of layer (``geo.layers.LayerKind``), as the import form and the list say them.
LAYER_KINDS: Mapping[str, str] = {
    "population_grid": "Grille de population (carreaux)",
    "zones": "Zones (QPV, IRIS, quartiers)",
    "barriers": "Barrières (routes, rail, cours d'eau)",
    "points": "Équipements (points)",
    "links": "Liaisons (bacs, ponts, tunnels)",
    "buildings": "Bâtiments (fond de plan : OpenStreetMap, BD TOPO)",
}
#: A GPO's kind.
GPO_KINDS: Mapping[str, str] = {"sector": "secteur", "thematic": "thématique"}
#: The computations a job runs.
JOB_KINDS: Mapping[str, str] = {
    "sectorize": "proposition de plan de secteurs",
    "reoptimise": "ré-optimisation d'une copie de travail",
}
#: The constraints a plan may miss (``geo.metrics.Violation.constraint``).
CONSTRAINTS: Mapping[str, str] = {
    "balance": "équilibre des charges",
    "contiguity": "secteurs d'un seul tenant",
    "whole_commune": "petites communes entières",
}

VALUE_LABELS: dict[str, Mapping[str, str]] = {
    # the same codes wherever the field appears
    "role": accounts.ROLES,
    "category": problems.CATEGORIES,
    "categories": problems.CATEGORIES,
    "priority": problems.PRIORITIES,
    "outcome": problems.OUTCOMES,
    "theme": problems.THEMES,
    "nature": participation.INTERVENTION_NATURES,
    "natures": participation.INTERVENTION_NATURES,
    "channels": participation.CHANNELS,
    "channel": participation.CHANNELS,
    "signatories": participation.SIGNATORIES,
    "objectives": csi.OBJECTIVES,
    "units": UNITS,
    "method": PLAN_METHODS,
    "objective": PLAN_OBJECTIVES,
    "origin": PLAN_ORIGINS,
    "violations": CONSTRAINTS,
    # the codes of one object's field
    "problem.status": problems.STATUSES,
    "action.status": problems.ACTION_STATUSES,
    "action.type": problems.ACTION_TYPES,
    "partner.type": problems.PARTNER_TYPES,
    "audit_request.kind": audits.KINDS,
    "audit_request.status": audits.STATUSES,
    "referent.role": audits.REFERENT_ROLES,
    "meeting.status": meetings.MEETING_STATUSES,
    "meeting.kind": meetings.DECISION_KINDS,
    "plan.status": {code: word.capitalize() for code, word in PLAN_STATUS_WORDS.items()},
    "convention.status": participation.STATUSES,
    "gpo.kind": GPO_KINDS,
    "layer.kind": LAYER_KINDS,
    "job.kind": JOB_KINDS,
    "account.password": {"changed": "modifié"},
}

#: The names of the trail's fields that differ with the object (``"entity.field"``) or are
#: not a request's field (``geo.messages.FIELD_LABELS`` names every other).
TRAIL_FIELD_LABELS: dict[str, str] = {
    "layer.kind": "Nature de la couche",
    "job.kind": "Calcul",
    "meeting.kind": "Décision",
    "gpo.kind": "Type de GPO",
    "action.type": "Type d'action",
    "partner.type": "Type de partenaire",
    "referent.role": "Fonction",
    "grid.resolution": "Résolution H3",
    "e-mails": "E-mails envoyés",
}

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def value_label(entity: str, field: str, value: str) -> str:
    """``value`` of ``entity``'s ``field`` in words, else as given.

    >>> value_label("audit_request", "kind", "videoprotection")
    'Vidéoprotection de voie publique'
    >>> value_label("action", "type", "videoprotection"), value_label("problem", "status", "x")
    ('Vidéoprotection', 'x')
    """
    labels = VALUE_LABELS.get(f"{entity}.{field}") or VALUE_LABELS.get(field) or {}
    return labels.get(value, value)


def trail_field(entity: str, field: str) -> str:
    """The name in words of ``entity``'s ``field`` in the trail (as the journal page says it).

    >>> trail_field("layer", "kind"), trail_field("problem", "status")
    ('Nature de la couche', 'Statut')
    """
    return (
        TRAIL_FIELD_LABELS.get(f"{entity}.{field}")
        or TRAIL_FIELD_LABELS.get(field)
        or FIELD_LABELS.get(field, field)
    )


def trail_value(entity: str, field: str, value: object) -> str:
    """A stored value of the trail in words, as the journal page shows it without reading
    other rows: codes in words, « oui / non », dates as dd/mm/yyyy, « — » for none, another
    row by its number.

    >>> trail_value("action", "type", "videoprotection"), trail_value("x", "y", None)
    ('Vidéoprotection', '—')
    >>> trail_value("problem", "reported_on", "2026-06-15"), trail_value("x", "gpo_id", 3)
    ('15/06/2026', 'n° 3')
    """
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(trail_value(entity, field, v) for v in value) if value else "aucun"
    if isinstance(value, dict):
        pairs = (
            f"{trail_field(entity, k)} : {trail_value(entity, k, v)}" for k, v in value.items()
        )
        return f"({', '.join(pairs)})"
    if isinstance(value, int | float) and (field == "id" or field.endswith(("_id", "_ids"))):
        return f"n° {value}"
    if isinstance(value, str):
        if _ISO_DAY.fullmatch(value):
            return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
        if _ISO_TIME.match(value):
            return f"{value[8:10]}/{value[5:7]}/{value[:4]} {value[11:16]}"
        return value_label(entity, field, value)
    return str(value)


def trail_words(entity: str, changes: Mapping[str, Any] | None, detail: Any) -> str:
    """One entry's changes (« Statut : Signalé → Analysé ») and detail in words, « · »
    between them: the journal's CSV column a person reads.

    >>> trail_words("problem", {"status": ["signale", "analyse"]}, {"note": "x"})
    'Statut : Signalé → Analysé · Note : x'
    """
    parts = [
        f"{trail_field(entity, f)} : {trail_value(entity, f, before)} → "
        f"{trail_value(entity, f, after)}"
        for f, (before, after) in (changes or {}).items()
    ]
    if isinstance(detail, Mapping):
        parts += [
            f"{trail_field(entity, k)} : {trail_value(entity, k, v)}" for k, v in detail.items()
        ]
    return " · ".join(parts)
