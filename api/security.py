"""Security headers on every response (a pure ASGI middleware, installed by the app):
``X-Content-Type-Options``, ``Referrer-Policy``, ``X-Frame-Options`` and a
``Content-Security-Policy`` that allows no inline script.

A response that needs another policy sets its own ``Content-Security-Policy`` header,
which the middleware keeps: the folium map (``/cartographie/carte.html``) and the
Swagger UI (``/docs``) run inline scripts they generate (:data:`CSP_INLINE_SCRIPTS`).
Inline styles are allowed everywhere: Leaflet's popups and legends, the pages' swatches
and the printed sheets use ``style`` attributes and elements.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _policy(script_src: str, frame_src: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            f"frame-src {frame_src}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


#: Every page, API answer and static file: scripts from the app's own files only.
CSP = _policy("'self'", "'self'")
#: The generated pages that carry inline scripts (folium, Swagger UI); folium's popups
#: may be ``data:`` iframes.
CSP_INLINE_SCRIPTS = _policy("'self' 'unsafe-inline'", "'self' data:")

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CSP,
}


class SecurityHeaders:
    """Add :data:`HEADERS` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
