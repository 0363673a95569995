"""Server-rendered pages. Their data comes from the JSON API, fetched by the page; the
printable A4 sheets are rendered here from the services (no script, no tiles).

Every page declares its policy (:mod:`api.access`) like the API's routes. Every page built
on ``base.html`` knows its caller (:func:`_caller_context`): the navigation bar lists the
pages of :data:`NAVIGATION` whose route's policy admits the caller's role, then
« Se connecter », or the caller's name and role with « Mon compte » and « Se déconnecter ».
``/`` sends a signed-in caller to their role's start page (:data:`START_PAGES`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import shapely
from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi import Path as FastApiPath
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import access, clock
from api.access import Policy, policy_of
from api.deps import (
    SESSION_COOKIE,
    ContextDep,
    DbId,
    ProblemFilterDep,
    clear_session_cookies,
    current_caller,
)
from api.errors import error_response, http_error, is_ogc
from api.schemas import COMMUNE_CODE
from api.security import CSP_INLINE_SCRIPTS
from api.services import accounts as account_service
from api.services import basemap, sessions
from api.services import dashboard as dashboard_service
from api.services import gpos as gpo_service
from api.services import meetings as meeting_service
from api.services import plans as plan_service
from api.services.context import Context
from api.services.demo import login_demo_accounts
from geo.accounts import ROLES, Caller
from geo.csi import OBJECTIVES as CSI_OBJECTIVES
from geo.errors import AuthenticationRequiredError, ForbiddenError, NotFoundError
from geo.hotspots import LEVEL_LABELS, TRENDS
from geo.messages import FIELD_LABELS, PLAN_STATUS_WORDS
from geo.metrics import french_number, french_percent, percent_beyond
from geo.participation import INTERVENTION_NATURES
from geo.passwords import csrf_token
from geo.plan_bound import PlanBound
from geo.sectorize.objective import objective_label
from geo.value_labels import (
    GPO_KINDS,
    LAYER_KINDS,
    PLAN_METHODS,
    PLAN_OBJECTIVES,
    PLAN_ORIGINS,
    TRAIL_FIELD_LABELS,
    UNITS,
    VALUE_LABELS,
)
from web import diagnostic
from web.cartography import folium_problem_map, meeting_pack, pack_context
from web.palette import (
    AUDIT_STATUS_COLOURS,
    CATEGORY_COLOURS,
    COVERAGE_COLOURS,
    HEAT_COLOURS,
    HOTSPOT_COLOURS,
    SECTOR_COLOURS,
    TREND_COLOURS,
)
from web.printing import print_html, sector_map_svg, today_fr
from web.static_files import WholeFiles

WEB_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class NavItem:
    """A page of the navigation bar: its path, French label and what it is for (the home
    page's list of modules); :func:`navigation` adds the policy of its route."""

    path: str
    label: str
    purpose: str


#: The navigation bar, in order. Who sees an entry is not written here: it is the policy
#: its route declares (:func:`page_policy`).
NAVIGATION = (
    NavItem("/", "Accueil", "Tableau de bord des modules et carte du territoire."),
    NavItem("/carte", "Grille et couches", "Grille H3, couches territoriales et adresses."),
    NavItem("/secteurs", "Secteurs", "Proposer, comparer, modifier et adopter les plans."),
    NavItem(
        "/problematiques",
        "Problématiques",
        "Les problématiques des GPO, leurs étapes, actions et évaluations.",
    ),
    NavItem("/gpo", "GPO", "Les GPO : composition, cadence, réunions et comptes rendus."),
    NavItem("/mes-actions", "Mes actions", "Les actions que pilote votre organisation."),
    NavItem("/cartographie", "Cartographie", "Points chauds, densité et tendance des problèmes."),
    NavItem("/bilans", "Bilans", "Bilans d'activité des CSP et des secteurs."),
    NavItem("/etudes", "Études de sûreté", "Les demandes d'études de sûreté et leur suivi."),
    NavItem("/commune", "Espace commune", "Problèmes par maille, caméras et demandes d'études."),
    NavItem(
        "/interventions",
        "Interventions",
        "Enregistrer une intervention et suivre les alertes envoyées aux maires.",
    ),
    NavItem("/comptes", "Comptes", "Créer, désactiver et réactiver les comptes."),
    NavItem("/journal", "Journal", "Le journal d'audit : qui a fait quoi, quand, d'où."),
)

#: Where ``/`` sends a signed-in caller of each role (the admin keeps the home page).
START_PAGES = {
    "planificateur": "/secteurs",
    "chef": "/problematiques",
    "partenaire": "/mes-actions",
    "commune": "/commune",
    "referent": "/etudes",
}


@functools.cache
def page_policy(path: str) -> Policy:
    """The policy declared by the page route ``GET path`` (:data:`router`)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path and "GET" in (route.methods or ()):
            policies = policy_of(route.dependant.dependencies)
            if len(policies) == 1:
                return policies[0]
    raise LookupError(f"no page route GET {path} with one policy")


def navigation(role: str | None) -> list[tuple[NavItem, Policy]]:
    """The entries of :data:`NAVIGATION` a caller of ``role`` (None: anonymous) may open,
    by the policies of their routes."""
    policies = [(item, page_policy(item.path)) for item in NAVIGATION]
    return [(item, policy) for item, policy in policies if policy.admits(role)]


def start_page(caller: Caller | None) -> str:
    """The page ``/`` leads the caller to: their role's start page, or ``/`` itself."""
    return "/" if caller is None else START_PAGES.get(caller.role, "/")


def _caller_context(request: Request) -> dict[str, Any]:
    """What ``base.html`` shows of the caller: who they are (or None), the pages their
    role may open, what the page scripts may call (``can``: each policy's name and
    whether it admits the caller), and the CSRF token of their session for the sign-out
    form."""
    caller = current_caller(request)
    role = None if caller is None else caller.role
    session_id = request.cookies.get(SESSION_COOKIE)
    return {
        "caller": caller,
        "navigation": [item for item, _ in navigation(role)],
        "can": {p.name: p.admits(role) for p in access.POLICIES},
        "csrf_token": csrf_token(session_id) if caller is not None and session_id else "",
    }


templates = Jinja2Templates(directory=WEB_DIR / "templates", context_processors=[_caller_context])
router = APIRouter(include_in_schema=False)

# The French labels of a plan's statuses: the printed sheet's and, through the palette
# below, the pages' (sectors.js).
STATUS_LABELS = PLAN_STATUS_WORDS
# Today by the app's clock (api/clock.py): the page scripts' default dates (base.html).
templates.env.globals["app_today"] = lambda: clock.today().isoformat()
# Colours and labels read by the page scripts from a meta tag of base.html.
templates.env.globals["palette"] = {
    "sectors": SECTOR_COLOURS,
    "categories": CATEGORY_COLOURS,
    "hotspots": HOTSPOT_COLOURS,
    "heat": HEAT_COLOURS,
    "trends": TREND_COLOURS,
    "level_labels": LEVEL_LABELS,  # the French labels of geo.hotspots, for the legends
    "trend_labels": TRENDS,
    "audit_statuses": AUDIT_STATUS_COLOURS,
    "coverage": COVERAGE_COLOURS,
    "plan_statuses": STATUS_LABELS,
    "plan_origins": PLAN_ORIGINS,
    "layer_kinds": LAYER_KINDS,
    "gpo_kinds": GPO_KINDS,
}
# The codes the forms offer, in words (geo.value_labels: the journal says them the same).
templates.env.globals["labels"] = {
    "plan_methods": PLAN_METHODS,
    "plan_objectives": PLAN_OBJECTIVES,
    "units": UNITS,
    "layer_kinds": LAYER_KINDS,
}


@router.get("/", response_class=HTMLResponse, dependencies=[access.PUBLIC])
def home(request: Request) -> Response:
    """The home page: a call to sign in for an anonymous visitor, the modules and the
    territory for the direction; every other role goes on to its start page."""
    if (target := start_page(current_caller(request))) != "/":
        return RedirectResponse(target, status_code=303)
    return templates.TemplateResponse(request, "home.html", {"page": "/"})


@router.get("/carte", response_class=HTMLResponse, dependencies=[access.PLANNING])
def grid_map(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "grid_map.html", {"page": "/carte"})


@router.get("/secteurs", response_class=HTMLResponse, dependencies=[access.PLANNING])
def plans(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "plans.html", {"page": "/secteurs"})


@router.get("/problematiques", response_class=HTMLResponse, dependencies=[access.PROBLEM_RECORDS])
def problems(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "problems.html", {"page": "/problematiques"})


@router.get("/gpo", response_class=HTMLResponse, dependencies=[access.GPO_READ])
def gpo_list(request: Request) -> HTMLResponse:
    """The GPOs the caller may see, late ones first (gpo.js)."""
    return templates.TemplateResponse(request, "gpo.html", {"page": "/gpo"})


@router.get("/gpo/{gpo_id}", response_class=HTMLResponse, dependencies=[access.GPO_READ])
def gpo_workspace(request: Request, gpo_id: DbId, ctx: ContextDep) -> HTMLResponse:
    """A GPO's workspace: composition, perimeter, cadence, meetings, problems, actions and
    key figures (gpo_workspace.js). A GPO outside the caller's perimeter is a 404."""
    gpo = gpo_service.get_gpo(ctx, gpo_id)
    return templates.TemplateResponse(
        request, "gpo_workspace.html", {"page": "/gpo", "gpo_id": gpo.id, "gpo_name": gpo.name}
    )


@router.get(
    "/gpo/reunions/{meeting_id}", response_class=HTMLResponse, dependencies=[access.GPO_MEMBERS]
)
def meeting_page(request: Request, meeting_id: DbId, ctx: ContextDep) -> HTMLResponse:
    """A meeting: agenda, attendance, decisions, minutes, closing (meeting.js). A meeting
    outside the caller's GPOs is a 404."""
    meeting = meeting_service.get_meeting(ctx, meeting_id)
    return templates.TemplateResponse(
        request, "meeting.html", {"page": "/gpo", "meeting_id": meeting.id, "meeting": meeting}
    )


@router.get("/mes-actions", response_class=HTMLResponse, dependencies=[access.ACTION_UPDATE])
def my_actions(request: Request) -> HTMLResponse:
    """The actions the caller's organisation leads (a chef: its GPOs'), by urgency
    (my_actions.js)."""
    return templates.TemplateResponse(request, "my_actions.html", {"page": "/mes-actions"})


@router.get("/bilans", response_class=HTMLResponse, dependencies=[access.REPORTS])
def reports(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "reports.html", {"page": "/bilans"})


@router.get("/cartographie", response_class=HTMLResponse, dependencies=[access.PROBLEM_MAPS])
def cartography(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "cartography.html", {"page": "/cartographie"})


@router.get("/commune", response_class=HTMLResponse, dependencies=[access.COMMUNE_PICTURE])
def commune(request: Request) -> HTMLResponse:
    return _commune_page(request)


def _commune_page(request: Request) -> HTMLResponse:
    """The commune's space, with the labels its forms offer: the natures of the alerts and
    the four objectives of a contrat de sécurité intégrée."""
    return templates.TemplateResponse(
        request,
        "commune.html",
        {"page": "/commune", "natures": INTERVENTION_NATURES, "objectives": CSI_OBJECTIVES},
    )


@router.get("/commune/{code}", response_class=HTMLResponse, dependencies=[access.COMMUNE_PICTURE])
def commune_space(
    request: Request,
    code: Annotated[str, FastApiPath(pattern=COMMUNE_CODE)],
    ctx: ContextDep,
) -> HTMLResponse:
    """A commune's space (commune.js, commune_dashboard.js): a commune outside the
    caller's perimeter is a 404 page, as if it did not exist."""
    try:
        dashboard_service.commune_name(ctx, code)
    except NotFoundError:
        return templates.TemplateResponse(
            request,
            "forbidden.html",
            {
                "page": "",
                "heading": "Commune introuvable",
                "message": f"Aucune commune {code} dans votre périmètre.",
            },
            status_code=404,
        )
    return _commune_page(request)


@router.get("/interventions", response_class=HTMLResponse, dependencies=[access.COMMUNE_SPACE])
def interventions(request: Request) -> HTMLResponse:
    """Interventions and alerts to mayors (interventions.js): the police roles record one,
    everyone the commune's space admits reads the latest and a commune's delivery log."""
    return templates.TemplateResponse(
        request,
        "interventions.html",
        {"page": "/interventions", "natures": INTERVENTION_NATURES},
    )


@router.get("/etudes", response_class=HTMLResponse, dependencies=[access.STUDY_REQUESTS])
def audits(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "audits.html", {"page": "/etudes"})


@router.get("/comptes", response_class=HTMLResponse, dependencies=[access.ADMIN])
def accounts_page(request: Request) -> HTMLResponse:
    """The accounts, created, disabled and enabled by the direction (accounts.js)."""
    return templates.TemplateResponse(
        request, "accounts.html", {"page": "/comptes", "roles": ROLES}
    )


@router.get("/journal", response_class=HTMLResponse, dependencies=[access.ADMIN])
def audit_log_page(request: Request) -> HTMLResponse:
    """The audit trail, searched and exported by the direction (audit_log.js)."""
    return templates.TemplateResponse(
        request,
        "audit_log.html",
        {
            "page": "/journal",
            "field_labels": FIELD_LABELS | TRAIL_FIELD_LABELS,
            "value_labels": VALUE_LABELS,
        },
    )


@router.get("/connexion", response_class=HTMLResponse, dependencies=[access.PUBLIC])
def login_page(request: Request) -> HTMLResponse:
    """The sign-in form; web/static/js/login.js posts it to ``/api/auth/login`` and goes
    on to ``?next=`` when it is a path of this site, else to the home page. It says how
    to create the first admin while there is no account, and lists the demo accounts
    while the demo is all the data of the app's own local database."""
    ctx: Context = request.app.state.context
    settings = request.app.state.settings
    return templates.TemplateResponse(
        request,
        "login.html",
        {
            "page": "/connexion",
            "no_account": not account_service.has_accounts(ctx),
            "demo_accounts": login_demo_accounts(
                ctx,
                demo_dir=settings.demo_dir,
                local_database=request.app.state.local_database,
            ),
        },
    )


@router.post("/deconnexion", dependencies=[access.PUBLIC])
def logout_page(request: Request, ctx: ContextDep) -> RedirectResponse:
    """The sign-out form of the navigation bar (its ``csrf_token`` field is checked like
    every cookie-authenticated write): the session ends, the cookies go, back to the
    sign-in page."""
    response = RedirectResponse("/connexion", status_code=303)
    if session_id := request.cookies.get(SESSION_COOKIE):
        sessions.close_session(ctx, session_id)
    clear_session_cookies(response, request)
    return response


@router.get("/compte", response_class=HTMLResponse, dependencies=[access.SIGNED_IN])
def account_page(request: Request) -> HTMLResponse:
    """The caller's account and personal access tokens (web/static/js/account.js)."""
    return templates.TemplateResponse(request, "account.html", {"page": "/compte"})


@router.get(
    "/cartographie/carte.html", response_class=HTMLResponse, dependencies=[access.PROBLEM_MAPS]
)
def cartography_folium(
    csp: Annotated[int, Query(ge=1, le=2**31 - 1)],
    ctx: ContextDep,
    where: ProblemFilterDep,
    gpo: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    """The area's problem map as a self-contained folium page (served assets only). Folium
    writes its map as inline scripts: the page has the policy that allows them."""
    return HTMLResponse(
        folium_problem_map(ctx, csp, gpo, where),
        headers={"Content-Security-Policy": CSP_INLINE_SCRIPTS},
    )


def _meeting_pack(ctx: Context, gpo_id: int, printed: str | None = None) -> str:
    pack = meeting_pack(ctx, gpo_id, printed=printed)
    return templates.get_template("meeting_pack.html").render(pack_context(pack))


@router.get(
    "/gpo/{gpo_id}/reunion", response_class=HTMLResponse, dependencies=[access.PROBLEM_RECORDS]
)
def meeting_pack_page(gpo_id: DbId, ctx: ContextDep) -> HTMLResponse:
    """The GPO's meeting pack on A4, to print from the browser."""
    return HTMLResponse(_meeting_pack(ctx, gpo_id))


@router.get("/gpo/{gpo_id}/reunion.{fmt}", dependencies=[access.PROBLEM_RECORDS])
def meeting_pack_file(gpo_id: DbId, fmt: Literal["pdf", "png"], ctx: ContextDep) -> Response:
    """The meeting pack printed by Chromium as PDF or PNG."""
    return _printed(_meeting_pack(ctx, gpo_id, fmt), fmt, f"gpo{gpo_id}_reunion")


@router.get("/secteurs/edition", response_class=HTMLResponse, dependencies=[access.PLANNING])
def plan_editor(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "plan_editor.html", {"page": "/secteurs"})


def _bound_text(bound: dict[str, Any] | None, origin: str) -> str | None:
    """How far the plan is from the best possible (:mod:`geo.plan_bound`), for a proposal."""
    if bound:
        return str(bound.get("sentence") or PlanBound.from_dict(bound).sentence())
    return "borne non calculée" if origin == "engine" else None


def _objective_of(origin: str, parameters: dict[str, Any]) -> str:
    """What the plan optimised, in the planner's words, by how it was made."""
    if origin == "import":
        return "aucun (plan importé)"
    if origin == "communes":
        return "aucun (communes entières, référence)"
    label = objective_label(parameters)
    return f"{label}, puis retouché à la main" if origin == "edit" else label


def _plan_sheet(ctx: Context, plan_id: int, printed: str | None = None) -> str:
    """The A4 sheet of a plan: map, legend, figures and notes, as a self-contained page;
    ``printed`` when it is downloaded as a PDF or PNG (recorded as an export)."""
    sheet = plan_service.plan_sheet(ctx, plan_id, printed=printed)
    plan = sheet.plan
    colours = [SECTOR_COLOURS[s % len(SECTOR_COLOURS)] for s in range(plan.k)]
    metrics = plan.metrics
    split = metrics.get("split_communes") or {}
    tolerance = float(plan.parameters.get("tolerance", 0.05))
    base = basemap.printed_base(ctx, shapely.box(*sheet.sectors.to_crs(4326).total_bounds))
    return templates.get_template("plan_sheet.html").render(
        plan=plan,
        m=metrics,
        csp_name=sheet.csp_name,
        status_label=STATUS_LABELS[plan.status],
        tolerance=tolerance,
        objective_label=_objective_of(plan.origin, plan.parameters),
        svg=sector_map_svg(sheet.sectors, sheet.communes, colours, base=base),
        base=base,
        colours=colours,
        violations=plan.violations,
        notes=plan.notes,
        bound_text=_bound_text(plan.parameters.get("bound"), plan.origin),
        split_text=", ".join(
            f"{sheet.commune_names.get(c, c)} ({c}) en {n} secteurs" for c, n in split.items()
        )
        or "aucune",
        today=today_fr(),
        pct=french_percent,
        deviation=lambda v, sign=True: _deviation(v, tolerance, sign),
        num=french_number,
    )


def _deviation(value: float | None, tolerance: float, sign: bool) -> str:
    """A deviation as the sheet judges it: out of the band, written so that it reads out
    of it (:func:`geo.metrics.percent_beyond`), else with one decimal."""
    if value is None:
        return "—"
    if abs(value) > tolerance + 1e-9:
        shown = percent_beyond(value, tolerance)[0]
        return shown if sign else shown.lstrip("+-")
    return french_percent(value if sign else abs(value), sign=sign)


@router.get(
    "/secteurs/{plan_id}/impression", response_class=HTMLResponse, dependencies=[access.PLANNING]
)
def plan_sheet(plan_id: DbId, ctx: ContextDep) -> HTMLResponse:
    """The plan on one A4 page, to print from the browser."""
    return HTMLResponse(_plan_sheet(ctx, plan_id))


@router.get("/secteurs/{plan_id}/impression.{fmt}", dependencies=[access.PLANNING])
def plan_sheet_file(plan_id: DbId, fmt: Literal["pdf", "png"], ctx: ContextDep) -> Response:
    """The A4 sheet printed by Chromium as PDF or PNG."""
    return _printed(_plan_sheet(ctx, plan_id, fmt), fmt, f"plan{plan_id}_A4")


def _printed(html: str, fmt: Literal["pdf", "png"], stem: str) -> Response:
    """An A4 page printed by Chromium, as a download named ``stem.fmt``."""
    return Response(
        print_html(html, fmt),
        media_type="application/pdf" if fmt == "pdf" else "image/png",
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


@router.get("/docs", response_class=HTMLResponse, dependencies=[access.PUBLIC])
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI served from the vendored copy (FastAPI's default loads it from a CDN),
    started by an inline script: the page has the policy that allows it."""
    static = request.app.url_path_for("static", path="vendor/swagger-ui")
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="PSQ Secteurs — API",
        swagger_js_url=f"{static}/swagger-ui-bundle.js",
        swagger_css_url=f"{static}/swagger-ui.css",
        swagger_favicon_url=f"{static}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None, "defaultModelsExpandDepth": 0},
    )
    page.headers["Content-Security-Policy"] = CSP_INLINE_SCRIPTS
    return page


def _is_page(request: Request) -> bool:
    """Not the API's data: the JSON API, the base map's tiles, the OGC API."""
    return (
        not request.url.path.startswith(("/api/", "/tiles/"))
        and not is_ogc(request)
        and request.method in ("GET", "HEAD")
    )


async def _signed_out(request: Request, exc: Exception) -> Response:
    """A page asked without a (live) session: to the sign-in page, which comes back here;
    the API's answer (401, JSON) elsewhere."""
    assert isinstance(exc, AuthenticationRequiredError)
    if not _is_page(request):
        return error_response(request, exc)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/connexion?next={quote(target, safe='/')}", status_code=303)


async def _forbidden(request: Request, exc: Exception) -> Response:
    """A page the caller's role may not open: a French page saying so, with the way to
    their own start page; the API's answer (403, JSON) elsewhere."""
    assert isinstance(exc, ForbiddenError)
    if not _is_page(request):
        return error_response(request, exc)
    return templates.TemplateResponse(
        request, "forbidden.html", {"page": "", "message": str(exc)}, status_code=403
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    """An unknown address, or a row outside the caller's perimeter, opened in a browser
    (a navigation, which accepts HTML): a French page saying so, never the API's JSON;
    the API's answer (404, JSON) to every other request."""
    browsing = _is_page(request) and "text/html" in request.headers.get("accept", "")
    if isinstance(exc, NotFoundError):
        if not browsing:
            return error_response(request, exc)
        message = str(exc)[:1].upper() + str(exc)[1:]
    else:
        assert isinstance(exc, StarletteHTTPException)
        if not (browsing and exc.status_code == 404):
            return await http_error(request, exc)
        message = "Aucune page à cette adresse : vérifiez le lien, ou repartez de l'accueil."
    return templates.TemplateResponse(
        request,
        "forbidden.html",
        {"page": "", "heading": "Page introuvable", "message": message},
        status_code=404,
    )


def mount_pages(app: FastAPI) -> None:
    """Serve the pages and their static assets (vendored libraries included); a page
    refused to an anonymous visitor leads to the sign-in page."""
    app.mount("/static", WholeFiles(directory=WEB_DIR / "static"), name="static")
    app.include_router(router)
    app.include_router(diagnostic.router)
    app.add_exception_handler(AuthenticationRequiredError, _signed_out)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(StarletteHTTPException, _not_found)
