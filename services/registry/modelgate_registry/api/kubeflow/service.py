"""The Kubeflow API's operations on the registry's state.

Reads are plain queries that show each reader what the native API shows them (the one rule in
`visibility.Audience`: a hidden item is a 404, absent from lists). Every write goes through
the lifecycle service, so it locks the model, records history and emits its event like any
other change. A version created here starts
PENDING; once a model artifact with an `s3://` URI is attached it enters the gate
(`model.submitted` through the outbox) and the gate's verdict registers or rejects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

import asyncpg

from modelgate_registry import artifact_rules, errors
from modelgate_registry.api.kubeflow import wire
from modelgate_registry.api.kubeflow.filter_query import Column, compile_filter
from modelgate_registry.artifact_files import UnusableArtifact, list_files
from modelgate_registry.lifecycle import Registry
from modelgate_registry.pagination import Sort, encode_cursor, keyset
from modelgate_registry.records import ArtifactRecord, ModelRecord, VersionRecord
from modelgate_registry.store import models, versions
from modelgate_registry.store.read_connections import ReadConnections
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Permission, Principal
from modelgate_shared.db.pool import Connection, Executor
from modelgate_shared.errors import ApiError
from modelgate_shared.events import (
    Artifact,
    ArtifactFormat,
    ModelCard,
    ModelSubmitted,
    VersionStatus,
)
from modelgate_shared.names import model_name_problem, version_problem

_TIME = "(extract(epoch FROM {t}.{c}) * 1000)::bigint"
MODEL_COLUMNS = {
    "id": Column("m.id", "number"),
    "name": Column("m.name", "text"),
    "state": Column("m.state", "text"),
    "externalId": Column("m.external_id", "text"),
    "description": Column("m.description", "text"),
    "owner": Column("m.owner", "text"),
    "createTimeSinceEpoch": Column(_TIME.format(t="m", c="created_at"), "number"),
    "lastUpdateTimeSinceEpoch": Column(_TIME.format(t="m", c="updated_at"), "number"),
}
VERSION_COLUMNS = {
    "id": Column("v.id", "number"),
    "name": Column("v.version", "text"),
    "state": Column("(CASE WHEN v.status = 'ARCHIVED' THEN 'ARCHIVED' ELSE 'LIVE' END)", "text"),
    "externalId": Column("v.external_id", "text"),
    "description": Column("v.description", "text"),
    "author": Column("v.author", "text"),
    "registeredModelId": Column("v.model_id", "number"),
    "createTimeSinceEpoch": Column(_TIME.format(t="v", c="created_at"), "number"),
    "lastUpdateTimeSinceEpoch": Column(_TIME.format(t="v", c="updated_at"), "number"),
}
ARTIFACT_COLUMNS = {
    "id": Column("a.id", "number"),
    "name": Column("a.name", "text"),
    "uri": Column("a.uri", "text"),
    "state": Column("a.state", "text"),
    "externalId": Column("a.external_id", "text"),
    "artifactType": Column("a.artifact_type", "text"),
    "modelFormatName": Column("(a.properties ->> 'modelFormatName')", "text"),
    "createTimeSinceEpoch": Column(_TIME.format(t="a", c="created_at"), "number"),
    "lastUpdateTimeSinceEpoch": Column(_TIME.format(t="a", c="updated_at"), "number"),
}
ORDER = {
    "ID": ("id", "bigint"),
    "CREATE_TIME": ("created_at", "timestamptz"),
    "LAST_UPDATE_TIME": ("updated_at", "timestamptz"),
}
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Paging:
    page_size: int = DEFAULT_PAGE_SIZE
    order_by: Literal["ID", "CREATE_TIME", "LAST_UPDATE_TIME"] = "ID"
    sort_order: Literal["ASC", "DESC"] = "ASC"
    token: str | None = None


def _id(value: str, what: str) -> int:
    # isascii: str.isdigit() is also true of "¹" (which int() refuses: a 500, found by the
    # API fuzzing) and of other scripts' digits (which int() reads, so "٣" was id 3).
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 10**9:
        raise errors.not_found(f"{what} {value!r}")
    return int(value)


def _equal(where: list[str], params: list[Any], *pairs: tuple[str, Any]) -> None:
    """Add `column = $n` to `where` for each (column, value) whose value is given."""
    for column, value in pairs:
        if value is not None and value != "":
            params.append(value)
            where.append(f"{column} = ${len(params)}")


def _page_sql(
    *, select: str, alias: str, where: list[str], params: list[Any], paging: Paging
) -> tuple[str, str, str]:
    """(statement, sort column, order) of one page in the requested order, one row beyond it to tell
    whether another page follows; appends its parameters to `params`."""
    column, cast = ORDER[paging.order_by]
    sort = Sort(f"{alias}.{column}", paging.sort_order == "DESC", cast)
    after, order = keyset(sort, paging.token or None, f"{alias}.id", params)
    clauses = [*where, *([after] if after else [])]
    params.append(paging.page_size + 1)
    statement = (
        f"{select} WHERE {' AND '.join(clauses) or 'TRUE'} ORDER BY {order} LIMIT ${len(params)}"
    )
    return statement, column, order


def _cut(rows: list[Any], column: str, paging: Paging) -> tuple[list[Any], str]:
    """The page and its token, derived from the last row (deterministic, as the upstream
    client's pager requires), "" after the last page."""
    items = rows[: paging.page_size]
    if len(rows) <= paging.page_size:
        return items, ""
    last = items[-1]
    return items, encode_cursor(last[column], last["id"])


async def _page(
    db: Executor | ReadConnections,
    *,
    select: str,
    alias: str,
    where: list[str],
    params: list[Any],
    paging: Paging,
) -> tuple[list[Any], str]:
    statement, column, _ = _page_sql(
        select=select, alias=alias, where=where, params=params, paging=paging
    )
    return _cut(await db.fetch(statement, *params), column, paging)


class KubeflowService:
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

    # -- registered models --------------------------------------------------------------------

    async def list_models(
        self, audience: Audience, paging: Paging, filter_query: str | None
    ) -> dict[str, Any]:
        params: list[Any] = []
        where = [compile_filter(filter_query, MODEL_COLUMNS, "m.custom_properties", params)]
        where.append(audience.model_sql("m"))
        rows, token = await _page(
            self.reads,
            select=f"SELECT {wire.MODEL_COLUMNS} FROM registry.models m",  # noqa: S608
            alias="m",
            where=where,
            params=params,
            paging=paging,
        )
        # Rows go straight to the wire shape: no record to validate what PostgreSQL returned.
        return wire.page([wire.model_out(r) for r in rows], token, paging.page_size)

    async def find_model(
        self, audience: Audience, name: str | None, external_id: str | None
    ) -> dict[str, Any]:
        if name:
            found = await models.by_name(self.pool, name)
        elif external_id:
            found = await models.by_external_id(self.pool, external_id)
        else:
            raise ApiError(400, "find needs name or externalId")
        if found is None or not audience.sees_model(found.state):
            raise errors.not_found(f"registered model {name or external_id!r}")
        return wire.model_out(found)

    async def get_model(self, audience: Audience, model_id: str) -> dict[str, Any]:
        found = await models.by_id(self.pool, _id(model_id, "registered model"))
        if found is None or not audience.sees_model(found.state):
            raise errors.not_found(f"registered model {model_id!r}")
        return wire.model_out(found)

    async def create_model(self, actor: Principal, body: wire.RegisteredModelIn) -> dict[str, Any]:
        if body.name is None:
            raise ApiError(422, "a registered model needs a name")
        _check_name(model_name_problem(body.name))
        fields = _model_fields(body)
        fields.pop("state", None)
        async with self.registry.transaction() as conn:
            try:
                model = await models.create(conn, body.name, actor.subject, **fields)
            except asyncpg.UniqueViolationError as exc:
                raise errors.conflict(_duplicate(exc, f"registered model {body.name!r}")) from exc
            change = await self.registry.locked(conn, model)
            await self.registry.created(change, None, actor.subject)
        return wire.model_out(model)

    async def update_model(
        self, actor: Principal, model_id: str, body: wire.RegisteredModelIn
    ) -> dict[str, Any]:
        fields = _model_fields(body)
        state = fields.pop("state", None)
        async with self.registry.transaction() as conn:
            model = await models.by_id(conn, _id(model_id, "registered model"))
            if model is None:
                raise errors.not_found(f"registered model {model_id!r}")
            _no_rename("registered model", model.name, body.name)
            change = await self.registry.locked(conn, model)
            if state is not None and state != model.state:
                _require(actor, Permission.MODEL_ARCHIVE, "archive or restore a model")
                model = await self.registry.model_state(
                    change, state, actor.subject, "set through the Kubeflow API"
                )
            changed = {k: v for k, v in fields.items() if getattr(model, k) != v}
            if changed:
                try:
                    model = await models.update(conn, model.id, **changed)
                except asyncpg.UniqueViolationError as exc:
                    raise errors.conflict(_duplicate(exc, "externalId")) from exc
                await self.registry.metadata_changed(change, None, actor.subject, sorted(changed))
        return wire.model_out(model)

    # -- model versions -----------------------------------------------------------------------

    async def list_versions(
        self,
        audience: Audience,
        paging: Paging,
        filter_query: str | None,
        *,
        model_id: str | None = None,
        name: str | None = None,
        external_id: str | None = None,
    ) -> dict[str, Any]:
        params: list[Any] = []
        where = [compile_filter(filter_query, VERSION_COLUMNS, "v.custom_properties", params)]
        where.append(audience.version_sql("v"))
        _equal(where, params, ("v.version", name), ("v.external_id", external_id))
        select = f"SELECT {wire.VERSION_COLUMNS} FROM registry.versions v"  # noqa: S608
        if model_id is None:
            rows, token = await _page(
                self.reads, select=select, alias="v", where=where, params=params, paging=paging
            )
        else:
            rows, token = await self._model_page(audience, model_id, select, where, params, paging)
        return wire.page([wire.version_out(r) for r in rows], token, paging.page_size)

    async def _model_page(
        self,
        audience: Audience,
        model_id: str,
        select: str,
        where: list[str],
        params: list[Any],
        paging: Paging,
    ) -> tuple[list[Any], str]:
        """A model's versions and whether the model is there for this reader, in one round
        trip: the page joins the model, so no row means an unknown or hidden model (a 404)
        and one row of NULLs an empty page."""
        params.append(_id(model_id, "registered model"))
        where.append(f"v.model_id = ${len(params)}")
        model = len(params)
        inner, column, order = _page_sql(
            select=select, alias="v", where=where, params=params, paging=paging
        )
        rows = await self.reads.fetch(
            f"SELECT page.* FROM registry.models m LEFT JOIN LATERAL ({inner}) page ON TRUE "  # noqa: S608
            f"WHERE m.id = ${model} AND {audience.model_sql('m')} "
            f"ORDER BY {order.replace('v.', 'page.')}",
            *params,
        )
        if not rows:
            raise errors.not_found(f"registered model {model_id!r}")
        if rows[0]["id"] is None:
            return [], ""
        return _cut(rows, column, paging)

    async def find_version(
        self,
        audience: Audience,
        name: str | None,
        external_id: str | None,
        parent: str | None,
    ) -> dict[str, Any]:
        found: VersionRecord | None = None
        if external_id:
            found = await versions.by_external_id(self.pool, external_id)
        elif name and parent:
            found = await versions.by_name(self.pool, _id(parent, "registered model"), name)
        elif name:
            # Only versions the reader may see count: "several models" must not reveal others.
            rows = await self.pool.fetch(
                "SELECT * FROM registry.versions v "  # noqa: S608
                f"WHERE v.version = $1 AND {audience.version_sql('v')} ORDER BY v.id LIMIT 2",
                name,
            )
            if len(rows) > 1:
                raise ApiError(
                    400, f"several models have a version {name!r}: pass parentResourceId"
                )
            found = VersionRecord.of(rows[0]) if rows else None
        else:
            raise ApiError(400, "find needs name (with parentResourceId) or externalId")
        if found is None or not await self._sees_version(audience, found):
            raise errors.not_found(f"model version {name or external_id!r}")
        return wire.version_out(found)

    async def get_version(self, audience: Audience, version_id: str) -> dict[str, Any]:
        # One statement: the reader's visibility rule is part of it (no second query for the
        # model's state).
        found = await self.reads.fetchrow(
            f"SELECT {wire.VERSION_COLUMNS} FROM registry.versions v "  # noqa: S608
            f"WHERE v.id = $1 AND {audience.version_sql('v')}",
            _id(version_id, "model version"),
        )
        if found is None:
            raise errors.not_found(f"model version {version_id!r}")
        return wire.version_out(found)

    async def _sees_version(self, audience: Audience, version: VersionRecord) -> bool:
        if audience.everything:
            return True
        model = await models.by_id(self.pool, version.model_id)
        return model is not None and audience.sees_version(model.state, version.status)

    async def create_version(
        self, actor: Principal, body: wire.ModelVersionIn, model_id: str | None = None
    ) -> dict[str, Any]:
        parent = model_id or body.registeredModelId
        if body.name is None or not parent:
            raise ApiError(422, "a model version needs a name and a registeredModelId")
        _check_name(version_problem(body.name))
        async with self.registry.transaction() as conn:
            model = await models.by_id(conn, _id(parent, "registered model"))
            if model is None:
                raise errors.not_found(f"registered model {parent!r}")
            change = await self.registry.locked(conn, model)
            try:
                version = await versions.create(
                    conn,
                    model.id,
                    body.name,
                    submission_id=uuid4(),
                    submitter=actor.subject,
                    status=VersionStatus.PENDING.value,
                    author=body.author,
                    description=body.description or "",
                    external_id=body.externalId,
                    custom_properties=wire.custom_properties(body.customProperties),
                )
            except asyncpg.UniqueViolationError as exc:
                raise errors.conflict(
                    _duplicate(exc, f"version {body.name!r} of registered model {model.name!r}")
                ) from exc
            await self.registry.created(change, version, actor.subject)
        return wire.version_out(version)

    async def update_version(
        self, actor: Principal, version_id: str, body: wire.ModelVersionIn
    ) -> dict[str, Any]:
        async with self.registry.transaction() as conn:
            version = await versions.by_id(conn, _id(version_id, "model version"))
            if version is None:
                raise errors.not_found(f"model version {version_id!r}")
            model = await models.by_id(conn, version.model_id)
            assert model is not None
            _no_rename("model version", version.version, body.name)
            change = await self.registry.locked(conn, model)
            if body.state is not None and body.state != wire.version_out(version)["state"]:
                _require(actor, Permission.MODEL_ARCHIVE, "archive or restore a version")
                reason = "set through the Kubeflow API"
                version = (
                    await self.registry.archive(change, version, actor.subject, reason)
                    if body.state == "ARCHIVED"
                    else await self.registry.restore(change, version, actor.subject, reason)
                )
            fields = _version_fields(body)
            changed = {k: v for k, v in fields.items() if getattr(version, k) != v}
            if changed:
                try:
                    version = await versions.update(conn, version.id, **changed)
                except asyncpg.UniqueViolationError as exc:
                    raise errors.conflict(_duplicate(exc, "externalId")) from exc
                await self.registry.metadata_changed(
                    change, version, actor.subject, sorted(changed)
                )
        return wire.version_out(version)

    # -- artifacts ----------------------------------------------------------------------------

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
        where.append(audience.artifact_sql("a"))
        if version_id is not None:
            await self.get_version(audience, version_id)  # an unknown or hidden version: 404
        _equal(
            where,
            params,
            ("a.version_id", None if version_id is None else int(version_id)),
            ("a.name", name),
            ("a.external_id", external_id),
            ("a.artifact_type", artifact_type),
        )
        rows, token = await _page(
            self.pool,
            select="SELECT a.* FROM registry.artifacts a",
            alias="a",
            where=where,
            params=params,
            paging=paging,
        )
        return wire.page(
            [wire.artifact_out(ArtifactRecord.of(r)) for r in rows], token, paging.page_size
        )

    async def find_artifact(
        self,
        audience: Audience,
        name: str | None,
        external_id: str | None,
        parent: str | None,
        artifact_type: str | None = None,
    ) -> dict[str, Any]:
        params: list[Any] = []
        where: list[str] = []
        if external_id:
            _equal(where, params, ("external_id", external_id))
        elif name:
            parent_id = _id(parent, "model version") if parent else None
            _equal(where, params, ("name", name), ("version_id", parent_id))
        else:
            raise ApiError(400, "find needs name (with parentResourceId) or externalId")
        _equal(where, params, ("artifact_type", artifact_type))
        where.append(audience.artifact_sql("a"))
        row = await self.pool.fetchrow(
            f"SELECT * FROM registry.artifacts a WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY id LIMIT 1",
            *params,
        )
        if row is None:
            raise errors.not_found(f"artifact {name or external_id!r}")
        return wire.artifact_out(ArtifactRecord.of(row))

    async def get_artifact(
        self, audience: Audience, artifact_id: str, artifact_type: str | None = None
    ) -> dict[str, Any]:
        row = await self.pool.fetchrow(
            "SELECT * FROM registry.artifacts a "  # noqa: S608
            f"WHERE a.id = $1 AND {audience.artifact_sql('a')}",
            _id(artifact_id, "artifact"),
        )
        if row is None or (artifact_type and row["artifact_type"] != artifact_type):
            raise errors.not_found(f"artifact {artifact_id!r}")
        return wire.artifact_out(ArtifactRecord.of(row))

    async def create_artifact(self, actor: Principal, body: wire.ArtifactIn) -> dict[str, Any]:
        """An artifact not (yet) attached to a version: stored, no gate involved."""
        body.check()
        try:
            row = await self.pool.fetchrow(
                "INSERT INTO registry.artifacts (artifact_type, name, uri, state, description, "
                "external_id, properties, custom_properties) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                "$8) RETURNING *",
                body.artifactType,
                body.name,
                body.uri,
                body.state or "UNKNOWN",
                body.description,
                body.externalId,
                body.properties(),
                wire.custom_properties(body.customProperties),
            )
        except asyncpg.UniqueViolationError as exc:
            raise errors.conflict(_duplicate(exc, "externalId")) from exc
        return wire.artifact_out(ArtifactRecord.of(row))

    async def upsert_version_artifact(
        self, actor: Principal, version_id: str, body: wire.ArtifactIn
    ) -> tuple[dict[str, Any], bool]:
        """Attach (or update) an artifact of a version; (artifact, created). Attaching the
        model artifact of a pending version submits that version to the gate; past PENDING a
        model artifact is fixed (`artifact_rules`)."""
        body.check()
        async with self.registry.transaction() as conn:
            version = await versions.by_id(conn, _id(version_id, "model version"))
            if version is None:
                raise errors.not_found(f"model version {version_id!r}")
            model = await models.by_id(conn, version.model_id)
            assert model is not None
            change = await self.registry.locked(conn, model)
            existing = await conn.fetchrow(
                "SELECT * FROM registry.artifacts WHERE version_id = $1 AND artifact_type = $2 "
                "AND name IS NOT DISTINCT FROM $3",
                version.id,
                body.artifactType,
                body.name,
            )
            if existing is not None:
                record = await self._update_artifact(
                    conn, ArtifactRecord.of(existing), version, body
                )
                return wire.artifact_out(record), False
            artifact_rules.check_new(body.artifactType, version)
            row = await conn.fetchrow(
                "INSERT INTO registry.artifacts (version_id, artifact_type, name, uri, state, "
                "description, external_id, properties, custom_properties) VALUES ($1, $2, $3, $4, "
                "$5, $6, $7, $8, $9) RETURNING *",
                version.id,
                body.artifactType,
                body.name,
                body.uri,
                body.state or "UNKNOWN",
                body.description,
                body.externalId,
                body.properties(),
                wire.custom_properties(body.customProperties),
            )
            record = ArtifactRecord.of(row)
            if (
                body.artifactType == "model-artifact"
                and body.uri
                and version.status == VersionStatus.PENDING
            ):
                await self._enter_gate(change, model, version, record, actor)
            return wire.artifact_out(record), True

    async def _enter_gate(
        self,
        change: Any,
        model: ModelRecord,
        version: VersionRecord,
        artifact: ArtifactRecord,
        actor: Principal,
    ) -> None:
        assert artifact.uri is not None
        try:
            files = await list_files(self.s3, artifact.uri, self.allowed_buckets)
        except UnusableArtifact as exc:
            await self.registry.reject(change, version, actor.subject, str(exc))
            return
        submission = ModelSubmitted(
            submission_id=version.submission_id,
            name=model.name,
            version=version.version,
            submitter=actor.subject,
            artifact=Artifact(uri=artifact.uri, format=_format(artifact), files=files),
            model_card=_card(model, version),
            labels=version.labels,
            submitted_at=datetime.now(UTC),
        )
        await self.registry.submit(change, version, submission)

    async def update_artifact(
        self, actor: Principal, artifact_id: str, body: wire.ArtifactIn
    ) -> dict[str, Any]:
        body.check()
        async with self.registry.transaction() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM registry.artifacts WHERE id = $1 FOR UPDATE",
                _id(artifact_id, "artifact"),
            )
            if row is None:
                raise errors.not_found(f"artifact {artifact_id!r}")
            record = ArtifactRecord.of(row)
            version = await versions.by_id(conn, record.version_id) if record.version_id else None
            if version is not None:
                model = await models.by_id(conn, version.model_id)
                assert model is not None
                change = await self.registry.locked(conn, model)
                record = await self._update_artifact(conn, record, version, body)
                await self.registry.metadata_changed(change, version, actor.subject, ["artifact"])
            else:
                record = await self._update_artifact(conn, record, None, body)
        return wire.artifact_out(record)

    async def _update_artifact(
        self,
        conn: Connection,
        record: ArtifactRecord,
        version: VersionRecord | None,
        body: wire.ArtifactIn,
    ) -> ArtifactRecord:
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
            row = await conn.fetchrow(
                "UPDATE registry.artifacts SET name = $2, uri = $3, state = $4, description = $5, "
                "external_id = $6, properties = $7, custom_properties = $8, updated_at = now() "
                "WHERE id = $1 RETURNING *",
                record.id,
                given.get("name", record.name),
                given.get("uri", record.uri),
                given.get("state", record.state) or "UNKNOWN",
                given.get("description", record.description),
                given.get("externalId", record.external_id),
                properties,
                custom,
            )
        except asyncpg.UniqueViolationError as exc:
            raise errors.conflict(_duplicate(exc, "externalId")) from exc
        return ArtifactRecord.of(row)  # type: ignore[no-any-return]


