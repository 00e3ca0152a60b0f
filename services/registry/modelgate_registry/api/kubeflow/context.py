"""What the Kubeflow API's operations work with: the registry, its pools, and S3."""

from __future__ import annotations

from typing import Any

import asyncpg

from modelgate_registry import errors
from modelgate_registry.lifecycle import Registry
from modelgate_registry.recording import Change
from modelgate_registry.records import VersionRecord
from modelgate_registry.store import models, versions
from modelgate_registry.store.read_connections import ReadConnections
from modelgate_shared.db.pool import Connection


class KubeflowContext:
    def __init__(
        self,
        registry: Registry,
        s3: Any,
        allowed_buckets: set[str],
        reads: ReadConnections | None = None,
    ) -> None:
        self.registry = registry
        self.pool = registry.pool
        self.reads: ReadConnections | asyncpg.Pool = reads or registry.pool
        """Where the hot reads (a version, a model's versions, the model list) run."""
        self.s3 = s3
        self.allowed_buckets = allowed_buckets

    async def locked_version(
        self, conn: Connection, version_id: int, shown: str
    ) -> tuple[Change, VersionRecord]:
        """A version for a change: its model's row locked (every change takes that lock
        first, as the native API's `_locate` does), then the version read under the lock, so
        a change that committed meanwhile (a concurrent attach that sent it to the gate) is
        seen; 404 naming `shown` for an unknown version."""
        version = await versions.by_id(conn, version_id)
        if version is None:
            raise errors.not_found(f"model version {shown!r}")
        model = await models.by_id(conn, version.model_id)
        assert model is not None
        change = await self.registry.locked(conn, model)
        current = await versions.by_id(conn, version_id)
        assert current is not None  # versions are never deleted
        return change, current
