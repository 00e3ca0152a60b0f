"""What can go wrong, as types a caller can catch (and the CLI maps to exit codes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelgate.models import Check, Submission


class ModelgateError(Exception):
    """Base of every error this package raises."""


class ConfigError(ModelgateError):
    """No URL or token could be found, or the profile file is unusable."""


class ApiError(ModelgateError):
    """A service answered with an error: its status and the reason it gave."""

    def __init__(self, status: int, message: str, *, url: str = "") -> None:
        super().__init__(f"{status}: {message}" + (f" ({url})" if url else ""))
        self.status = status
        self.message = message
        self.url = url


class Unauthorized(ApiError):
    """401: no token, or one the service does not know."""


class Forbidden(ApiError):
    """403: the token's role may not do this (or four-eyes forbids it)."""


class NotFound(ApiError):
    """404: no such model, version or submission (or not visible to this role)."""


class Conflict(ApiError):
    """409: the state does not allow it (e.g. a stage move that is not allowed)."""


class Unreachable(ModelgateError):
    """A service could not be reached, or the connection broke (the cause is chained)."""


class GateRejected(ModelgateError):
    """The gate rejected the submission; `checks` holds the checks that failed."""

    def __init__(self, submission: Submission) -> None:
        self.submission = submission
        self.checks: list[Check] = list(submission.failed_checks)
        summary = "; ".join(f"{c.name}: {c.detail}" for c in self.checks) or submission.detail
        super().__init__(f"{submission.name} {submission.version} was rejected: {summary}")


class WaitTimeout(ModelgateError):
    """The gate did not decide within the time given; `last` is what was seen last."""

    def __init__(self, message: str, last: object) -> None:
        super().__init__(message)
        self.last = last


class ChecksumMismatch(ModelgateError):
    """A downloaded file's SHA-256 is not the one the registry pinned."""

    def __init__(self, path: str, expected: str, actual: str) -> None:
        super().__init__(f"{path}: SHA-256 {actual} does not match the expected {expected}")
        self.path = path
        self.expected = expected
        self.actual = actual


class NoPreviousProduction(ModelgateError):
    """A rollback found no earlier production version to go back to."""


def for_status(status: int, message: str, url: str = "") -> ApiError:
    kind = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict}.get(status, ApiError)
    return kind(status, message, url=url)