def _check_name(problem: str | None) -> None:
    """The naming rules ingest and the validator apply (modelgate_shared.names): 422."""
    if problem is not None:
        raise ApiError(422, problem)


def _no_rename(what: str, current: str, sent: str | None) -> None:
    """Names are identities (events, audit entries and aliases refer to them): a PATCH may
    repeat the name, as the upstream client does, but not change it."""
    if sent is not None and sent != current:
        raise ApiError(422, f"a {what}'s name cannot change ({current!r}); create a new one")


def _require(actor: Principal, permission: Permission, what: str) -> None:
    if not actor.can(permission):
        raise errors.forbidden(f"{actor.subject!r} lacks permission '{permission}' to {what}")


def _duplicate(exc: asyncpg.UniqueViolationError, what: str) -> str:
    detail = getattr(exc, "detail", "") or ""
    if "external_id" in detail:
        return f"externalId already in use: {detail}"
    return f"{what} already exists"


def _model_fields(body: wire.RegisteredModelIn) -> dict[str, Any]:
    fields = body.given("description", "owner", "license", "state")
    if "description" in fields and fields["description"] is None:
        fields["description"] = ""
    if "externalId" in body.model_fields_set:
        fields["external_id"] = body.externalId
    if "customProperties" in body.model_fields_set:
        fields["custom_properties"] = wire.custom_properties(body.customProperties)
    extra = {k: v for k, v in body.given(*wire.MODEL_EXTRA).items() if v is not None}
    if extra:
        fields["kubeflow"] = extra
    return fields


