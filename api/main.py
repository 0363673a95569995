"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api.config import Settings
from api.db import make_engine, make_session_factory
from api.errors import install_error_handlers
from api.routes import communes, csp, grid, health, layers
from web.pages import mount_pages


def create_app(settings: Settings) -> FastAPI:
    """Build the app for these settings; the engine lives as long as the app runs."""
    url = settings.require_database_url()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(url)
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        try:
            yield
        finally:
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
    install_error_handlers(app)

    api = APIRouter(prefix="/api")
    for module in (health, communes, csp, layers, grid):
        api.include_router(module.router)
    app.include_router(api)

    mount_pages(app)
    return app
