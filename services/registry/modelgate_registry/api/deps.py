"""Dependencies the registry's routes share (FastAPI `Annotated` aliases)."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request

from modelgate_registry.lifecycle import Registry
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Permission, Principal, require
from modelgate_shared.s3_lazy import LazyS3


async def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def _s3(request: Request) -> Any:
    lazy: LazyS3 = request.app.state.s3
    return await lazy.client()


async def _audience(
    principal: Annotated[Principal, Depends(require(Permission.CATALOG_READ))],
) -> Audience:
    return Audience.of(principal)


RegistryDep = Annotated[Registry, Depends(_registry)]
PoolDep = Annotated[asyncpg.Pool, Depends(_pool)]
S3Dep = Annotated[Any, Depends(_s3)]
Reader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
Downloader = Annotated[Principal, Depends(require(Permission.ARTIFACT_DOWNLOAD))]
Submitter = Annotated[Principal, Depends(require(Permission.MODEL_SUBMIT))]
Editor = Annotated[Principal, Depends(require(Permission.MODEL_UPDATE))]
Transitioner = Annotated[Principal, Depends(require(Permission.MODEL_TRANSITION))]
Archivist = Annotated[Principal, Depends(require(Permission.MODEL_ARCHIVE))]
AliasSetter = Annotated[Principal, Depends(require(Permission.ALIAS_SET))]
Deployer = Annotated[Principal, Depends(require(Permission.DEPLOYMENT_RECORD))]
Reviewer = Annotated[Principal, Depends(require(Permission.MODEL_REVIEW))]
Readers = Annotated[Audience, Depends(_audience)]
"""A reader (`catalog:read`) as the audience the visibility rule answers."""
