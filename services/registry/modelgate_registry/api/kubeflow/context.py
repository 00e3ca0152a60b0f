"""What the Kubeflow API's operations work with: the registry, its pools, and S3."""

from __future__ import annotations

from typing import Any

import asyncpg

from modelgate_registry.lifecycle import Registry
from modelgate_registry.store.read_connections import ReadConnections


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
