"""The message catalogue (geo.messages): every code renders with its placeholders, in
French, and the domain errors carry their code, field and values."""

from __future__ import annotations

import re

import pytest

from geo.errors import DuplicateRequestError, InvalidInputError, PsqError
from geo.messages import FIELD_LABELS, MESSAGES, field_label, french, placeholders, render

#: Words that say a sentence is English (checked as whole words, case-insensitive).
ENGLISH = re.compile(
    r"\b(the|must|is not|cannot|should|value error|invalid|unknown|expected|got|"
    r"give|needs?|only|between|empty|outside|already|lies|swapped|not a)\b",
    re.IGNORECASE,
)


def sample(name: str) -> str:
    return f"<{name}>"


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_renders_in_french(code: str) -> None:
    template = MESSAGES[code]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
    names = placeholders(template)
    # Named placeholders only, no format specification: render writes the values.
    assert all(re.fullmatch(r"[a-z_]+", n) for n in names), (code, names)
    assert not re.search(r"\{[^{}]*[:!][^{}]*\}", template.replace("{{", "").replace("}}", ""))
    text = render(code, **{n: sample(n) for n in names})
    assert all(sample(n) in text for n in names)
    words = render(code, **dict.fromkeys(names, "1"))
    assert not ENGLISH.search(words), (code, words)
    with pytest.raises(KeyError):
        if names:
            render(code)
        else:
            raise KeyError("no placeholder")


def test_field_labels_are_french_words() -> None:
    for field, label in FIELD_LABELS.items():
        assert re.fullmatch(r"[a-z_]+", field) and label[0].isupper(), (field, label)
        assert not ENGLISH.search(label), label
    assert field_label("contact_email") == "Adresse e-mail de contact"
    assert field_label("action.due_on") == "Échéance"
    assert field_label("no_label_here") == "no_label_here"


def test_values_are_written_the_french_way() -> None:
    assert french(10_000) == "10\u202f000"
    assert french(0.05) == "0,05"
    assert french(2.0) == "2"
    assert french(["a", "b", "c"]) == "a, b, c"
    assert french([str(i) for i in range(12)]) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 … (+2)"
    assert french(float("inf")) == "∞"


def test_an_error_carries_its_code_field_and_values() -> None:
    error = InvalidInputError("study_dates_order", field="desired_to", desired_from="01/05/2027",
                              desired_to="01/04/2027")  # fmt: skip
    assert error.code == "study_dates_order" and error.field == "desired_to"
    assert error.values == {"desired_from": "01/05/2027", "desired_to": "01/04/2027"}
    assert (
        error.message
        == "la fin de la période souhaitée (01/04/2027) précède son début (01/05/2027)"
    )
    assert str(error) == "Fin de la période souhaitée : " + error.message
    named = error.with_values(desired_to="02/04/2027")
    assert type(named) is InvalidInputError and "(02/04/2027)" in str(named)
    duplicate = DuplicateRequestError(7, status="demandée", since="02/06/2026")
    assert (duplicate.code, duplicate.field, duplicate.existing_id) == (
        "study_request_duplicate", "site", 7)  # fmt: skip
    assert str(duplicate).startswith("Site : la demande n° 7 pour ce site est déjà ouverte")


def test_a_sentence_not_in_the_catalogue_keeps_its_words_and_its_field() -> None:
    error = PsqError("lead_partner_id : le partenaire n° 3 ne siège pas au GPO")
    assert error.code is None and error.field == "lead_partner_id"
    assert error.message == "le partenaire n° 3 ne siège pas au GPO"
    assert str(error) == "lead_partner_id : le partenaire n° 3 ne siège pas au GPO"
    with pytest.raises(TypeError):
        PsqError("not_a_code_at_all", value=1)
