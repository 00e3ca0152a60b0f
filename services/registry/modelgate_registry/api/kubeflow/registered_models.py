"""Registered models through the Kubeflow API: list, find, get, create, update."""

from __future__ import annotations

from typing import Any

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
from modelgate_registry.api.kubeflow.filter_columns import MODEL_COLUMNS
from modelgate_registry.api.kubeflow.filter_query import compile_filter
from modelgate_registry.store import models
from modelgate_registry.store.pages import Paging
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Permission, Principal
from modelgate_shared.errors import ApiError
from modelgate_shared.names import model_name_problem


class RegisteredModels(KubeflowContext):
    async def list_models(
        self, audience: Audience, paging: Paging, filter_query: str | None
    ) -> dict[str, Any]:
        params: list[Any] = []
        where = [compile_filter(filter_query, MODEL_COLUMNS, "m.custom_properties", params)]
        rows, token = await models.page(
            self.reads, audience, paging, where, params, columns=wire.MODEL_COLUMNS
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
        found = await models.by_id(self.pool, parse_id(model_id, "registered model"))
        if found is None or not audience.sees_model(found.state):
            raise errors.not_found(f"registered model {model_id!r}")
        return wire.model_out(found)

    async def create_model(self, actor: Principal, body: wire.RegisteredModelIn) -> dict[str, Any]:
        if body.name is None:
            raise ApiError(422, "a registered model needs a name")
        check_name(model_name_problem(body.name))
        fields = _model_fields(body)
        fields.pop("state", None)
        async with self.registry.transaction() as conn:
            try:
                model = await models.create(conn, body.name, actor.subject, **fields)
            except asyncpg.UniqueViolationError as exc:
                raise errors.conflict(duplicate(exc, f"registered model {body.name!r}")) from exc
            change = await self.registry.locked(conn, model)
            await self.registry.created(change, None, actor.subject)
        return wire.model_out(model)

    async def update_model(
        self, actor: Principal, model_id: str, body: wire.RegisteredModelIn
    ) -> dict[str, Any]:
        fields = _model_fields(body)
        state = fields.pop("state", None)
        async with self.registry.transaction() as conn:
            model = await models.by_id(conn, parse_id(model_id, "registered model"))
            if model is None:
                raise errors.not_found(f"registered model {model_id!r}")
            no_rename("registered model", model.name, body.name)
            change = await self.registry.locked(conn, model)
            if "kubeflow" in fields:
                # Merge-PATCH: catalog fields not sent keep their values.
                fields["kubeflow"] = {**model.kubeflow, **fields["kubeflow"]}
            if state is not None and state != model.state:
                require(actor, Permission.MODEL_ARCHIVE, "archive or restore a model")
                model = await self.registry.model_state(
                    change, state, actor.subject, "set through the Kubeflow API"
                )
            changed = {k: v for k, v in fields.items() if getattr(model, k) != v}
            if changed:
                try:
                    model = await models.update(conn, model.id, **changed)
                except asyncpg.UniqueViolationError as exc:
                    raise errors.conflict(duplicate(exc, "externalId")) from exc
                await self.registry.metadata_changed(change, None, actor.subject, sorted(changed))
        return wire.model_out(model)


def _model_fields(body: wire.RegisteredModelIn) -> dict[str, Any]:
    """The model's columns a create or PATCH body sets."""
    fields = wire.columns_given(body, "description", "owner", "license", "state")
    extra = {k: v for k, v in body.given(*wire.MODEL_EXTRA).items() if v is not None}
    if extra:
        fields["kubeflow"] = extra
    return fields
