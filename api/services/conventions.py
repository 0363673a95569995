"""Conventions de participation citoyenne (issue 18): recorded over a quartier drawn on the
map or the whole commune, checked (the quartier inside its commune, no two conventions
over one quartier at once, the dates in order), updated and denounced; their terms and
tacit renewals (:mod:`geo.participation`); the figures per CSP and département; the map
layer of covered quartiers; the reminders before each renewal date."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import shapely
from sqlalchemy.orm import Session

from api import clock
from api.models import Commune, Convention
from api.repositories import conventions as repo
from api.repositories import notifications as outbox
from api.repositories import problem_maps
from api.repositories.base import check_version, multipolygon, outside_perimeter, require
from api.repositories.conventions import ConventionRow, dates_of
from api.schemas import Feature, FeatureCollection, Geometry
from api.schemas.participation import (
    ConventionCreate,
    ConventionDenounce,
    ConventionFigures,
    ConventionFiguresPublic,
    ConventionPublic,
    ConventionReferentPublic,
    ConventionsPublic,
    ConventionUpdate,
    CoveredQuartier,
    SignatoryIn,
    SignatoryPublic,
)
from api.services.audit_log import record_write
from api.services.context import Context
from geo.accounts import changes_between
from geo.errors import ForbiddenError, InvalidInputError
from geo.geometry import check_inside_territory, checked_geometry
from geo.participation import (
    RENEWAL_NOTICE_DAYS,
    SIGNATORIES,
    STATUSES,
    ConventionDates,
    check_dates,
    check_denunciation,
    current_term,
    departement_of,
    ends_on,
    next_renewal,
    renewals_done,
    status_on,
)

#: Tolerance (metres) of the check that a quartier lies in its commune.
COMMUNE_TOLERANCE_M = 25.0
#: Two quartiers overlap when their intersection exceeds this share of the smaller one
#: (drawn edges that meet or slightly cross do not).
OVERLAP_SHARE = 0.01
#: The statuses of a convention in force.
IN_FORCE = ("signee", "reconduite", "denoncee")


# -- answers ------------------------------------------------------------------------------
def _signatures(signatories: Iterable[dict[str, Any]]) -> list[tuple[str, date | None]]:
    return [
        (s["role"], date.fromisoformat(s["signed_on"]) if s.get("signed_on") else None)
        for s in signatories
    ]


def _public(c: ConventionRow, today: date) -> ConventionPublic:
    row, d = c.row, c.dates
    status = status_on(d, today)
    geom = c.geom
    return ConventionPublic(
        id=row.id,
        csp_id=row.csp_id,
        commune_code=row.commune_code,
        commune=c.commune,
        departement=departement_of(row.commune_code),
        quartier=row.quartier,
        whole_commune=row.whole_commune,
        signatories=[
            SignatoryPublic(
                role=s["role"],
                role_label=SIGNATORIES.get(s["role"], s["role"]),
                name=s["name"],
                signed_on=s.get("signed_on"),
            )
            for s in row.signatories
        ],
        start_on=row.start_on,
        end_on=row.end_on,
        denounced_on=row.denounced_on,
        denunciation_reason=row.denunciation_reason,
        note=row.note,
        status=status,
        status_label=STATUSES[status],
        current_term=current_term(row.start_on, today)
        if status in IN_FORCE and row.start_on
        else None,
        renewals=renewals_done(d, today),
        next_renewal_on=next_renewal(d, today),
        ends_on=ends_on(d),
        referents=[
            ConventionReferentPublic(
                id=r.id, name=r.name, phone=r.phone, email=r.email, street=r.street
            )
            for r in c.referents
        ],
        synthetic=row.synthetic,
        version=row.version,
        quartier_geom=Geometry(**shapely.geometry.mapping(geom)) if geom is not None else None,
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _one(session: Session, convention_id: int, today: date) -> ConventionPublic:
    (found,) = repo.read_conventions(session, ids=[convention_id])
    return _public(found, today)


# -- checks -------------------------------------------------------------------------------
def _period(d: ConventionDates) -> tuple[date, date]:
    return d.start_on or date.min, ends_on(d) or date.max


def _check_overlap(
    session: Session,
    *,
    commune_code: str,
    convention_id: int | None,
    whole: bool,
    geom: shapely.Geometry | None,
    dates: ConventionDates,
    today: date,
) -> None:
    """No two conventions over one quartier at once: refuse when another convention of
    the commune covers part of the same area over part of the same period."""
    start, end = _period(dates)
    for other, other_geom in repo.others_of_commune(session, commune_code, convention_id):
        o = dates_of(other)
        o_start, o_end = _period(o)
        if o_start > end or start > o_end:
            continue
        if not (whole or other.whole_commune):
            assert geom is not None and other_geom is not None
            shared = geom.intersection(other_geom).area
            if shared <= OVERLAP_SHARE * min(geom.area, other_geom.area):
                continue
        field = "whole_commune" if whole else "quartier_geom"
        raise InvalidInputError(
            f"{field} : ce quartier est déjà couvert par la convention n° {other.id} "
            f"« {other.quartier} » ({STATUSES[status_on(o, today)].lower()}) sur la même "
            "période ; une convention par quartier à la fois"
        )


def _quartier(
    session: Session, commune_code: str, whole: bool, drawn: Geometry | None
) -> tuple[int, shapely.Geometry | None]:
    """The commune's CSP (404 outside the perimeter, 403 for another commune's account)
    and the quartier drawn, checked inside the commune."""
    if outside_perimeter(session, Commune, commune_code):
        raise ForbiddenError(
            f"commune_code : la commune {commune_code} n'est pas dans votre périmètre ; "
            "une commune enregistre ses propres conventions."
        )
    area = problem_maps.commune_area(session=session, commune_code=commune_code)
    if whole or drawn is None:
        return area.csp_id, None
    geom = checked_geometry(drawn.model_dump(), "quartier_geom", {"Polygon", "MultiPolygon"})
    try:
        check_inside_territory(
            geom,
            area.outline,
            field="quartier_geom",
            territory_name=f"commune {area.commune_code}",
            tolerance_m=COMMUNE_TOLERANCE_M,
        )
    except InvalidInputError:
        raise InvalidInputError(
            f"quartier_geom : le quartier dessiné sort de la commune {area.name} "
            f"({area.commune_code}) ; dessinez-le à l'intérieur de ses limites"
        ) from None
    return area.csp_id, multipolygon(geom)


def _signatories(signatories: list[SignatoryIn]) -> list[dict[str, Any]]:
    return [
        {
            "role": s.role,
            "name": s.name,
            "signed_on": s.signed_on.isoformat() if s.signed_on else None,
        }
        for s in signatories
    ]


# -- use cases ----------------------------------------------------------------------------
def create_convention(
    ctx: Context, body: ConventionCreate, *, today: date | None = None, synthetic: bool = False
) -> ConventionPublic:
    today = today or clock.today()
    signatures = [(s.role, s.signed_on) for s in body.signatories]
    check_dates(body.start_on, body.end_on, signatures)
    with ctx.write() as session:
        csp_id, geom = _quartier(session, body.commune_code, body.whole_commune, body.quartier_geom)
        repo.lock_commune(session, body.commune_code)
        row = Convention(
            csp_id=csp_id,
            commune_code=body.commune_code,
            quartier=body.quartier,
            whole_commune=body.whole_commune,
            signatories=_signatories(body.signatories),
            start_on=body.start_on,
            end_on=body.end_on,
            note=body.note,
            synthetic=synthetic,
            version=1,
        )
        _check_overlap(
            session,
            commune_code=body.commune_code,
            convention_id=None,
            whole=body.whole_commune,
            geom=geom,
            dates=dates_of(row),
            today=today,
        )
        repo.set_geom(row, geom)
        session.add(row)
        session.flush()
        repo.replace_referents(session, row.id, body.referents)
        record_write(
            session,
            ctx,
            "create",
            "convention",
            row.id,
            detail={
                "commune_code": body.commune_code,
                "whole_commune": body.whole_commune,
                "referents": len(body.referents),
            },
        )
        session.flush()
        return _one(session, row.id, today)


def update_convention(
    ctx: Context, convention_id: int, body: ConventionUpdate, *, today: date | None = None
) -> ConventionPublic:
    today = today or clock.today()
    sent = body.model_fields_set - {"version"}
    with ctx.write() as session:
        row = require(session, Convention, convention_id, lock=True)
        check_version(row, body.version, "la convention")
        repo.lock_commune(session, row.commune_code)
        before = {
            "quartier": row.quartier,
            "whole_commune": row.whole_commune,
            "start_on": row.start_on,
            "end_on": row.end_on,
            "signatories": row.signatories,
            "note": row.note,
        }
        whole = body.whole_commune if "whole_commune" in sent else row.whole_commune
        assert whole is not None
        (current,) = repo.read_conventions(session, ids=[row.id])
        geom = current.geom
        if "whole_commune" in sent or "quartier_geom" in sent:
            drawn = body.quartier_geom if "quartier_geom" in sent else None
            if not whole and drawn is None and geom is None:
                raise InvalidInputError("quartier_geom : dessinez le quartier de la convention")
            if whole or drawn is not None:
                _, geom = _quartier(session, row.commune_code, whole, drawn)
        for field in ("quartier", "start_on", "end_on", "note"):
            if field in sent:
                setattr(row, field, getattr(body, field))
        if body.signatories is not None:
            roles = [s.role for s in body.signatories]
            if len(set(roles)) != len(roles):
                raise InvalidInputError("signatories : un signataire apparaît deux fois")
            row.signatories = _signatories(body.signatories)
        row.whole_commune = whole
        check_dates(row.start_on, row.end_on, _signatures(row.signatories))
        _check_overlap(
            session,
            commune_code=row.commune_code,
            convention_id=row.id,
            whole=whole,
            geom=None if whole else geom,
            dates=dates_of(row),
            today=today,
        )
        repo.set_geom(row, None if whole else geom)
        if body.referents is not None:
            repo.replace_referents(session, row.id, body.referents)
        changes = changes_between(
            {k: _plain(v) for k, v in before.items()},
            {k: _plain(getattr(row, k)) for k in before},
        )
        record_write(
            session,
            ctx,
            "update",
            "convention",
            row.id,
            changes=changes,
            detail={"referents": len(body.referents)} if body.referents is not None else None,
        )
        session.flush()
        return _one(session, row.id, today)


def denounce_convention(
    ctx: Context, convention_id: int, body: ConventionDenounce, *, today: date | None = None
) -> ConventionPublic:
    """Denounce a convention: it runs to the end of its current term, then ends."""
    today = today or clock.today()
    with ctx.write() as session:
        row = require(session, Convention, convention_id, lock=True)
        check_version(row, body.version, "la convention")
        check_denunciation(dates_of(row), body.denounced_on)
        row.denounced_on = body.denounced_on
        row.denunciation_reason = body.reason
        record_write(
            session,
            ctx,
            "denounce",
            "convention",
            row.id,
            changes={"denounced_on": [None, body.denounced_on.isoformat()]},
        )
        session.flush()
        return _one(session, row.id, today)


def read_convention(
    ctx: Context, convention_id: int, *, today: date | None = None
) -> ConventionPublic:
    with ctx.read() as session:
        require(session, Convention, convention_id)
        return _one(session, convention_id, today or clock.today())


def list_conventions(
    ctx: Context,
    *,
    commune_code: str | None = None,
    csp_id: int | None = None,
    today: date | None = None,
) -> ConventionsPublic:
    today = today or clock.today()
    with ctx.read() as session:
        found = repo.read_conventions(session, commune_code=commune_code, csp_id=csp_id)
        data = [_public(c, today) for c in found]
    return ConventionsPublic(data=data, count=len(data))


def covered_quartiers(
    ctx: Context,
    *,
    csp_id: int | None = None,
    commune_code: str | None = None,
    today: date | None = None,
) -> FeatureCollection[CoveredQuartier]:
    """The map layer: the quartiers covered by a convention in force (a whole commune's
    convention draws its commune)."""
    today = today or clock.today()
    with ctx.read() as session:
        found = repo.read_conventions(session, commune_code=commune_code, csp_id=csp_id)
        outlines = repo.commune_outlines(
            session, [c.row.commune_code for c in found if c.row.whole_commune]
        )
    features: list[Feature[CoveredQuartier]] = []
    for c in found:
        status = status_on(c.dates, today)
        if status not in IN_FORCE:
            continue
        geom = outlines.get(c.row.commune_code) if c.row.whole_commune else c.geom
        if geom is None:
            continue
        features.append(
            Feature(
                id=c.row.id,
                geometry=Geometry(**shapely.geometry.mapping(geom)),
                properties=CoveredQuartier(
                    id=c.row.id,
                    commune_code=c.row.commune_code,
                    commune=c.commune,
                    quartier=c.row.quartier,
                    whole_commune=c.row.whole_commune,
                    status=status,
                    status_label=STATUSES[status],
                    next_renewal_on=next_renewal(c.dates, today),
                ),
            )
        )
    return FeatureCollection(features=features)


def figures(ctx: Context, *, today: date | None = None) -> ConventionFiguresPublic:
    """Per CSP and per département of the caller's perimeter: its communes, those covered
    by a convention in force, the conventions by status, their référents, the renewals
    of the next 90 days."""
    today = today or clock.today()
    with ctx.read() as session:
        communes = repo.visible_communes(session)
        found = repo.read_conventions(session)
        csp_names = repo.area_names(session, sorted({csp for _, _, csp in communes}))
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for code, _, csp in communes:
        groups[("csp", str(csp))].append(code)
        groups[("dep", departement_of(code))].append(code)
    out: dict[str, list[ConventionFigures]] = {"csp": [], "dep": []}
    for (kind, key), codes in sorted(groups.items()):
        members = set(codes)
        mine = [c for c in found if c.row.commune_code in members]
        statuses = {c.row.id: status_on(c.dates, today) for c in mine}
        in_force = [c for c in mine if statuses[c.row.id] in IN_FORCE]
        soon = [
            c
            for c in in_force
            if (r := next_renewal(c.dates, today)) is not None and r <= today + timedelta(days=90)
        ]
        out[kind].append(
            ConventionFigures(
                code=key,
                name=csp_names.get(int(key), key) if kind == "csp" else f"Département {key}",
                communes=len(members),
                communes_covered=len({c.row.commune_code for c in in_force}),
                conventions_in_force=len(in_force),
                by_status=dict(Counter(statuses.values())),
                referents=sum(len(c.referents) for c in in_force),
                renewals_next_90_days=len(soon),
            )
        )
    return ConventionFiguresPublic(on=today, csps=out["csp"], departements=out["dep"])


# -- reminders ----------------------------------------------------------------------------
def enqueue_renewal_reminders(
    session: Session, *, today: date, public_url: str | None, signature: str
) -> int:
    """Queue, in the caller's transaction, a reminder to the commune's accounts of every
    convention whose tacit renewal falls within :data:`RENEWAL_NOTICE_DAYS` days; one per
    renewal date and address (``convention-renewal:{id}:{date}:{address}``)."""
    rows = repo.live_conventions(session)
    due = []
    for c, commune in rows:
        renewal = next_renewal(dates_of(c), today)
        if renewal is not None and renewal <= today + timedelta(days=RENEWAL_NOTICE_DAYS):
            due.append((c, commune, renewal))
    addresses = repo.commune_addresses(session, sorted({c.commune_code for c, _, _ in due}))
    queued = 0
    for c, commune, renewal in due:
        link = f"{public_url.rstrip('/')}/commune" if public_url else "/commune"
        subject = (
            f"Participation citoyenne : reconduction tacite le {renewal:%d/%m/%Y} "
            f"({c.quartier}, {commune})"
        )
        body = (
            f"Bonjour,\n\nLa convention de participation citoyenne « {c.quartier} » de "
            f"{commune} (n° {c.id}) sera reconduite tacitement pour trois ans le "
            f"{renewal:%d/%m/%Y}, sauf dénonciation d'ici là.\n\n"
            f"Pour la consulter ou la dénoncer : {link}{signature}"
        )
        for address in addresses.get(c.commune_code, []):
            key = f"convention-renewal:{c.id}:{renewal.isoformat()}:{address}"
            if outbox.enqueue(
                session,
                kind="convention-renewal",
                recipient=address,
                subject=subject[:300],
                body=body,
                dedupe_key=key[:200],
                entity=("convention", c.id),
                commune_code=c.commune_code,
            ):
                queued += 1
    return queued
