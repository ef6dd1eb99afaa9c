"""Serves the built SPA (web/dist) from the API's origin.

API routes win. Files at the top of the build (favicon, robots.txt) are served as they are; a
browser navigation (GET, ``Accept: text/html``) to a path no route matches gets ``index.html``
so client-side routes survive a reload; anything else keeps its JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.core.config import PROJECT_ROOT
from api.core.exceptions import status_code_name

WEB_DIST = PROJECT_ROOT / "web" / "dist"


def mount_spa(app: FastAPI, dist: Path = WEB_DIST) -> None:
    # The build is immutable while the server runs: list its files once.
    index = dist / "index.html" if (dist / "index.html").is_file() else None
    top_level_files = {p.name: p for p in dist.iterdir() if p.is_file()} if dist.is_dir() else {}
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.exception_handler(StarletteHTTPException)
    async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and request.method in ("GET", "HEAD"):
            # favicon.svg, robots.txt, ...: whoever asks, whatever they accept.
            static_file = top_level_files.get(request.url.path.lstrip("/"))
            if static_file is not None:
                return FileResponse(static_file)
            if index is not None and "text/html" in request.headers.get("accept", ""):
                return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return JSONResponse(
            {"detail": exc.detail, "code": status_code_name(exc.status_code)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.get("/", include_in_schema=False)
    async def spa_index() -> Response:
        if index is not None:
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return JSONResponse(
            {
                "detail": "The web app is not built; run `make run` or `npm run build` in web/.",
                "code": "not_found",
            },
            status_code=404,
        )
