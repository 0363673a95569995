"""Contrats de sécurité intégrée (issue 18): recorded over communes of the caller's
perimeter with their four objectives, changed with the version read (each version kept),
and the data of their diagnostic partagé, gathered from the app's own data over the
contract's territory: problems by category and trend, hot spots, safety studies and
their recommendations, conventions, the SSMSI figures, each with its source and period."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from api import clock
from api.models import Commune, CsiContract, Csp
from api.repositories import conventions as conventions_repo
from api.repositories import csi as repo
from api.repositories import problem_maps
from api.repositories.base import check_version, outside_perimeter, require
from api.schemas.csi import (
    CsiCommune,
    CsiContractCreate,
    CsiContractPublic,
    CsiContractsPublic,
    CsiContractUpdate,
    CsiObjective,
    CsiObjectivePublic,
    CsiPartnerPublic,
    CsiPartnersPublic,
    CsiVersionPublic,
    CsiVersionsPublic,
)
from api.services import audits, dashboard
from api.services.audit_log import record_write
from api.services.cartography import MIN_COMMUNE_COUNT, cached_area_maps, commune_period
from api.services.context import Context
from geo.audits import STATUSES as AUDIT_STATUSES
from geo.csi import OBJECTIVES, check_contract, in_force
from geo.errors import ForbiddenError, InvalidInputError
from geo.participation import STATUSES, departement_of, next_renewal, status_on
from geo.problems import CATEGORIES, PARTNER_TYPES
from geo.ssmsi import SsmsiFigures, departement_figures
from geo.study import ProblemFilter


# -- contracts ----------------------------------------------------------------------------
def _objectives(objectives: list[CsiObjective]) -> list[dict[str, Any]]:
    """The four objectives in order, those not given without action."""
    given = {o.objective: o for o in objectives}
    return [
        {
            "objective": code,
            "actions": [a.model_dump() for a in given[code].actions] if code in given else [],
        }
        for code in OBJECTIVES
    ]


def _public(session: Session, c: CsiContract, today: date) -> CsiContractPublic:
    names = repo.commune_names(session, c.commune_codes)
    return CsiContractPublic(
        id=c.id,
        csp_id=c.csp_id,
        name=c.name,
        intercommunalite=c.intercommunalite,
        communes=[CsiCommune(code=k, name=names.get(k, k)) for k in c.commune_codes],
        signed_on=c.signed_on,
        start_on=c.start_on,
        end_on=c.end_on,
        in_force=in_force(c.start_on, c.end_on, today),
        objectives=[
            CsiObjectivePublic(
                objective=o["objective"],
                label=OBJECTIVES.get(o["objective"], o["objective"]),
                actions=o["actions"],
            )
            for o in c.objectives
        ],
        synthetic=c.synthetic,
        version=c.version,
    )


def _snapshot(c: CsiContract) -> dict[str, Any]:
    return {
        "name": c.name,
        "intercommunalite": c.intercommunalite,
        "commune_codes": list(c.commune_codes),
        "signed_on": c.signed_on.isoformat() if c.signed_on else None,
        "start_on": c.start_on.isoformat() if c.start_on else None,
        "end_on": c.end_on.isoformat() if c.end_on else None,
        "objectives": c.objectives,
    }


def _communes_csp(session: Session, codes: list[str]) -> int:
    """The CSP of the contract (its first commune's), every commune known, in a CSP and
    in the caller's perimeter (403 otherwise)."""
    csps = repo.commune_csps(session, codes)
    unknown = [k for k in codes if k not in csps]
    if unknown:
        raise InvalidInputError("communes_unknown_or_no_csp", field="commune_codes", codes=unknown)
    outside = [k for k in codes if outside_perimeter(session, Commune, k)]
    if outside:
        raise ForbiddenError("communes_outside_perimeter", field="commune_codes", codes=outside)
    return csps[codes[0]]


def create_contract(
    ctx: Context, body: CsiContractCreate, *, today: date | None = None, synthetic: bool = False
) -> CsiContractPublic:
    codes = check_contract(body.commune_codes, body.start_on, body.end_on)
    with ctx.write() as session:
        contract = CsiContract(
            csp_id=_communes_csp(session, codes),
            name=body.name,
            intercommunalite=body.intercommunalite,
            commune_codes=codes,
            signed_on=body.signed_on,
            start_on=body.start_on,
            end_on=body.end_on,
            objectives=_objectives(body.objectives),
            synthetic=synthetic,
            version=1,
        )
        session.add(contract)
        session.flush()
        repo.add_version(session, contract, _snapshot(contract), ctx.actor.name)
        record_write(
            session, ctx, "create", "csi_contract", contract.id, detail={"communes": len(codes)}
        )
        return _public(session, contract, today or clock.today())


def update_contract(
    ctx: Context, contract_id: int, body: CsiContractUpdate, *, today: date | None = None
) -> CsiContractPublic:
    sent = body.model_fields_set - {"version"}
    with ctx.write() as session:
        contract = require(session, CsiContract, contract_id, lock=True)
        check_version(contract, body.version, "le contrat")
        before = _snapshot(contract)
        for name in ("name", "intercommunalite", "signed_on", "start_on", "end_on"):
            if name in sent:
                setattr(contract, name, getattr(body, name))
        if body.commune_codes is not None:
            contract.commune_codes = check_contract(body.commune_codes, None, None)
            contract.csp_id = _communes_csp(session, contract.commune_codes)
        if body.objectives is not None:
            contract.objectives = _objectives(body.objectives)
        check_contract(contract.commune_codes, contract.start_on, contract.end_on)
        after = _snapshot(contract)
        repo.add_version(session, contract, after, ctx.actor.name)
        record_write(
            session,
            ctx,
            "update",
            "csi_contract",
            contract.id,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        )
        return _public(session, contract, today or clock.today())


def list_contracts(
    ctx: Context, *, commune_code: str | None = None, today: date | None = None
) -> CsiContractsPublic:
    with ctx.read() as session:
        data = [
            _public(session, c, today or clock.today())
            for c in repo.read_contracts(session, commune_code=commune_code)
        ]
    return CsiContractsPublic(data=data, count=len(data))


def get_contract(ctx: Context, contract_id: int) -> CsiContractPublic:
    with ctx.read() as session:
        return _public(session, require(session, CsiContract, contract_id), clock.today())


def contract_versions(ctx: Context, contract_id: int) -> CsiVersionsPublic:
    with ctx.read() as session:
        require(session, CsiContract, contract_id)
        data = [
            CsiVersionPublic(version=v.version, at=v.created_at, actor=v.actor, snapshot=v.snapshot)
            for v in repo.versions(session, contract_id)
        ]
    return CsiVersionsPublic(data=data, count=len(data))


def lead_partners(ctx: Context, *, csp_id: int | None = None) -> CsiPartnersPublic:
    """The organisations an action's lead partner is chosen among: the partners of the
    caller's CSPs (of one: a CSP outside them is a 404), names only."""
    with ctx.read() as session:
        if csp_id is not None:
            require(session, Csp, csp_id)
        data = [
            CsiPartnerPublic(
                id=p.id,
                csp_id=p.csp_id,
                organisation=p.organisation,
                type_label=PARTNER_TYPES.get(p.type, p.type),
            )
            for p in repo.partners(session, csp_id=csp_id)
        ]
    return CsiPartnersPublic(data=data, count=len(data))


# -- the diagnostic partagé ---------------------------------------------------------------
@dataclass
class CategoryRow:
    label: str
    count: int | None  # None: 1 or 2, masked
    previous: int | None

    @property
    def trend(self) -> str:
        if self.count is None or self.previous is None:
            return "—"
        if self.previous == 0:
            return "nouveau" if self.count else "—"
        change = (self.count - self.previous) / self.previous
        return f"{'+' if change > 0 else ''}{round(100 * change)} %"


@dataclass
class Diagnostic:
    """What the diagnostic partagé of a contract shows, each part with its source and
    period."""

    contract: CsiContractPublic
    today: date
    since: date
    previous_since: date
    categories: list[CategoryRow]
    synthetic_problems: int
    hot_spots: list[tuple[str, int, int | None]]  # commune, hot cells, problems (masked)
    studies: dict[str, int]
    recommendations: list[tuple[str, str, date]]  # commune, site, handed over on
    conventions: list[tuple[str, str, str, date | None]]  # commune, quartier, status, renewal
    ssmsi: list[SsmsiFigures] = field(default_factory=list)


def _masked(n: int) -> int | None:
    return n if n == 0 or n >= MIN_COMMUNE_COUNT else None


def diagnostic(ctx: Context, contract_id: int, *, today: date | None = None) -> Diagnostic:
    """The diagnostic partagé of a contract over its communes: problems of the last 12
    months against the 12 before by category (counts under 3 masked), the hot spots of
    each commune, safety studies by status and the recommendations handed over,
    conventions de participation citoyenne, the SSMSI figures of its départements."""
    today = today or clock.today()
    since = today - timedelta(days=364)
    previous = ProblemFilter.checked(
        since - timedelta(days=365), since - timedelta(days=1), today=today
    )
    recent = ProblemFilter.checked(since, today, today=today)
    counts: dict[str, Counter[str]] = {"now": Counter(), "before": Counter()}
    hot_spots = []
    synthetic = 0
    conventions = []
    with ctx.read() as session:
        contract = _public(session, require(session, CsiContract, contract_id), today)
        for commune in contract.communes:
            area = problem_maps.commune_area(session=session, commune_code=commune.code)
            for key, where in (("now", recent), ("before", previous)):
                frame = problem_maps.monthly_counts(session=session, area=area, where=where)
                for category, n in frame.groupby("category")["n"].sum().items():
                    counts[key][str(category)] += int(n)
            maps = cached_area_maps(session, ctx.maps, area=area, where=commune_period())
            synthetic += maps.meta.synthetic_problems
            hot_spots.append((commune.name, maps.meta.hot_cells, _masked(maps.meta.problems)))
            for c in conventions_repo.read_conventions(session, commune_code=commune.code):
                conventions.append(
                    (
                        commune.name,
                        c.row.quartier,
                        STATUSES[status_on(c.dates, today)],
                        next_renewal(c.dates, today),
                    )
                )
    studies: dict[str, int] = defaultdict(int)
    recommendations = []
    for commune in contract.communes:
        for r in audits.list_requests(ctx, commune_code=commune.code).data:
            studies[AUDIT_STATUSES[r.status]] += 1
            if r.status == "preconisations_remises":
                recommendations.append((commune.name, r.site_name or r.kind_label, r.status_on))
    categories = [
        CategoryRow(label, _masked(counts["now"][code]), _masked(counts["before"][code]))
        for code, label in CATEGORIES.items()
        if counts["now"][code] or counts["before"][code]
    ]
    departements = sorted({departement_of(c.code) for c in contract.communes})
    return Diagnostic(
        contract=contract,
        today=today,
        since=since,
        previous_since=previous.since,
        categories=categories,
        synthetic_problems=synthetic,
        hot_spots=hot_spots,
        studies=dict(studies),
        recommendations=sorted(recommendations, key=lambda r: r[2]),
        conventions=conventions,
        ssmsi=[departement_figures(dashboard.DEFAULT_SSMSI_DIR, d) for d in departements],
    )
