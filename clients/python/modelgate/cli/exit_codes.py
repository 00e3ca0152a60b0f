"""Exit codes of `modelgate`, the same for every command (scripts branch on them).

| code | meaning |
|---|---|
| 0 | done |
| 1 | an unexpected error, or a service that cannot be reached |
| 2 | wrong usage: an unknown option, a missing argument |
| 3 | configuration: no usable profile, token or URL |
| 4 | refused: 401 (no or unknown token), 403 (role, four-eyes), a sign-in the provider refused |
| 5 | not found: no such model, version, alias or submission |
| 6 | conflict: the state does not allow it (409), or nothing to roll back to |
| 7 | the service refused the request otherwise (400, 413, 422, 5xx) |
| 8 | the gate rejected the submission (the failed checks are printed) |
| 9 | timed out waiting for the gate |
| 10 | verification failed: a file's SHA-256, or the audit chain |
"""

from __future__ import annotations

from enum import IntEnum

from modelgate.errors import (
    ApiError,
    ChecksumMismatch,
    ConfigError,
    Conflict,
    Forbidden,
    GateRejected,
    ModelgateError,
    NoPreviousProduction,
    NotFound,
    Unauthorized,
    WaitTimeout,
)
from modelgate.oidc import SignInError
from modelgate.signing import SignatureError


class Exit(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    REFUSED = 4
    NOT_FOUND = 5
    CONFLICT = 6
    API = 7
    REJECTED = 8
    TIMEOUT = 9
    VERIFICATION = 10


def exit_code(error: ModelgateError) -> Exit:
    table: list[tuple[type[ModelgateError], Exit]] = [
        (ConfigError, Exit.CONFIG),
        (Unauthorized, Exit.REFUSED),
        (Forbidden, Exit.REFUSED),
        (SignInError, Exit.REFUSED),
        (NotFound, Exit.NOT_FOUND),
        (Conflict, Exit.CONFLICT),
        (NoPreviousProduction, Exit.CONFLICT),
        (ApiError, Exit.API),
        (GateRejected, Exit.REJECTED),
        (WaitTimeout, Exit.TIMEOUT),
        (ChecksumMismatch, Exit.VERIFICATION),
        (SignatureError, Exit.VERIFICATION),
    ]
    for kind, code in table:
        if isinstance(error, kind):
            return code
    return Exit.ERROR
