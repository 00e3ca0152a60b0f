"""Roles and what each may do (design section 5; seed 004 section 6; seed 001's demo users)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DATA_SCIENTIST = "data-scientist"
    DEVELOPER = "developer"
    VIEWER = "viewer"


class Permission(StrEnum):
    CATALOG_READ = "catalog:read"
    ARTIFACT_DOWNLOAD = "artifact:download"
    MODEL_SUBMIT = "model:submit"
    MODEL_UPDATE = "model:update"
    MODEL_TRANSITION = "model:transition"
    MODEL_PROMOTE_PRODUCTION = "model:promote-production"
    MODEL_ARCHIVE = "model:archive"
    MODEL_REVIEW = "model:review"
    ALIAS_SET = "alias:set"
    DEPLOYMENT_RECORD = "deployment:record"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    SUBMISSION_READ = "submission:read"
    METRICS_READ = "metrics:read"
    API_KEY_MANAGE = "api-key:manage"


_ALL = frozenset(Role)

# One table, so the authorisation matrix test and the docs read from the same place.
PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.CATALOG_READ: _ALL,
    Permission.METRICS_READ: _ALL,
    Permission.AUDIT_VERIFY: _ALL,
    Permission.ARTIFACT_DOWNLOAD: frozenset({Role.ADMIN, Role.DATA_SCIENTIST, Role.DEVELOPER}),
    Permission.DEPLOYMENT_RECORD: frozenset({Role.ADMIN, Role.DEVELOPER}),
    Permission.MODEL_SUBMIT: frozenset({Role.ADMIN, Role.DATA_SCIENTIST}),
    Permission.MODEL_UPDATE: frozenset({Role.ADMIN, Role.DATA_SCIENTIST}),
    Permission.SUBMISSION_READ: frozenset({Role.ADMIN, Role.DATA_SCIENTIST}),
    Permission.MODEL_TRANSITION: frozenset({Role.ADMIN}),
    Permission.MODEL_PROMOTE_PRODUCTION: frozenset({Role.ADMIN}),
    Permission.MODEL_ARCHIVE: frozenset({Role.ADMIN}),
    Permission.MODEL_REVIEW: frozenset({Role.ADMIN}),
    Permission.ALIAS_SET: frozenset({Role.ADMIN}),
    Permission.AUDIT_READ: frozenset({Role.ADMIN}),
    Permission.API_KEY_MANAGE: frozenset({Role.ADMIN}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: the subject is what audit entries and events name as the actor."""

    subject: str
    roles: frozenset[Role]

    def can(self, permission: Permission) -> bool:
        return bool(self.roles & PERMISSIONS[permission])
