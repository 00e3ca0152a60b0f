"""What both drivers do the same way around httpx: headers, URLs, reading answers and errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from modelgate.errors import Unreachable, for_status
from modelgate.steps import Call, Service

if TYPE_CHECKING:  # config imports oidc, which reads answers with this module's helpers
    from modelgate.config import Settings

USER_AGENT = "modelgate-python/0.1.0"
# A multi-GB upload may take long between bytes on a slow disk; a read may wait on ingest
# storing the last part in S3. Connecting must still be quick.
TRANSFER_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=600.0, pool=30.0)


def headers(settings: Settings) -> dict[str, str]:
    out = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    token = settings.bearer()
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


def url_of(settings: Settings, service: Service, path: str) -> str:
    return settings.base_urls[service] + path


def request_args(settings: Settings, call: Call) -> dict[str, Any]:
    return {
        "method": call.method,
        "url": url_of(settings, call.service, call.path),
        "params": call.params,
        "json": call.json,
        "headers": {**headers(settings), **(call.headers or {})},
    }


def raise_for(response: httpx.Response) -> None:
    """A service's JSON error (`{code, message}`, or FastAPI's `{detail}`) as a typed error."""
    if response.status_code < 400:
        return
    message = response.reason_phrase
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("message") or body.get("detail")
        if detail:
            message = detail if isinstance(detail, str) else str(detail)
    elif response.text:
        message = response.text[:500]
    raise for_status(response.status_code, message, str(response.request.url.copy_with(query=None)))


def decode(response: httpx.Response, call: Call | None = None) -> Any:
    raise_for(response)
    if response.status_code == 204 or not response.content:
        return None
    if call is not None and call.text:
        return response.text
    return response.json()


def unreachable(exc: httpx.TransportError) -> Unreachable:
    """A connection failure named by where it went (presigned URLs lose their query)."""
    try:
        where = str(exc.request.url.copy_with(query=None))
    except RuntimeError:  # no request attached
        where = "the service"
    error = Unreachable(f"cannot reach {where}: {exc or type(exc).__name__}")
    error.__cause__ = exc
    return error
