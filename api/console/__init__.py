"""The web console and the API docs, served from assets shipped in this package.

``install_console(app)`` adds ``/`` (the console, a single page that is a client of the public
``/v1`` API), ``/console/static/...`` (its scripts, styles and the vendored chart library), and
``/docs`` and ``/redoc`` rendered from local copies of Swagger UI and ReDoc instead of a CDN.
Nothing here reads data: these routes stay open when API keys are on; the console asks the user
for a key and sends it with each ``/v1`` call.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/console/static"
_NO_STORE = {"Cache-Control": "no-cache"}

_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API docs</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{static}/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{static}/docs.js" data-spec="{openapi}" id="docs-init"></script>
</body></html>"""

_REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API reference</title>
<link rel="icon" href="data:,">
<style>body {{ margin: 0; padding: 0; }}</style></head>
<body><redoc spec-url="{openapi}"></redoc>
<script src="{static}/vendor/redoc/redoc.standalone.js"></script>
</body></html>"""


def install_console(app: FastAPI) -> None:
    """Serve the console at ``/`` and the API docs from local assets (build with docs off)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="console-static")
    fields = {"title": app.title, "static": STATIC_URL, "openapi": app.openapi_url}

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=_NO_STORE)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(_SWAGGER_PAGE.format(**fields))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(_REDOC_PAGE.format(**fields))
