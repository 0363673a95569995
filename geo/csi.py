"""Contrats de sécurité intégrée (issue 18): State-local commitments over one or several
communes (up to an intercommunalité), built on a shared diagnosis and four objectives,
each with actions, their lead partner and indicators. The checks of a contract's
content, without a database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from geo.errors import InvalidInputError

#: The four objectives of a contrat de sécurité intégrée.
OBJECTIVES: Mapping[str, str] = {
    "citoyennete_prevention": "Citoyenneté et prévention",
    "tranquillite_securite": "Tranquillité et sécurité du quotidien",
    "justice_proximite": "Justice de proximité",
    "aide_victimes": "Aide aux victimes",
}
#: The most communes one contract spans.
MAX_COMMUNES = 200


def check_contract(
    commune_codes: Sequence[str], start_on: date | None, end_on: date | None
) -> list[str]:
    """The communes of a contract, without duplicates and in order; refuse a contract
    without a commune and an end before its start, naming the field."""
    codes = list(dict.fromkeys(commune_codes))
    if not codes:
        raise InvalidInputError("csi_needs_commune", field="commune_codes")
    if len(codes) > MAX_COMMUNES:
        raise InvalidInputError("too_many_communes", field="commune_codes", limit=MAX_COMMUNES)
    if start_on is not None and end_on is not None and end_on < start_on:
        raise InvalidInputError(
            "end_before_start",
            field="end_on",
            end=f"{end_on:%d/%m/%Y}",
            start=f"{start_on:%d/%m/%Y}",
        )
    return codes


def in_force(start_on: date | None, end_on: date | None, day: date) -> bool:
    """Whether a contract runs on ``day`` (signed and begun, not ended)."""
    return start_on is not None and start_on <= day and (end_on is None or day <= end_on)
