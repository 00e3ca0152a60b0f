"""Model versions through the Kubeflow API: list (all, or a model's), find, get, create, update.

A version created here starts PENDING; attaching its model artifact (`artifacts`) submits it.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import asyncpg

from modelgate_registry import errors
from modelgate_registry.api.kubeflow import wire
from modelgate_registry.api.kubeflow.checks import (
    check_name,
    duplicate,
    no_rename,
    parse_id,
    require,
)
from modelgate_registry.api.kubeflow.context import KubeflowContext
from modelgate_registry.api.kubeflow.filter_columns import VERSION_COLUMNS
from modelgate_registry.api.kubeflow.filter_query import compile_filter
from modelgate_registry.records import VersionRecord
from modelgate_registry.store import models, versions
from modelgate_registry.store.pages import Paging
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Permission, Principal
from modelgate_shared.errors import ApiError
from modelgate_shared.events import VersionStatus
from modelgate_shared.names import version_problem


class ModelVersions(KubeflowContext):
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
        columns = wire.VERSION_COLUMNS
        if model_id is None:
            rows, token = await versions.page(
                self.reads,
                audience,
                paging,
                where,
                params,
                columns=columns,
                name=name,
                external_id=external_id,
            )
        else:
            found = await versions.page_of_model(
                self.reads,
                audience,
                paging,
                where,
                params,
                model_id=parse_id(model_id, "registered model"),
                columns=columns,
                name=name,
                external_id=external_id,
            )
            if found is None:
                raise errors.not_found(f"registered model {model_id!r}")
            rows, token = found
        return wire.page([wire.version_out(r) for r in rows], token, paging.page_size)

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
            found = await versions.by_name(self.pool, parse_id(parent, "registered model"), name)
        elif name:
            named = await versions.visible_named(self.pool, audience, name)
            if len(named) > 1:
                raise ApiError(
                    400, f"several models have a version {name!r}: pass parentResourceId"
                )
            found = named[0] if named else None
        else:
            raise ApiError(400, "find needs name (with parentResourceId) or externalId")
        if found is None or not await self._sees_version(audience, found):
            raise errors.not_found(f"model version {name or external_id!r}")
        return wire.version_out(found)

    async def get_version(self, audience: Audience, version_id: str) -> dict[str, Any]:
        # One statement: the reader's visibility rule is part of it (no second query for the
        # model's state).
        found = await versions.visible(
            self.reads,
            audience,
            parse_id(version_id, "model version"),
            columns=wire.VERSION_COLUMNS,
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
        check_name(version_problem(body.name))
        async with self.registry.transaction() as conn:
            model = await models.by_id(conn, parse_id(parent, "registered model"))
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
                    duplicate(exc, f"version {body.name!r} of registered model {model.name!r}")
                ) from exc
            await self.registry.created(change, version, actor.subject)
        return wire.version_out(version)

    async def update_version(
        self, actor: Principal, version_id: str, body: wire.ModelVersionIn
    ) -> dict[str, Any]:
        async with self.registry.transaction() as conn:
            change, version = await self.locked_version(
                conn, parse_id(version_id, "model version"), version_id
            )
            no_rename("model version", version.version, body.name)
            if body.state is not None and body.state != wire.version_state(version.status):
                require(actor, Permission.MODEL_ARCHIVE, "archive or restore a version")
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
                    raise errors.conflict(duplicate(exc, "externalId")) from exc
                await self.registry.metadata_changed(
                    change, version, actor.subject, sorted(changed)
                )
        return wire.version_out(version)


def _version_fields(body: wire.ModelVersionIn) -> dict[str, Any]:
    """The version's columns a PATCH body sets."""
    return wire.columns_given(body, "description", "author")
