"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy.exc import OperationalError

from api.config import Settings
from api.db import make_engine, make_session_factory, transaction
from api.editors import EditorCache
from api.errors import install_error_handlers
from api.jobs import JobRunner
from api.map_cache import MapCache
from api.repositories.jobs import fail_interrupted_jobs
from api.routes import (
    addresses,
    audits,
    communes,
    csp,
    gpos,
    grid,
    health,
    hotspots,
    layers,
    plans,
    problems,
    reports,
)
from web.pages import mount_pages

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """Build the app for these settings; the engine lives as long as the app runs."""
    url = settings.require_database_url()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(url)
        app.state.engine = engine
        factory = make_session_factory(engine)
        app.state.session_factory = factory
        try:
            with transaction(factory) as session:
                fail_interrupted_jobs(session=session)
        except OperationalError:  # the app starts anyway and answers 503 until it is back
            log.warning("database unavailable at start-up")
        app.state.job_runner = JobRunner(factory)
        try:
            yield
        finally:
            app.state.job_runner.shutdown()
            engine.dispose()

    app = FastAPI(
        title="PSQ Secteurs",
        summary="Secteurs de proximité, cartographie des problématiques et études de sûreté",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by web.pages from the vendored Swagger UI
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.editor_cache = EditorCache()
    app.state.map_cache = MapCache()
    install_error_handlers(app)

    api = APIRouter(prefix="/api")
    routers = (
        health,
        communes,
        csp,
        layers,
        grid,
        plans,
        problems,
        gpos,
        hotspots,
        addresses,
        audits,
    )
    for module in (*routers, reports):
        api.include_router(module.router)
    app.include_router(api)

    mount_pages(app)
    return app
