"""Serves the web catalog: a static page whose script reads the authenticated native API.

The page and its assets hold no data, so they are served without a token (a browser cannot
send one for the first page load); every piece of catalog data comes from /api/v1 with the
bearer token the person pastes in. A strict Content-Security-Policy allows only our own script.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"
ASSETS = {"catalog.js": "text/javascript", "catalog.css": "text/css"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/static/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:  # a fixed list: no path from the request reaches the filesystem
        raise HTTPException(404, "no such asset")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers=HEADERS)
