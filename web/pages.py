"""Server-rendered pages. Their data comes from the JSON API, fetched by the page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=WEB_DIR / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "home.html", {"page": "home"})


@router.get("/carte", response_class=HTMLResponse)
def grid_map(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "grid_map.html", {"page": "carte"})


@router.get("/secteurs", response_class=HTMLResponse)
def plans(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "plans.html", {"page": "secteurs"})


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI served from the vendored copy (FastAPI's default loads it from a CDN)."""
    static = request.app.url_path_for("static", path="vendor/swagger-ui")
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="PSQ Secteurs — API",
        swagger_js_url=f"{static}/swagger-ui-bundle.js",
        swagger_css_url=f"{static}/swagger-ui.css",
        swagger_favicon_url=f"{static}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None, "defaultModelsExpandDepth": 0},
    )


def mount_pages(app: FastAPI) -> None:
    """Serve the pages and their static assets (vendored libraries included)."""
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.include_router(router)