def _version_fields(body: wire.ModelVersionIn) -> dict[str, Any]:
    fields = body.given("description", "author")
    if "description" in fields and fields["description"] is None:
        fields["description"] = ""
    if "externalId" in body.model_fields_set:
        fields["external_id"] = body.externalId
    if "customProperties" in body.model_fields_set:
        # PATCH replaces customProperties whole (the registry's own modelgate.* stay ours).
        fields["custom_properties"] = wire.custom_properties(body.customProperties)
    return fields


def _format(artifact: ArtifactRecord) -> ArtifactFormat:
    name = str(artifact.properties.get("modelFormatName", "")).lower()
    for fmt in ArtifactFormat:
        if fmt.value == name:
            return fmt
    aliases = {
        "pytorch": ArtifactFormat.PYTORCH,
        "torch": ArtifactFormat.PYTORCH,
        "vllm": ArtifactFormat.SAFETENSORS,
        "huggingface": ArtifactFormat.HF_DIRECTORY,
    }
    return aliases.get(name, ArtifactFormat.OTHER)


def _card(model: ModelRecord, version: VersionRecord) -> ModelCard:
    """The model card of a version made through the Kubeflow API: its and its model's fields,
    and same-named string custom properties (e.g. `intended_use`)."""
    custom = {**model.custom_properties, **version.custom_properties}

    def text(key: str) -> str | None:
        value = custom.get(key, {})
        found = value.get("string_value") if isinstance(value, dict) else None
        return str(found) if found else None

    return ModelCard(
        description=version.description or model.description,
        owner_team=model.owner or text("owner_team"),
        license=model.license or text("license"),
        intended_use=text("intended_use"),
        limitations=text("limitations"),
        training_data_version=text("training_data_version"),
        code_commit=text("code_commit"),
    )
