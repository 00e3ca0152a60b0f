"""Bearer-token authentication and role-based authorisation shared by every service."""

from modelgate_shared.auth.dependencies import AuthDep, require
from modelgate_shared.auth.roles import PERMISSIONS, Permission, Principal, Role
from modelgate_shared.auth.tokens import HashedTokenVerifier, TokenVerifier, hash_token

__all__ = [
    "PERMISSIONS",
    "AuthDep",
    "HashedTokenVerifier",
    "Permission",
    "Principal",
    "Role",
    "TokenVerifier",
    "hash_token",
    "require",
]
