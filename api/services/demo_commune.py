"""The demo's commune space (issue 18), all of it fictitious: conventions de
participation citoyenne in the CSP's communes (one over a quartier of the largest, in
every status) with volunteer référents drawn by :class:`geo.synth_partners.People`, a
contrat de sécurité intégrée over the three largest communes, the demo mayor's alert
preferences, and a few interventions of the last weeks (recorded without alerting
anyone)."""

from __future__ import annotations

from datetime import date, time, timedelta

import numpy as np
import shapely

from api import clock
from api.repositories import alerts as alerts_repo
from api.repositories import dashboard as repo
from api.repositories import problem_maps
from api.schemas import GeometryIn
from api.schemas.csi import CsiAction, CsiContractCreate, CsiObjective
from api.schemas.participation import (
    ConventionCreate,
    ConventionDenounce,
    ConventionReferentIn,
    SignatoryIn,
)
from api.services import conventions, csi
from api.services.context import Context
from api.services.demo_accounts import DEMO_ACCOUNTS
from geo.participation import INTERVENTION_NATURES, add_years, points_inside
from geo.synth_partners import People

#: How many fictitious interventions the demo records, over how many days.
INTERVENTIONS, INTERVENTION_DAYS = 8, 28


def _signatories(signed_on: date | None) -> list[SignatoryIn]:
    return [
        SignatoryIn(role="prefet", name="Préfet du département (fictif)", signed_on=signed_on),
        SignatoryIn(role="maire", name="Maire de la commune (fictif)", signed_on=signed_on),
        SignatoryIn(role="chef_csp", name="Chef de la CSP (fictif)", signed_on=signed_on),
    ]


def _referents(people: People, n: int) -> list[ConventionReferentIn]:
    return [
        ConventionReferentIn(
            name=people.draw().name, phone=f"06 00 00 {10 + i:02d} {20 + i:02d}", street=None
        )
        for i in range(n)
    ]


def load_demo_commune_space(
    ctx: Context, *, csp_id: int, seed: int = 0, today: date | None = None
) -> int:
    """Record the demo's fictitious conventions, preferences and interventions for the
    CSP; the number of conventions recorded."""
    today = today or clock.today()
    rng = np.random.default_rng(seed + 18)
    people = People(rng)
    with ctx.read() as session:
        communes = repo.csp_communes(session, csp_id)
        outlines = {
            code: problem_maps.commune_area(session=session, commune_code=code).outline
            for code, _, _ in communes[:5]
        }
        mayor = repo.account_id(session, DEMO_ACCOUNTS["commune"])
    if len(communes) < 5:
        return 0
    (big, _, _), *others = communes[:5]
    centre = outlines[big].representative_point()
    quartier = shapely.box(centre.x - 0.006, centre.y - 0.004, centre.x + 0.006, centre.y + 0.004)
    quartier = quartier.intersection(outlines[big])
    four_years = add_years(today, -4)
    plans = [
        # the largest commune: a quartier, renewed once, next renewal in two years
        (big, "Quartier centre (fictif)", quartier, four_years, 3),
        # a commune signed two years ago (first term)
        (others[0][0], "Toute la commune (fictif)", None, add_years(today, -2), 2),
        # its renewal comes within the reminders' notice
        (others[1][0], "Toute la commune (fictif)", None, add_years(today + timedelta(40), -3), 2),
        # one in project
        (others[2][0], "Toute la commune (fictif)", None, None, 0),
        # one signed, then denounced: it runs to the end of its term
        (others[3][0], "Toute la commune (fictif)", None, add_years(today, -5), 1),
    ]
    recorded = []
    for code, name, geom, start, referents in plans:
        signed = start - timedelta(days=20) if start else None
        created = conventions.create_convention(
            ctx,
            ConventionCreate(
                commune_code=code,
                quartier=name,
                whole_commune=geom is None,
                quartier_geom=GeometryIn(**shapely.geometry.mapping(geom)) if geom else None,
                signatories=_signatories(signed),
                start_on=start,
                note="Convention fictive (démonstration).",
                referents=_referents(people, referents),
            ),
            today=today,
            synthetic=True,
        )
        recorded.append(created)
    conventions.denounce_convention(
        ctx,
        recorded[-1].id,
        ConventionDenounce(denounced_on=today - timedelta(days=30), reason="Démonstration"),
        today=today,
    )
    csi.create_contract(
        ctx,
        CsiContractCreate(
            name="Contrat de sécurité intégrée de l'agglomération (fictif)",
            commune_codes=[code for code, _, _ in communes[:3]],
            signed_on=add_years(today, -1) - timedelta(days=15),
            start_on=add_years(today, -1),
            end_on=add_years(today, 2),
            objectives=[
                CsiObjective(
                    objective="tranquillite_securite",
                    actions=[
                        CsiAction(
                            title="Patrouilles conjointes police nationale et municipale (fictif)",
                            lead_partner="Police municipale (fictive)",
                            indicators=["Patrouilles par mois", "Problématiques résolues"],
                        )
                    ],
                ),
                CsiObjective(
                    objective="aide_victimes",
                    actions=[
                        CsiAction(
                            title="Permanence d'aide aux victimes (fictif)",
                            lead_partner="Association d'aide aux victimes (fictive)",
                            indicators=["Personnes reçues"],
                        )
                    ],
                ),
            ],
        ),
        today=today,
        synthetic=True,
    )
    with ctx.write() as session:
        if mayor is not None:
            alerts_repo.save_preference(
                session,
                mayor,
                {
                    "channels": ["email", "sms"],
                    "natures": [],
                    "quiet_from": time(22, 0),
                    "quiet_to": time(7, 0),
                    "phone": "0600000000",
                },
            )
        natures = list(INTERVENTION_NATURES)
        now = clock.now()
        for i, point in enumerate(points_inside(outlines[big], INTERVENTIONS, rng)):
            at = now - timedelta(minutes=int(rng.integers(60, INTERVENTION_DAYS * 24 * 60)))
            alerts_repo.insert_intervention(
                session,
                {
                    "csp_id": csp_id,
                    "commune_code": big,
                    "occurred_at": at,
                    "nature": natures[i % len(natures)],
                    "place": "Voie publique",
                    "synthetic": True,
                },
                point,
            )
    return len(recorded)
