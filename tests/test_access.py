"""Who may call what: every route declares one policy, and every route answers every role
as its policy says (the role-by-route matrix, generated from the app's route table so that
a new route cannot be forgotten)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.access import Policy, policy_of
from api.config import Settings
from psq.app import create_app
from tests.access_world import World, other_gpo_problem, our_routes, url_of
from tests.clock import TODAY


def test_every_route_declares_exactly_one_policy() -> None:
    missing, several = [], []
    app = create_app(Settings(database_url="postgresql+psycopg://unused/x"))
    routes = our_routes(app)
    for route in routes:
        policies = policy_of(route.dependant.dependencies)
        name = f"{sorted(route.methods)} {route.path}"
        if not policies:
            missing.append(name)
        elif len(policies) > 1:
            several.append(name)
    assert missing == [], "routes without a policy (api/access.py)"
    assert several == [], "routes with several policies"
    assert len(routes) > 80


def _expected(policy: Policy, role: str | None, page: bool) -> str:
    if policy.admits(role):
        return "admitted"
    if role is None:
        return "303 → /connexion" if page else "401"
    return "403"


def _observed(status: int, location: str, admitted: bool) -> str:
    if status == 303 and location.startswith("/connexion") and not admitted:
        return "303 → /connexion"
    if status in (401, 403):
        return str(status)
    return "admitted" if admitted else f"{status}"


def test_role_route_matrix(world: World) -> None:
    """Every route, for anonymous and every role: refused (401, or the sign-in page for a
    page; 403 for a role the policy does not admit) or admitted (anything but 401, 403
    and a server error)."""
    mismatches, errors, tried = [], [], 0
    for route in our_routes(world.client.app):  # type: ignore[arg-type]
        (policy,) = policy_of(route.dependant.dependencies)
        page = not route.path.startswith(("/api/", "/ogc", "/tiles/"))  # data: a 401
        url = url_of(route.path, world.ids)
        for method in sorted(route.methods - {"HEAD"}):
            for role, headers in world.headers.items():
                response = world.client.request(
                    method, url, headers=headers, follow_redirects=False
                )
                tried += 1
                expected = _expected(policy, role, page)
                observed = _observed(
                    response.status_code,
                    response.headers.get("location", ""),
                    expected == "admitted",
                )
                if response.status_code >= 500:
                    errors.append(f"{method} {url} as {role}: {response.status_code}")
                elif observed != expected:
                    mismatches.append(
                        f"{method} {route.path} as {role or 'anonymous'}: expected "
                        f"{expected}, got {response.status_code} {response.text[:120]}"
                    )
                elif response.status_code == 403:
                    assert "Accès refusé" in response.text, (method, url, role)
    assert errors == [], "\n".join(errors)
    assert mismatches == [], "\n".join(mismatches)
    assert tried > 400


# -- perimeters ---------------------------------------------------------------------------
def test_a_chef_sees_and_writes_only_its_gpo(world: World) -> None:
    client, ids, chef = world.client, world.ids, world.headers["chef"]
    admin = world.headers["admin"]
    other_gpo, other_problem = other_gpo_problem(world)
    csp = ids["csp_id"]

    # Lists hold its GPO's records only, counts included.
    mine = client.get(f"/api/csp/{csp}/problems", headers=chef).json()["features"]
    everything = client.get(f"/api/csp/{csp}/problems", headers=admin).json()["features"]
    assert mine and {f["properties"]["gpo_id"] for f in mine} == {ids["gpo_id"]}
    assert len(mine) == sum(f["properties"]["gpo_id"] == ids["gpo_id"] for f in everything)
    gpos_seen = client.get(f"/api/csp/{csp}/gpos", headers=chef).json()
    assert [g["id"] for g in gpos_seen["data"]] == [ids["gpo_id"]] and gpos_seen["count"] == 1

    # Of the sector plans, it sees the adopted one its maps draw, never a draft.
    imported = client.post(
        f"/api/csp/{csp}/plans/import",
        files={
            "file": (
                "secteurs.geojson",
                client.get(f"/api/plans/{ids['plan_id']}/export", headers=admin).content,
            )
        },
        data={"name": "Secteurs actuels"},
        headers=admin,
    )
    assert imported.status_code == 201, imported.text
    statuses = {
        p["status"] for p in client.get(f"/api/csp/{csp}/plans", headers=admin).json()["data"]
    }
    assert {"adopted", "draft"} <= statuses
    seen = client.get(f"/api/csp/{csp}/plans", headers=chef).json()["data"]
    assert [p["id"] for p in seen] == [ids["plan_id"]]
    assert client.get(f"/api/plans/{imported.json()['id']}", headers=chef).status_code == 404

    # Another GPO's records do not exist for it: 404, reads and writes alike.
    assert client.get(f"/api/problems/{other_problem}", headers=chef).status_code == 404
    assert client.get(f"/api/gpos/{other_gpo}", headers=chef).status_code == 404
    assert client.get(f"/api/gpos/{other_gpo}/meetings", headers=chef).status_code == 404
    step = {"status": "actions_en_cours", "on": str(TODAY)}
    moved = client.post(f"/api/problems/{other_problem}/transitions", json=step, headers=chef)
    assert moved.status_code == 404
    maps = client.get(f"/api/csp/{csp}/hotspots", params={"gpo": other_gpo}, headers=chef)
    assert maps.status_code == 404
    # Without a GPO, the maps are those of its own GPO, not of the CSP.
    own = client.get(f"/api/csp/{csp}/trend", headers=chef)
    assert own.status_code == 200
    assert (
        own.json()
        == client.get(f"/api/csp/{csp}/trend", params={"gpo": ids["gpo_id"]}, headers=admin).json()
    )

    # Recording a problem: in its sectors, yes; in another GPO's, refused (403).
    def place_of(problem_id: int) -> dict[str, Any]:
        return client.get(f"/api/problems/{problem_id}", headers=admin).json()["geometry"]

    body = {"category": "rassemblements", "title": "Rassemblement", "reported_on": str(TODAY)}
    here = client.post(
        f"/api/csp/{csp}/problems",
        json={**body, "geometry": place_of(ids["problem_id"])},
        headers=chef,
    )
    assert here.status_code == 201, here.text
    there = client.post(
        f"/api/csp/{csp}/problems",
        json={**body, "geometry": place_of(other_problem)},
        headers=chef,
    )
    assert there.status_code == 403 and there.json()["type"] == "ForbiddenError"
    assert "hors des secteurs de vos GPO" in there.json()["detail"]
    titles = [f["properties"]["title"] for f in everything]
    after = client.get(f"/api/csp/{csp}/problems", headers=admin).json()["features"]
    assert len(after) == len(titles) + 1  # the refused one was not written


def test_a_partner_updates_only_the_actions_its_organisation_leads(world: World) -> None:
    client, ids = world.client, world.ids
    partner, admin = world.headers["partenaire"], world.headers["admin"]
    other = client.post(
        f"/api/problems/{ids['problem_id']}/actions", json={"type": "patrouilles"}, headers=admin
    ).json()["actions"][-1]
    done = {"status": "en_cours"}
    updated = client.patch(f"/api/actions/{ids['action_id']}", json=done, headers=partner)
    assert updated.status_code == 200, updated.text
    assert updated.json()["status"] == "en_cours"
    refused = client.patch(f"/api/actions/{other['id']}", json=done, headers=partner)
    assert refused.status_code == 403 and "autre partenaire" in refused.json()["detail"]
    assert client.get(f"/api/problems/{ids['problem_id']}", headers=partner).status_code == 200
    # It reads its GPO's problems but records nothing.
    step = {"status": "actions_en_cours", "on": str(TODAY)}
    moved = client.post(
        f"/api/problems/{ids['problem_id']}/transitions", json=step, headers=partner
    )
    assert moved.status_code == 403


def test_a_commune_sees_its_own_requests_and_aggregates_only(world: World) -> None:
    client, ids = world.client, world.ids
    commune, admin = world.headers["commune"], world.headers["admin"]
    every = client.get("/api/audits", headers=admin).json()["data"]
    mine = client.get("/api/audits", headers=commune).json()["data"]
    code = client.get("/api/me", headers=commune).json()["commune_codes"][0]
    assert mine and {r["commune_code"] for r in mine} == {code}
    assert len(mine) == sum(r["commune_code"] == code for r in every)
    foreign = next(r for r in every if r["commune_code"] != code)
    assert client.get(f"/api/audits/{foreign['id']}", headers=commune).status_code == 404
    assert client.get(f"/api/audits/{foreign['id']}/document", headers=commune).status_code == 404
    assert client.get(f"/api/audits/{mine[0]['id']}", headers=commune).status_code == 200
    # Its picture, aggregated; another commune's does not exist for it.
    assert client.get(f"/api/communes/{code}/hotspots", headers=commune).status_code == 200
    other = foreign["commune_code"]
    assert client.get(f"/api/communes/{other}/hotspots", headers=commune).status_code == 404
    assert client.get(f"/api/communes/{other}/coverage", headers=commune).status_code == 404
    # Filing for another commune is a write outside its perimeter: 403, nothing written.
    request = {
        "commune_code": other,
        "kind": "espace_public",
        "site": foreign["geometry"],
        "need": "Étude de la place",
        "contact_name": "Mairie",
        "contact_email": "mairie@example.fr",
    }
    filed = client.post("/api/audits", json=request, headers=commune)
    assert filed.status_code == 403 and filed.json()["fields"][0]["field"] == "commune_code"
    assert len(client.get("/api/audits", headers=admin).json()["data"]) == len(every)
    # Never a problem record.
    assert client.get(f"/api/problems/{ids['problem_id']}", headers=commune).status_code == 403


@pytest.mark.parametrize("role", ["planificateur", "referent"])
def test_another_csp_does_not_exist_for_a_csp_bound_role(
    world: World, massy: int, role: str
) -> None:
    client, headers = world.client, world.headers[role]
    assert [c["id"] for c in client.get("/api/csp", headers=headers).json()["data"]] == [
        world.ids["csp_id"]
    ]
    assert len(client.get("/api/csp", headers=world.headers["admin"]).json()["data"]) == 2
    assert client.get(f"/api/csp/{massy}", headers=headers).status_code == 404
    if role == "planificateur":
        assert client.get(f"/api/csp/{massy}/plans", headers=headers).status_code == 404
        assert client.get(f"/api/csp/{massy}/grids", headers=headers).status_code == 404
        built = client.post(f"/api/csp/{massy}/grids", json={"resolution": 8}, headers=headers)
        assert built.status_code == 404
    else:
        queue = client.get("/api/audits", params={"csp": massy}, headers=headers)
        assert queue.status_code == 404
        assert client.get(f"/api/csp/{massy}/referents", headers=headers).status_code == 404


def test_every_id_route_hides_other_perimeters(world: World, massy: int) -> None:
    """Every route with an id in its path, called by each bound role with the ids of
    another perimeter (another CSP, GPO, problem, action, commune, request, a draft plan):
    a role the policy admits gets a 404 — never the row — and a 422 at most for a write
    whose body is checked first."""
    client, ids, admin = world.client, world.ids, world.headers["admin"]
    other_gpo, other_problem = other_gpo_problem(world)
    other_action = client.post(
        f"/api/problems/{other_problem}/actions", json={"type": "patrouilles"}, headers=admin
    ).json()["actions"][-1]["id"]
    code = client.get("/api/me", headers=world.headers["commune"]).json()["commune_codes"][0]
    requests = client.get("/api/audits", headers=admin).json()["data"]
    other_request = next(r for r in requests if r["commune_code"] != code)
    # What lies outside each role's perimeter: another CSP for all; within the CSP,
    # another GPO's rows for a chef or a partner, another commune's for a commune.
    other_csp = {"csp_id": massy, "code": "91377"}
    other_meeting = client.get(f"/api/gpos/{other_gpo}/meetings", headers=admin).json()
    gpo_bound = {
        **other_csp,
        "gpo_id": other_gpo,
        "problem_id": other_problem,
        "action_id": other_action,
        "meeting_id": other_meeting["data"][0]["id"],
    }
    foreign_of = {
        "planificateur": other_csp,
        "referent": other_csp,
        "chef": gpo_bound,
        "partenaire": gpo_bound,
        "commune": {
            **other_csp,
            "code": other_request["commune_code"],
            "request_id": other_request["id"],
        },
    }
    leaks, tried = [], 0
    for route in our_routes(world.client.app):  # type: ignore[arg-type]
        (policy,) = policy_of(route.dependant.dependencies)
        for role, foreign in foreign_of.items():
            names = set(re.findall(r"\{(\w+)(?::\w+)?\}", route.path)) & set(foreign)
            if not names or not policy.admits(role):
                continue
            # Ids of the caller's own perimeter, but the one tried from another.
            for name in names:
                url = url_of(route.path, {**ids, name: foreign[name]})
                for method in sorted(route.methods - {"HEAD"}):
                    response = client.request(method, url, headers=world.headers[role])
                    tried += 1
                    has_body = route.dependant.body_params or route.dependant.query_params
                    allowed = {404, 422} if method != "GET" and has_body else {404}
                    if response.status_code not in allowed:
                        leaks.append(
                            f"{method} {route.path} as {role} with another {name}: "
                            f"{response.status_code} {response.text[:100]}"
                        )
    assert leaks == [], "\n".join(leaks)
    assert tried > 40
