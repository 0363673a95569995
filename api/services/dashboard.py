"""The commune's dashboard (issue 18), for the commune itself and the police roles of its
CSP: its problems as aggregates (last 90 days against the 90 before, small counts masked,
hot-spot trends; never a record), its safety-study requests by status, the GPOs whose
sectors cover it with their next meetings, its conventions de participation citoyenne
with their renewal dates and its contrats de sécurité intégrée, its recent interventions,
and the public SSMSI figures of its département with their source and vintage."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from api import clock
from api.repositories import conventions as conventions_repo
from api.repositories import csi as csi_repo
from api.repositories import dashboard as repo
from api.repositories import gpos as gpos_repo
from api.repositories import problem_maps
from api.schemas.dashboard import (
    CommuneDashboardPublic,
    CommuneGpo,
    CommuneProblemsSummary,
    ContractSummary,
    ConventionSummary,
    SsmsiFigurePublic,
    SsmsiPublic,
)
from api.services.cartography import MIN_COMMUNE_COUNT, cached_area_maps, cell_trends
from api.services.context import Context
from geo.audits import OPEN_STATUSES
from geo.csi import in_force
from geo.hotspots import TRENDS
from geo.participation import STATUSES, departement_of, ends_on, next_renewal, status_on
from geo.ssmsi import departement_figures
from geo.study import recent_periods

#: Where the SSMSI files are when the app does not say (``data/ssmsi`` of the project).
DEFAULT_SSMSI_DIR = Path(__file__).resolve().parents[2] / "data" / "ssmsi"


def _masked(n: int) -> int | None:
    return n if n == 0 or n >= MIN_COMMUNE_COUNT else None


def commune_dashboard(
    ctx: Context, code: str, *, today: date | None = None, ssmsi_dir: Path | None = None
) -> CommuneDashboardPublic:
    today = today or clock.today()
    with ctx.read() as session:
        name, population = repo.commune(session, code)
        area = problem_maps.commune_area(session=session, commune_code=code, field="code")
        before_filter, after_filter = recent_periods(today)
        before = cached_area_maps(session, ctx.maps, area=area, where=before_filter)
        after = cached_area_maps(session, ctx.maps, area=area, where=after_filter)
        by_status = repo.requests_by_status(session, code)
        gpos = gpos_repo.gpos_without_counts(
            session=session, gpo_ids=repo.covering_gpo_ids(session, code)
        )
        conventions = conventions_repo.read_conventions(session, commune_code=code)
        contracts = csi_repo.read_contracts(session, commune_code=code)
        interventions = repo.interventions_since(session, code, clock.now() - timedelta(days=30))
    trends = Counter(TRENDS[t] for t in cell_trends(before, after).tolist())
    problems = CommuneProblemsSummary(
        date_from=after.meta.date_from,
        date_to=after.meta.date_to,
        count=_masked(after.meta.problems),
        previous_count=_masked(before.meta.problems),
        hot_cells=after.meta.hot_cells,
        trends=dict(sorted(trends.items())),
        synthetic=after.meta.synthetic_problems + before.meta.synthetic_problems > 0,
    )
    ssmsi = departement_figures(ssmsi_dir or DEFAULT_SSMSI_DIR, departement_of(code))
    return CommuneDashboardPublic(
        code=code,
        name=name,
        departement=departement_of(code),
        population=population,
        problems=problems,
        requests_by_status=by_status,
        requests_open=sum(n for s, n in by_status.items() if s in OPEN_STATUSES),
        gpos=[
            CommuneGpo(
                id=g.id,
                name=g.name,
                kind=g.kind,
                next_meeting_on=g.next_meeting_on,
                next_meeting_due=g.next_meeting_due,
                overdue=g.overdue,
            )
            for g in gpos
        ],
        conventions=[
            ConventionSummary(
                id=c.row.id,
                quartier=c.row.quartier,
                status=(s := status_on(c.dates, today)),
                status_label=STATUSES[s],
                start_on=c.row.start_on,
                next_renewal_on=next_renewal(c.dates, today),
                ends_on=ends_on(c.dates),
                referents=len(c.referents),
                synthetic=c.row.synthetic,
            )
            for c in conventions
        ],
        contracts=[
            ContractSummary(
                id=c.id,
                name=c.name,
                start_on=c.start_on,
                end_on=c.end_on,
                in_force=in_force(c.start_on, c.end_on, today),
                synthetic=c.synthetic,
            )
            for c in contracts
        ],
        interventions_30_days=interventions,
        ssmsi=SsmsiPublic(
            departement=ssmsi.departement,
            source=ssmsi.source,
            vintage=ssmsi.vintage,
            licence=ssmsi.licence,
            note=ssmsi.note,
            first_year=ssmsi.first_year,
            figures=[
                SsmsiFigurePublic(
                    indicator=f.indicator,
                    unit=f.unit,
                    year=f.year,
                    count=f.count,
                    rate_per_mille=f.rate_per_mille,
                    previous_count=f.previous_count,
                    change=f.change,
                )
                for f in ssmsi.figures
            ],
        ),
    )


def commune_name(ctx: Context, code: str) -> str:
    """The commune's name; a 404 when it lies outside the caller's perimeter."""
    with ctx.read() as session:
        return repo.commune(session, code)[0]
