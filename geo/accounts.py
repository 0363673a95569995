"""Accounts: the roles people sign in with, what each role is bound to, and the rules of
e-mail addresses, passwords and sign-in throttling. The audit trail names who acted
(:class:`Actor`) and what changed (:func:`changes_between`).

Role codes are stable identifiers stored in the database; labels are French, shown as
they are. A person may hold several bindings of the kind their role needs:

- ``admin`` (the DDSP) sees and changes everything: no binding;
- ``planificateur`` and ``referent`` work for one or more CSPs;
- ``chef`` and ``partenaire`` belong to one or more GPOs;
- ``commune`` speaks for one or more communes (INSEE codes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from geo.errors import InvalidInputError

ROLES: Mapping[str, str] = {
    "admin": "Direction (DDSP)",
    "planificateur": "État-major (planification)",
    "chef": "Chef de secteur",
    "partenaire": "Partenaire du GPO",
    "commune": "Commune",
    "referent": "Référent sûreté",
}

#: The binding each role needs (at least one), or None: ``gpo``, ``commune`` or ``csp``.
BINDING_OF_ROLE: Mapping[str, str | None] = {
    "admin": None,
    "planificateur": "csp",
    "chef": "gpo",
    "partenaire": "gpo",
    "commune": "commune",
    "referent": "csp",
}
BINDINGS: Mapping[str, str] = {"gpo": "GPO", "commune": "commune", "csp": "CSP"}

#: What a role is bound to, with its article (« au moins un GPO »).
_ONE: Mapping[str, str] = {"gpo": "un GPO", "commune": "une commune", "csp": "une CSP"}

PASSWORD_MIN_LENGTH = 12
#: Long enough for any passphrase, short enough that hashing it costs nothing unusual.
PASSWORD_MAX_LENGTH = 256
EMAIL_MAX_LENGTH = 254

#: Sign-ins are refused after this many failures within :data:`THROTTLE_WINDOW`, for one
#: e-mail address (known or not) or from one network address.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)

#: A web session ends after this long without a request (idle expiry)…
SESSION_IDLE = timedelta(minutes=30)
#: …and this long after it was opened, whatever its use (absolute expiry).
SESSION_LIFETIME = timedelta(hours=12)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def check_role(role: str) -> str:
    """The role code, or :class:`InvalidInputError` naming the known ones.

    >>> check_role("chef")
    'chef'
    """
    if role not in ROLES:
        raise InvalidInputError("unknown_code", field="role", value=role, expected=list(ROLES))
    return role


def normalize_email(email: str) -> str:
    """The address as stored and compared: trimmed and lower-case.

    >>> normalize_email("  Jean.Dupont@Interieur.Gouv.FR ")
    'jean.dupont@interieur.gouv.fr'
    """
    return email.strip().lower()


def check_email(email: str) -> str:
    """The normalised address, or :class:`InvalidInputError` naming ``email``.

    >>> check_email("Chef.Nord@Police.fr")
    'chef.nord@police.fr'
    """
    normalized = normalize_email(email)
    if len(normalized) > EMAIL_MAX_LENGTH:
        raise InvalidInputError("text_too_long", field="email", limit=EMAIL_MAX_LENGTH)
    if not _EMAIL.match(normalized):
        raise InvalidInputError("not_an_email", field="email", value=email.strip())
    return normalized


def check_password(password: str) -> str:
    """The password if the policy accepts it, else :class:`InvalidInputError` naming
    ``password`` (never echoing it)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInputError(
            "password_too_short", field="password", limit=PASSWORD_MIN_LENGTH, got=len(password)
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInputError("text_too_long", field="password", limit=PASSWORD_MAX_LENGTH)
    if not password.strip():
        raise InvalidInputError("password_only_spaces", field="password")
    return password


def check_bindings(role: str, *, gpos: list[int], communes: list[str], csps: list[int]) -> None:
    """The bindings fit the role: at least one of the kind it needs, none of another
    kind. Raises :class:`InvalidInputError` naming the field (``gpo``, ``commune``,
    ``csp``).

    >>> check_bindings("commune", gpos=[], communes=["90010"], csps=[])
    >>> check_bindings("chef", gpos=[], communes=[], csps=[])
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: GPO : le rôle « Chef de secteur » doit être rattaché à au \
moins un GPO
    """
    check_role(role)
    needed = BINDING_OF_ROLE[role]
    given = {"gpo": gpos, "commune": communes, "csp": csps}
    for kind, values in given.items():
        if values and kind != needed:
            raise InvalidInputError(
                "role_binding_none" if needed is None else "role_binding_wrong",
                field=kind,
                role=ROLES[role],
                bound=_ONE[needed] if needed is not None else "",
                kind=_ONE[kind],
            )
    if needed is not None and not given[needed]:
        raise InvalidInputError(
            "role_binding_missing", field=needed, role=ROLES[role], kind=_ONE[needed]
        )


def throttle_minutes(failures_for_account: int, failures_from_address: int) -> int | None:
    """Whether a sign-in is refused unchecked: the minutes to wait (the window), or None.

    >>> throttle_minutes(4, 19) is None
    True
    >>> throttle_minutes(5, 0)
    15
    """
    if (
        failures_for_account >= MAX_FAILURES_PER_ACCOUNT
        or failures_from_address >= MAX_FAILURES_PER_ADDRESS
    ):
        return int(THROTTLE_WINDOW.total_seconds() // 60)
    return None


@dataclass(frozen=True)
class SessionPolicy:
    """How long a web session lives: ``idle`` without a request, ``lifetime`` in all.

    >>> SessionPolicy().lifetime.total_seconds()
    43200.0
    """

    idle: timedelta = SESSION_IDLE
    lifetime: timedelta = SESSION_LIFETIME

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.lifetime <= timedelta(0):
            raise InvalidInputError("session_durations_positive", field="session")


@dataclass(frozen=True)
class Caller:
    """Who sends a request, once their session or token is resolved: the account and
    what its role is bound to. ``via`` says how: ``cookie`` (the web session cookie,
    whose writes need the CSRF proof), ``session`` (a session id as bearer token, from
    ``POST /api/auth/token``) or ``token`` (a personal access token).

    >>> c = Caller(7, "a@b.fr", "A", "chef", gpo_ids=(3,), via="cookie")
    >>> c.role_label, c.actor.name
    ('Chef de secteur', 'account:7')
    """

    account_id: int
    email: str
    name: str
    role: str
    gpo_ids: tuple[int, ...] = ()
    commune_codes: tuple[str, ...] = ()
    csp_ids: tuple[int, ...] = ()
    via: str = "cookie"
    #: The partner organisation a ``partenaire`` speaks for (the actions it leads).
    partner_id: int | None = None
    #: The CSPs the caller's bindings lie in (its own for ``planificateur`` and
    #: ``referent``; those of its GPOs or communes for the others).
    area_csp_ids: tuple[int, ...] = ()

    @property
    def role_label(self) -> str:
        return ROLES[self.role]

    @property
    def actor(self) -> Actor:
        return Actor.account(self.account_id)

    @property
    def scope(self) -> Scope:
        if self.role == "admin":
            return Scope.everything()
        return Scope(
            role=self.role,
            csp_ids=frozenset(self.area_csp_ids),
            gpo_ids=frozenset(self.gpo_ids),
            commune_codes=frozenset(self.commune_codes),
            partner_id=self.partner_id,
        )


@dataclass(frozen=True)
class Scope:
    """What a caller may see: the perimeter every query is limited to
    (:mod:`api.repositories.base` turns it into SQL). ``role`` None means no limit: the
    DDSP's direction, the CLI, the demo loader and the app's own work.

    - ``csp_ids``: the CSPs whose territory, plans, GPOs and requests it may read;
    - ``gpo_ids``: for ``chef`` and ``partenaire``, the only GPOs (and their problems);
    - ``commune_codes``: for ``commune``, the only communes (and their requests);
    - ``partner_id``: for ``partenaire``, the organisation whose actions it updates.

    >>> Scope.everything().sees_csp(12)
    True
    >>> Scope(role="referent", csp_ids=frozenset({1})).sees_csp(2)
    False
    """

    role: str | None = None
    csp_ids: frozenset[int] = frozenset()
    gpo_ids: frozenset[int] = frozenset()
    commune_codes: frozenset[str] = frozenset()
    partner_id: int | None = None

    @classmethod
    def everything(cls) -> Scope:
        return cls()

    @property
    def unlimited(self) -> bool:
        return self.role is None

    @property
    def gpo_bound(self) -> bool:
        """Whether the caller sees only its GPOs' problems (``chef``, ``partenaire``)."""
        return BINDING_OF_ROLE.get(self.role or "") == "gpo"

    @property
    def reads_problem_records(self) -> bool:
        """Whether the caller may read problem records (titles, descriptions, exact
        places): the direction, and a chef or a partner for its GPOs. The other roles
        see problems only as aggregates (counts per cell, heat, trends)."""
        return self.unlimited or self.gpo_bound

    @property
    def commune_bound(self) -> bool:
        return self.role == "commune"

    def sees_csp(self, csp_id: int) -> bool:
        return self.unlimited or csp_id in self.csp_ids


# -- the audit trail ----------------------------------------------------------------------
@dataclass(frozen=True)
class Actor:
    """Who acted, as the audit trail names them: ``account:<id>``, ``cli:<system user>``
    or ``anonymous``.

    >>> Actor.cli("jdupont").name, Actor.account(7).name, Actor.anonymous().name
    ('cli:jdupont', 'account:7', 'anonymous')
    """

    name: str
    account_id: int | None = None

    @classmethod
    def account(cls, account_id: int) -> Actor:
        return cls(f"account:{account_id}", account_id)

    @classmethod
    def cli(cls, system_user: str) -> Actor:
        return cls(f"cli:{system_user}")

    @classmethod
    def anonymous(cls) -> Actor:
        return cls("anonymous")


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields whose value differs (a field missing
    on one side counts as None).

    >>> changes_between({"role": "chef", "active": True}, {"role": "chef", "active": False})
    {'active': [True, False]}
    """
    return {
        key: [before.get(key), after.get(key)]
        for key in dict.fromkeys([*before, *after])
        if before.get(key) != after.get(key)
    }
