"""The problems page's search as the domain checks it: its codes, period and text, and
how a text is folded for a comparison that ignores case and French accents."""

from __future__ import annotations

from datetime import date

import pytest

from geo.errors import InvalidInputError
from geo.study import MAX_SEARCH_TEXT, ProblemSearch, folded


def test_folded_ignores_case_accents_and_ligatures() -> None:
    assert folded("Élève ÀÇÈ Cœur Æ îlot") == "eleve ace coeur ae ilot"
    assert folded("déjà-vu 50%") == "deja-vu 50%"


def test_a_search_is_sorted_and_trimmed() -> None:
    search = ProblemSearch.checked(
        sectors=[3, 1, 3],
        categories=["transports", "rodeos"],
        statuses=["analyse"],
        since=date(2025, 1, 1),
        until=date(2025, 1, 1),  # a one-day period
        text="  hall  ",
    )
    assert search.sectors == (1, 3)
    assert search.categories == ("rodeos", "transports")
    assert search.text == "hall"
    assert ProblemSearch.checked(text="   ").text is None


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"categories": ["foot"]}, "Catégorie :"),
        ({"statuses": ["fini"]}, "Statut :"),
        ({"since": date(2025, 1, 2), "until": date(2025, 1, 1)}, "Début de la période :"),
        (
            {"since": date(2025, 1, 2), "until": date(2025, 1, 1), "names": ("from", "to")},
            "Début de la période :",
        ),
        ({"text": "x" * (MAX_SEARCH_TEXT + 1)}, "q :"),
    ],
)
def test_bad_searches_name_their_parameter(arguments: dict, named: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInputError) as refused:
        ProblemSearch.checked(**arguments)
    assert str(refused.value).startswith(named)
