"""Serves the web catalog: static pages whose scripts read the authenticated native API.

The page and its assets hold no data, so they are served without a token (a browser cannot
send one for the first page load); every piece of catalog data comes from /api/v1 (and the
audit service's API, for a version's history) with the bearer token the person pastes in.
A strict Content-Security-Policy allows only our own scripts and styles, no inline code, and
no DOM sink that parses HTML (Trusted Types with no policy): the scripts build every node.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# Read once at import: a request's path only picks from this table, never reaches the disk.
ASSETS = {
    path.name: MEDIA_TYPES[path.suffix] for path in STATIC.iterdir() if path.suffix in MEDIA_TYPES
}


class WebConfig(BaseModel):
    """What the page needs to know that the registry's own origin cannot tell it."""

    audit_url: str | None = None
    """The audit service as the browser reaches it (history timelines, the chain badge)."""
    oidc_issuer: str | None = None
    """The OpenID Connect provider people sign in with (its discovery document, token
    endpoint); None: no sign-in, a pasted token only."""
    oidc_client_id: str | None = None
    """The public client (authorization code with PKCE) the page signs in as."""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def headers_for(config: WebConfig) -> dict[str, str]:
    # The page talks to the audit service and, to sign in, to the provider's token endpoint.
    others = [origin(u) for u in (config.audit_url, config.oidc_issuer) if u]
    connect = " ".join(["'self'", *dict.fromkeys(others)])
    return {
        "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"connect-src {connect}; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def _config(request: Request) -> WebConfig:
    config: WebConfig = getattr(request.app.state, "web", None) or WebConfig()
    return config


router = APIRouter(include_in_schema=False)


@router.get("/")
async def index(request: Request) -> FileResponse:
    return FileResponse(
        STATIC / "index.html", media_type="text/html", headers=headers_for(_config(request))
    )


@router.get("/static/{name}")
async def asset(name: str, request: Request) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "no such asset")
    return FileResponse(
        STATIC / name, media_type=ASSETS[name], headers=headers_for(_config(request))
    )


@router.get("/web-config.json")
async def web_config(request: Request) -> JSONResponse:
    config = _config(request)
    return JSONResponse(config.model_dump(), headers=headers_for(config))
