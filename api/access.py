"""Who may call each route: the policies, one per kind of use.

Every route, of the API and of the pages, declares exactly one policy in its decorator
(``dependencies=[access.PLANNING]``); ``tests/test_access.py`` walks the app's routes and
fails on a route without one, and tries every route with every role.

A policy checks the caller's *role* (401 when anonymous, 403 for a role it does not
admit). The caller's *perimeter* — which CSPs, GPOs, communes — is not the route's
business: the context every service receives carries it (:class:`geo.accounts.Scope`),
and the repositories limit their queries to it (:func:`api.repositories.base.visible`),
so that a list holds only what the caller may see and an id outside it is a 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Depends, Request

from api.deps import resolved_caller
from geo.accounts import ROLES, Caller
from geo.errors import AuthenticationRequiredError, ForbiddenError


class Policy:
    """A FastAPI dependency admitting the callers of some roles (or anyone, when
    ``roles`` is None). ``name`` is what the route table and the tests call it."""

    def __init__(self, name: str, roles: Iterable[str] | None) -> None:
        self.name = name
        self.roles = None if roles is None else frozenset(roles)
        unknown = (self.roles or frozenset()) - set(ROLES)
        if unknown:
            raise ValueError(f"policy {name}: unknown roles {sorted(unknown)}")

    def __repr__(self) -> str:
        return f"Policy({self.name!r})"

    def admits(self, role: str | None) -> bool:
        """Whether a caller of this role (None: anonymous) passes."""
        return self.roles is None or (role is not None and role in self.roles)

    async def __call__(self, request: Request) -> Caller | None:
        # on the event loop; the caller's check alone in a worker thread (api.deps)
        caller = await resolved_caller(request)
        if self.roles is None:
            return caller
        if caller is None:
            raise AuthenticationRequiredError()
        if caller.role not in self.roles:
            allowed = ", ".join(ROLES[r] for r in ROLES if r in self.roles)
            raise ForbiddenError("access_role_refused", role=caller.role_label, allowed=allowed)
        return caller


class OpenPolicy(Policy):
    """The policy that admits everyone: nothing to check, so nothing is resolved, and it
    runs on the event loop (a sync dependency would take a worker thread: the health
    checks must answer while slow requests hold them all)."""

    async def __call__(self, request: Request) -> None:  # noqa: ARG002
        return None


#: Every policy, in the order declared below (the pages tell their scripts which ones
#: the caller passes).
POLICIES: list[Policy] = []


def _policy(name: str, roles: Iterable[str] | None) -> Any:
    policy = Policy(name, roles) if roles is not None else OpenPolicy(name, roles)
    POLICIES.append(policy)
    return Depends(policy)


ADMIN_ROLE = ("admin",)

#: Anyone, signed in or not: health, codes and labels, sign-in, the documentation.
PUBLIC = _policy("public", None)
#: Any signed-in person: their account, the CSPs and communes of their perimeter, the
#: territorial layers, the address search.
SIGNED_IN = _policy("signed_in", ROLES)
#: The DDSP's direction alone: the audit trail, the accounts, imports of records.
ADMIN = _policy("admin", ADMIN_ROLE)
#: The état-major: grids, layers and addresses imports, sector plans and their editing.
PLANNING = _policy("planning", (*ADMIN_ROLE, "planificateur"))
#: The sector plans and their outlines: the état-major's drafts, and the adopted plan that
#: the GPOs' maps draw (chefs and partners see the adopted plans only).
SECTORS_READ = _policy("sectors_read", (*ADMIN_ROLE, "planificateur", "chef", "partenaire"))
#: Activity reports (bilans) of CSPs and sectors.
REPORTS = _policy("reports", (*ADMIN_ROLE, "planificateur"))
#: Aggregated maps of problems (hot spots, heat, trend): no record, no description.
PROBLEM_MAPS = _policy("problem_maps", (*ADMIN_ROLE, "planificateur", "chef", "partenaire"))
#: Problem records (titles, descriptions, exact places), their actions and meetings.
PROBLEM_RECORDS = _policy("problem_records", (*ADMIN_ROLE, "chef", "partenaire"))
#: Recording problems, their steps, actions and evaluations: the chef de secteur.
PROBLEM_WRITE = _policy("problem_write", (*ADMIN_ROLE, "chef"))
#: Updating an action: its pilot partner too (only the actions its organisation leads).
ACTION_UPDATE = _policy("action_update", (*ADMIN_ROLE, "chef", "partenaire"))
#: The GPOs and their cadence (no contact detail).
GPO_READ = _policy("gpo_read", (*ADMIN_ROLE, "planificateur", "chef", "partenaire"))
#: A GPO's composition, meetings and partners (with their contact details).
GPO_MEMBERS = _policy("gpo_members", (*ADMIN_ROLE, "chef", "partenaire"))
#: Composing and running a GPO: its chef.
GPO_WRITE = _policy("gpo_write", (*ADMIN_ROLE, "chef"))
#: Creating a thematic GPO across sectors: the état-major.
GPO_CREATE = _policy("gpo_create", (*ADMIN_ROLE, "planificateur"))
#: A commune's picture: its problems per cell (small counts masked), camera sites.
COMMUNE_PICTURE = _policy("commune_picture", (*ADMIN_ROLE, "planificateur", "commune"))
#: Safety-study requests: the communes that file them, the référents who work them.
STUDY_REQUESTS = _policy("study_requests", (*ADMIN_ROLE, "commune", "referent"))
#: Working the queue: steps, recommendations, référents' workload.
STUDY_WORK = _policy("study_work", (*ADMIN_ROLE, "referent"))
#: The commune's space: its conventions de participation citoyenne (with their volunteer
#: référents' personal data), its interventions and alerts' delivery log, its dashboard:
#: the police roles and the commune itself (never the GPO partners).
COMMUNE_SPACE = _policy(
    "commune_space", (*ADMIN_ROLE, "planificateur", "chef", "referent", "commune")
)
#: Recording and changing conventions: the état-major and the commune.
CONVENTION_WRITE = _policy("convention_write", (*ADMIN_ROLE, "planificateur", "commune"))
#: Recording and changing contrats de sécurité intégrée: the état-major.
CONTRACT_WRITE = _policy("contract_write", (*ADMIN_ROLE, "planificateur"))
#: Recording an intervention (which alerts the mayor): the police roles.
INTERVENTION_WRITE = _policy("intervention_write", (*ADMIN_ROLE, "planificateur", "chef"))
#: A mayor's own alert preferences: a commune account.
ALERT_PREFERENCES = _policy("alert_preferences", ("commune",))


def policy_of(dependencies: Iterable[Any]) -> list[Policy]:
    """The policies among a route's dependencies (``route.dependant.dependencies``)."""
    return [d.call for d in dependencies if isinstance(getattr(d, "call", None), Policy)]
