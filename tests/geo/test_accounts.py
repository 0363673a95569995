"""The pure rules of accounts: roles and their bindings, e-mail addresses, the password
policy, throttling, the audit actor and changes; Argon2id hashes and token hashes."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher

from geo.accounts import (
    BINDING_OF_ROLE,
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    ROLES,
    Actor,
    changes_between,
    check_bindings,
    check_email,
    check_password,
    check_role,
    throttle_minutes,
)
from geo.errors import InvalidInputError
from geo.passwords import (
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_nothing,
    verify_password,
)


def test_roles_and_their_french_labels() -> None:
    assert ROLES == {
        "admin": "Direction (DDSP)",
        "planificateur": "État-major (planification)",
        "chef": "Chef de secteur",
        "partenaire": "Partenaire du GPO",
        "commune": "Commune",
        "referent": "Référent sûreté",
    }
    assert set(BINDING_OF_ROLE) == set(ROLES)
    with pytest.raises(
        InvalidInputError, match=r"^Rôle : valeur inconnue « DDSP » ; valeurs possibles : admin, "
    ):
        check_role("DDSP")


@pytest.mark.parametrize(
    ("email", "normalized"),
    [
        ("jean.dupont@interieur.gouv.fr", "jean.dupont@interieur.gouv.fr"),
        ("  Jean.Dupont@Interieur.GOUV.fr\n", "jean.dupont@interieur.gouv.fr"),
        ("mairie+securite@belfort.example", "mairie+securite@belfort.example"),
    ],
)
def test_emails_are_stored_trimmed_and_lower_case(email: str, normalized: str) -> None:
    assert check_email(email) == normalized


@pytest.mark.parametrize(
    "email",
    ["", "jean", "jean@", "@police.example", "jean@police", "je an@police.example",
     "a@b@police.example", "jean@police..example", "x" * 250 + "@p.example"],
)  # fmt: skip
def test_malformed_emails_name_the_field(email: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^Adresse e-mail : "):
        check_email(email)


def test_password_policy() -> None:
    assert check_password("douze caract") == "douze caract"
    for bad, why in (
        ("onze  carac", r"au moins 12 caractères \(11 reçus\)"),
        (" " * 20, "un mot de passe fait d'espaces seulement"),
        ("x" * 257, "au plus 256"),
    ):
        with pytest.raises(InvalidInputError, match=rf"^Mot de passe : {why}") as caught:
            check_password(bad)
        assert bad not in str(caught.value)


@pytest.mark.parametrize(
    ("role", "bindings"),
    [
        ("admin", {}),
        ("planificateur", {"csps": [1, 2]}),
        ("referent", {"csps": [1]}),
        ("chef", {"gpos": [3, 4]}),
        ("partenaire", {"gpos": [3]}),
        ("commune", {"communes": ["90010", "90065"]}),
    ],
)
def test_each_role_takes_its_bindings(role: str, bindings: dict[str, Any]) -> None:
    check_bindings(role, **{"gpos": [], "communes": [], "csps": [], **bindings})


@pytest.mark.parametrize(
    ("role", "bindings", "message"),
    [
        ("chef", {}, "GPO : le rôle « Chef de secteur » doit être rattaché à au moins un GPO"),
        ("commune", {}, "Commune : le rôle « Commune » doit être rattaché à au moins une commune"),
        ("referent", {}, "CSP : le rôle « Référent sûreté » doit être rattaché à au moins une CSP"),
        ("admin", {"csps": [1]}, "CSP : le rôle « Direction (DDSP) » n'est rattaché à rien, pas à"),
        (
            "chef",
            {"gpos": [1], "communes": ["90010"]},
            "Commune : le rôle « Chef de secteur » est rattaché à un GPO",
        ),
        (
            "planificateur",
            {"gpos": [1]},
            "GPO : le rôle « État-major (planification) » est rattaché à une CSP, pas à un GPO",
        ),
    ],
)
def test_bindings_that_do_not_fit_the_role(
    role: str,
    bindings: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_bindings(role, **{"gpos": [], "communes": [], "csps": [], **bindings})
    assert str(caught.value).startswith(message)


def test_throttling_thresholds() -> None:
    assert throttle_minutes(MAX_FAILURES_PER_ACCOUNT - 1, MAX_FAILURES_PER_ADDRESS - 1) is None
    assert throttle_minutes(MAX_FAILURES_PER_ACCOUNT, 0) == 15
    assert throttle_minutes(0, MAX_FAILURES_PER_ADDRESS) == 15


def test_actors_and_changes() -> None:
    assert Actor.account(12) == Actor("account:12", 12)
    assert Actor.cli("root").account_id is None
    assert changes_between({"a": 1, "b": 2}, {"b": 3, "c": None}) == {"a": [1, None], "b": [2, 3]}
    assert changes_between({}, {"role": "chef"}) == {"role": [None, "chef"]}


def test_argon2id_hashes() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert stored != hash_password("correct horse battery")  # salted
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password("not a hash", "correct horse battery")
    assert not needs_rehash(stored)
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("x" * 12)
    assert verify_password(weaker, "x" * 12) and needs_rehash(weaker)
    assert verify_nothing("anything") is False


def test_tokens_are_random_and_stored_as_sha256() -> None:
    first, second = new_token(), new_token()
    assert first != second and first.startswith("psq_") and len(first) >= 4 + 43
    assert token_hash(first) == token_hash(first) != token_hash(second)
    assert len(token_hash(first)) == 64 and first not in token_hash(first)
