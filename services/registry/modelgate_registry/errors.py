"""Errors of the registry's commands, each an HTTP answer with a clear reason."""

from __future__ import annotations

from modelgate_shared.errors import ApiError


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def conflict(reason: str) -> ApiError:
    return ApiError(409, reason)


def forbidden(reason: str) -> ApiError:
    return ApiError(403, reason)
