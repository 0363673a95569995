"""The FastAPI application: the JSON API (:mod:`api.routes`) and the pages (:mod:`web`),
sharing one :class:`~api.services.context.Context` for the app's lifetime, with the
security headers on every response and the CSRF check on every route. CORS stays
closed: no CORS middleware, so browsers keep other sites from reading the answers."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.routing import iter_route_contexts

from api import clock
from api.compression import Compression
from api.config import Settings
from api.deps import check_csrf, refuse_control_characters
from api.errors import install_error_handlers
from api.heap import settle_heap
from api.logs import RequestContext, configure_logging
from api.routes import api_router, tiles_router
from api.routes import ogc as ogc_routes
from api.security import SecurityHeaders
from api.services import jobs
from api.services.context import Context
from api.services.notifications import Delivery, NotificationWorker
from api.uploads import UploadLimits, refuse_unknown_form_fields
from web.meetings import print_meeting_report
from web.pages import mount_pages

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, *, local_database: bool = False, settle: bool = False
) -> FastAPI:
    """Build the app for these settings; the engine lives as long as the app runs.
    ``local_database`` says that the database is the app's own local cluster (``psq
    serve`` without ``DATABASE_URL``): only then may the sign-in page list the demo
    accounts (:func:`api.services.demo.login_demo_accounts`). ``settle``: once started,
    the heap is frozen out of the garbage collector's passes (:func:`api.heap.settle_heap`,
    ``psq serve``'s long-running process; not the tests', which build many apps)."""
    url = settings.require_database_url()
    if settings.today is not None:
        clock.freeze(settings.today)
    configure_logging(settings.log_format, settings.log_level)
    # A bad PSQ_SMTP_URL stops the start-up here, with its message, not in the worker.
    delivery = Delivery.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = Context.for_url(url)
        ctx.sessions = settings.session_policy()
        ctx.export_rows = settings.export_max_problems
        ctx.job_deadline_s = settings.job_deadline_minutes * 60
        ctx.proposal_budget = settings.max_proposal_work
        ctx.grid_cell_budget = settings.max_grid_cells
        ctx.map_cell_budget = settings.max_map_cells
        ctx.heat_cell_budget = settings.max_heat_cells
        ctx.bound_budget_s = settings.bound_seconds
        ctx.maps.stale_s = settings.map_stale_seconds
        app.state.context = ctx
        # Only the jobs no live process holds: with several workers, a worker restarting
        # leaves its siblings' jobs running (api.jobs).
        jobs.fail_interrupted(ctx)
        ctx.job_runner()
        # The notification worker, when an SMTP server (PSQ_SMTP_URL) or an SMS gateway
        # (PSQ_SMS_URL) is set; without them the notifications wait in the outbox. Every
        # process starts one; one at a time delivers (its advisory lock, api.advisory).
        worker = NotificationWorker(ctx, delivery) if delivery.channels else None
        if worker is not None:
            worker.start()
        if settle:
            # Every route's context built now (FastAPI builds it at the first request
            # walking past it), then frozen with the rest of start-up.
            settle_heap(warm=lambda: sum(1 for _ in iter_route_contexts(app.routes)))
        try:
            yield
        finally:
            if worker is not None:
                worker.stop(timeout=4 * settings.smtp_timeout)
            ctx.close()

    app = FastAPI(
        title="PSQ Secteurs",
        summary="Secteurs de proximité, cartographie des problématiques et études de sûreté",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by web.pages from the vendored Swagger UI
        redoc_url=None,
        # No control character in any text of a request (api.deps.refuse_control_characters);
        # a write carrying the session cookie needs its CSRF token (api.deps.check_csrf);
        # a multipart form holds only the fields its route declares (api.uploads).
        dependencies=[
            Depends(refuse_control_characters),
            Depends(check_csrf),
            Depends(refuse_unknown_form_fields),
        ],
    )
    # nosniff, Referrer-Policy, X-Frame-Options and the Content-Security-Policy.
    app.state.settings = settings
    app.state.local_database = local_database
    # What prints a closed meeting's compte rendu (api.deps.meeting_report_printer).
    app.state.meeting_report_printer = print_meeting_report
    # The upload limits (413) inside the security headers, and the request id and the
    # access log outside both, so that every answer carries them.
    app.add_middleware(UploadLimits, limits=settings.upload_limits())
    app.add_middleware(Compression)  # the API's data and the static files only
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)
    install_error_handlers(app)
    app.include_router(api_router())
    app.include_router(tiles_router())
    # OGC API - Features for QGIS, GDAL and ArcGIS, beside the JSON API.
    app.include_router(ogc_routes.router)
    mount_pages(app)
    return app


#: Set by ``psq serve`` for its worker processes when the database is its own local
#: cluster (``create_app``'s ``local_database``).
LOCAL_DATABASE_ENV = "PSQ_SERVE_LOCAL_DATABASE"


def create_app_from_env() -> FastAPI:
    """The app of one of ``psq serve --workers N``'s processes: uvicorn calls this
    factory in each worker it starts, whose environment ``psq serve`` prepared (the
    database migrated, its ``DATABASE_URL``, :data:`LOCAL_DATABASE_ENV`). Each process
    settles its own heap (:func:`api.heap.settle_heap`)."""
    return create_app(
        Settings(), local_database=os.environ.get(LOCAL_DATABASE_ENV) == "1", settle=True
    )
