"""FastAPI dependencies: `Depends(require(Permission.X))` on every protected route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from modelgate_shared.auth.rejection import TokenRejected
from modelgate_shared.auth.roles import Permission, Principal
from modelgate_shared.auth.tokens import TokenVerifier
from modelgate_shared.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="Bearer token issued by the stack or OIDC")


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "missing bearer token: send 'Authorization: Bearer <token>'")
    try:
        principal = await _verifier(request).verify(credentials.credentials)
    except TokenRejected as rejected:
        raise ApiError(rejected.status, rejected.reason) from None
    if principal is None:
        raise ApiError(401, "invalid or expired bearer token")
    request.state.principal = principal
    return principal


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks one permission."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.can(permission):
            roles = ", ".join(sorted(principal.roles)) or "none"
            raise ApiError(
                403, f"'{principal.subject}' (roles: {roles}) lacks permission '{permission}'"
            )
        return principal

    return check


AuthDep = Annotated[Principal, Depends(authenticate)]
