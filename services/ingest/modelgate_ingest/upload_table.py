"""The `ingest.uploads` table: one row per presigned upload, its files' plan and state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from modelgate_shared.errors import ApiError


@dataclass
class UploadRow:
    upload_id: UUID
    submitter: str
    metadata: dict[str, Any]
    files: list[dict[str, Any]]
    state: str

    @classmethod
    def of(cls, row: asyncpg.Record | dict[str, Any]) -> UploadRow:
        def _json(value: Any) -> Any:
            return json.loads(value) if isinstance(value, str) else value

        return cls(
            row["upload_id"],
            row["submitter"],
            _json(row["metadata"]),
            _json(row["files"]),
            row["state"],
        )

    def file(self, path: str) -> dict[str, Any]:
        for item in self.files:
            if item["path"] == path:
                return item
        raise ApiError(422, f"upload {self.upload_id} has no file {path!r}")


class UploadTable:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, upload_id: UUID) -> UploadRow | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM ingest.uploads WHERE upload_id = $1", upload_id
        )
        return None if row is None else UploadRow.of(row)

    async def insert(
        self, upload_id: UUID, submitter: str, metadata_json: str, files: list[dict[str, Any]]
    ) -> bool:
        """A new open upload; False when one with this id is there already."""
        inserted = await self.pool.fetchval(
            "INSERT INTO ingest.uploads (upload_id, submitter, metadata, files, state) "
            "VALUES ($1, $2, $3::jsonb, $4::jsonb, 'open') ON CONFLICT (upload_id) DO NOTHING "
            "RETURNING upload_id",
            upload_id,
            submitter,
            metadata_json,
            json.dumps(files),
        )
        return inserted is not None

    async def touch(self, upload_id: UUID) -> None:
        await self.pool.execute(
            "UPDATE ingest.uploads SET last_activity_at = now() WHERE upload_id = $1", upload_id
        )

    async def save_files(self, upload: UploadRow) -> None:
        await self.pool.execute(
            "UPDATE ingest.uploads SET files = $2::jsonb, last_activity_at = now() "
            "WHERE upload_id = $1",
            upload.upload_id,
            json.dumps(upload.files),
        )

    async def reopen(self, upload: UploadRow) -> None:
        """Open again, with its (fresh) files, and its abandoned submission pending again."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE ingest.uploads SET files = $2::jsonb, state = 'open', "
                "last_activity_at = now() WHERE upload_id = $1",
                upload.upload_id,
                json.dumps(upload.files),
            )
            await conn.execute(
                "UPDATE ingest.submissions SET status = 'pending', detail = '', "
                "updated_at = now() WHERE submission_id = $1 AND status = 'abandoned'",
                upload.upload_id,
            )

    async def claim_completed(self, upload: UploadRow) -> bool:
        """Mark it completed with its files; False when it was aborted meanwhile."""
        claimed = await self.pool.fetchval(
            "UPDATE ingest.uploads SET state = 'completed', files = $2::jsonb, "
            "last_activity_at = now() WHERE upload_id = $1 AND state <> 'aborted' "
            "RETURNING upload_id",
            upload.upload_id,
            json.dumps(upload.files),
        )
        return claimed is not None

    async def mark_aborted(self, upload_id: UUID, reason: str) -> None:
        """Aborted, and its pending submission abandoned with `reason`."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE ingest.uploads SET state = 'aborted', last_activity_at = now() "
                "WHERE upload_id = $1 AND state = 'open'",
                upload_id,
            )
            await conn.execute(
                "UPDATE ingest.submissions SET status = 'abandoned', detail = $2, "
                "updated_at = now() WHERE submission_id = $1 AND status = 'pending'",
                upload_id,
                reason,
            )

    async def idle(self, after_s: float, limit: int = 100) -> list[UUID]:
        """Open uploads with no request for longer than `after_s`."""
        rows = await self.pool.fetch(
            "SELECT upload_id FROM ingest.uploads WHERE state = 'open' "
            "AND last_activity_at < now() - make_interval(secs => $1) LIMIT $2",
            after_s,
            limit,
        )
        return [row["upload_id"] for row in rows]
