"""Artifacts through the Kubeflow API: list, find, get, create, a version's upsert, update.

Attaching the model artifact of a PENDING version submits that version to the gate
(`gate_entry`); past PENDING a model artifact is fixed (`artifact_rules`).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from modelgate_registry import artifact_rules, errors
from modelgate_registry.api.kubeflow import wire
from modelgate_registry.api.kubeflow.checks import duplicate, parse_id
from modelgate_registry.api.kubeflow.context import KubeflowContext
from modelgate_registry.api.kubeflow.filter_columns import ARTIFACT_COLUMNS
from modelgate_registry.api.kubeflow.filter_query import compile_filter
from modelgate_registry.api.kubeflow.gate_entry import enter_gate
from modelgate_registry.records import ArtifactRecord, VersionRecord
from modelgate_registry.store import artifacts, versions
from modelgate_registry.store.pages import Paging
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Principal
from modelgate_shared.db.pool import Connection, Executor
from modelgate_shared.errors import ApiError
from modelgate_shared.events import VersionStatus


class Artifacts(KubeflowContext):
    async def list_artifacts(
        self,
        audience: Audience,
        paging: Paging,
        filter_query: str | None,
        *,
        version_id: str | None = None,
        name: str | None = None,
        external_id: str | None = None,
        artifact_type: str | None = None,
    ) -> dict[str, Any]:
        params: list[Any] = []
        where = [compile_filter(filter_query, ARTIFACT_COLUMNS, "a.custom_properties", params)]
        parent: int | None = None
        if version_id is not None:
            parent = parse_id(version_id, "model version")
            # An unknown or hidden version: 404.
            if await versions.visible(self.reads, audience, parent, columns="v.id") is None:
                raise errors.not_found(f"model version {version_id!r}")
        records, token = await artifacts.page(
            self.pool,
            audience,
            paging,
            where,
            params,
            version_id=parent,
            name=name,
            external_id=external_id,
            artifact_type=artifact_type,
        )
        return wire.page([wire.artifact_out(r) for r in records], token, paging.page_size)

    async def find_artifact(
        self,
        audience: Audience,
        name: str | None,
        external_id: str | None,
        parent: str | None,
        artifact_type: str | None = None,
    ) -> dict[str, Any]:
        if external_id:
            found = await artifacts.find(
                self.pool, audience, external_id=external_id, artifact_type=artifact_type
            )
        elif name:
            found = await artifacts.find(
                self.pool,
                audience,
                name=name,
                version_id=parse_id(parent, "model version") if parent else None,
                artifact_type=artifact_type,
            )
        else:
            raise ApiError(400, "find needs name (with parentResourceId) or externalId")
        if found is None:
            raise errors.not_found(f"artifact {name or external_id!r}")
        return wire.artifact_out(found)

    async def get_artifact(
        self, audience: Audience, artifact_id: str, artifact_type: str | None = None
    ) -> dict[str, Any]:
        found = await artifacts.visible(self.pool, audience, parse_id(artifact_id, "artifact"))
        if found is None or (artifact_type and found.artifact_type != artifact_type):
            raise errors.not_found(f"artifact {artifact_id!r}")
        return wire.artifact_out(found)

    async def create_artifact(self, actor: Principal, body: wire.ArtifactIn) -> dict[str, Any]:
        """An artifact not (yet) attached to a version: stored, no gate involved."""
        body.check()
        return wire.artifact_out(await _create(self.pool, None, body))

    async def upsert_version_artifact(
        self, actor: Principal, version_id: str, body: wire.ArtifactIn
    ) -> tuple[dict[str, Any], bool]:
        """Attach (or update) an artifact of a version; (artifact, created). Attaching the
        model artifact of a pending version submits that version to the gate; past PENDING a
        model artifact is fixed (`artifact_rules`)."""
        body.check()
        async with self.registry.transaction() as conn:
            change, version = await self.locked_version(
                conn, parse_id(version_id, "model version"), version_id
            )
            model = change.model
            existing = await artifacts.of_version(conn, version.id, body.artifactType, body.name)
            if existing is not None:
                record = await _update(conn, existing, version, body)
                return wire.artifact_out(record), False
            artifact_rules.check_new(body.artifactType, version)
            record = await _create(conn, version.id, body)
            if (
                body.artifactType == "model-artifact"
                and body.uri
                and version.status == VersionStatus.PENDING
            ):
                await enter_gate(
                    self.registry,
                    self.s3,
                    self.allowed_buckets,
                    change,
                    model,
                    version,
                    record,
                    actor,
                )
            return wire.artifact_out(record), True

    async def update_artifact(
        self, actor: Principal, artifact_id: str, body: wire.ArtifactIn
    ) -> dict[str, Any]:
        body.check()
        async with self.registry.transaction() as conn:
            record = await artifacts.locked(conn, parse_id(artifact_id, "artifact"))
            if record is None:
                raise errors.not_found(f"artifact {artifact_id!r}")
            if record.version_id is not None:
                change, version = await self.locked_version(
                    conn, record.version_id, str(record.version_id)
                )
                record = await _update(conn, record, version, body)
                await self.registry.metadata_changed(change, version, actor.subject, ["artifact"])
            else:
                record = await _update(conn, record, None, body)
        return wire.artifact_out(record)


async def _create(db: Executor, version_id: int | None, body: wire.ArtifactIn) -> ArtifactRecord:
    """Store a new artifact as `body` describes it (of a version, or of none); 409 when its
    externalId is taken."""
    try:
        return await artifacts.create(
            db,
            version_id=version_id,
            artifact_type=body.artifactType,
            name=body.name,
            uri=body.uri,
            state=body.state or "UNKNOWN",
            description=body.description,
            external_id=body.externalId,
            properties=body.properties(),
            custom_properties=wire.custom_properties(body.customProperties),
        )
    except asyncpg.UniqueViolationError as exc:
        raise errors.conflict(duplicate(exc, "externalId")) from exc


async def _update(
    conn: Connection,
    record: ArtifactRecord,
    version: VersionRecord | None,
    body: wire.ArtifactIn,
) -> ArtifactRecord:
    """Apply a PATCH (or a repeated upsert) to an artifact, if `artifact_rules` allow the change."""
    given = body.given("name", "uri", "state", "description", "externalId")
    properties = {**record.properties, **body.properties()}
    current = {
        "name": record.name,
        "uri": record.uri,
        "state": record.state,
        "description": record.description,
        "externalId": record.external_id,
    }
    changed = [k for k, v in given.items() if v != current[k]]
    changed += [k for k, v in properties.items() if record.properties.get(k) != v]
    if "customProperties" in body.model_fields_set:
        changed.append("customProperties")
    artifact_rules.check_change(record.artifact_type, version, changed)
    custom = (
        wire.custom_properties(body.customProperties)
        if "customProperties" in body.model_fields_set
        else record.custom_properties
    )
    try:
        return await artifacts.update(
            conn,
            record.id,
            name=given.get("name", record.name),
            uri=given.get("uri", record.uri),
            state=given.get("state", record.state) or "UNKNOWN",
            description=given.get("description", record.description),
            external_id=given.get("externalId", record.external_id),
            properties=properties,
            custom_properties=custom,
        )
    except asyncpg.UniqueViolationError as exc:
        raise errors.conflict(duplicate(exc, "externalId")) from exc
