"""The catalog's hot reads, each one query: a version with everything its page shows.

A version detail needs the model, the version, its aliases, transitions and the model's
deployments; separate queries cost a pool round trip (and connection reset) each, which
dominated the read path under load. Here PostgreSQL assembles it in one statement.
"""

from __future__ import annotations

from typing import Any

from modelgate_shared.db.pool import Executor

VERSION_DETAIL = """
SELECT to_jsonb(v) AS version, to_jsonb(m) AS model,
  coalesce((SELECT jsonb_agg(jsonb_build_object('alias', a.alias, 'version_id', a.version_id,
                'version', v.version, 'updated_by', a.updated_by, 'updated_at', a.updated_at)
                ORDER BY a.alias)
            FROM registry.aliases a WHERE a.version_id = v.id), '[]') AS aliases,
  coalesce((SELECT jsonb_agg(to_jsonb(t) - 'version_id' ORDER BY t.id)
            FROM registry.transitions t WHERE t.version_id = v.id), '[]') AS transitions,
  coalesce((SELECT jsonb_agg(to_jsonb(d) || jsonb_build_object('version', v.version)
                ORDER BY d.deployed_at DESC, d.id DESC)
            FROM registry.deployments d WHERE d.version_id = v.id), '[]') AS deployments
FROM registry.models m JOIN registry.versions v ON v.model_id = m.id
WHERE m.name = $1 AND v.version = $2
"""


async def version_detail(db: Executor, name: str, version: str) -> dict[str, Any] | None:
    row = await db.fetchrow(VERSION_DETAIL, name, version)
    return dict(row) if row is not None else None
