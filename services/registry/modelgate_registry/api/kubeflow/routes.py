"""Routes of the Kubeflow Model Registry API, mounted under /api/model_registry/v1 and /v1alpha3.

Registered models, model versions, model artifacts and artifacts: list, get, find, create,
update, and a version's artifacts. GETs need `catalog:read` and show what the native API would
(`visibility.Audience`); creating needs `model:submit`;
PATCH needs `model:update` (and `model:archive` to change a state).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic_core import to_json

from modelgate_registry.api.deps import Editor, Readers, Submitter
from modelgate_registry.api.kubeflow import wire
from modelgate_registry.api.kubeflow.service import KubeflowService, Paging
from modelgate_shared.errors import ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}
PREFIXES = ("/api/model_registry/v1", "/api/model_registry/v1alpha3")


async def _service(request: Request) -> KubeflowService:
    service: KubeflowService = request.app.state.kubeflow
    return service


Service = Annotated[KubeflowService, Depends(_service)]


def paging(
    pageSize: Annotated[int, Query(ge=1, le=1000)] = 100,
    orderBy: Literal["ID", "CREATE_TIME", "LAST_UPDATE_TIME"] = "ID",
    sortOrder: Literal["ASC", "DESC"] = "ASC",
    nextPageToken: str | None = None,
) -> Paging:
    # An empty token means the first page: the upstream client's pager asks once more with
    # nextPageToken= after the last page and stops when the first page's token comes back.
    return Paging(pageSize, orderBy, sortOrder, nextPageToken or None)


Page = Annotated[Paging, Depends(paging)]
Filter = Annotated[str | None, Query(alias="filterQuery", max_length=4096)]


def answer(body: dict[str, Any]) -> Response:
    """Serialise once (pydantic-core): returned as a dict, FastAPI would validate it against
    the response model and then serialise it; `response_model` still documents the shape."""
    return Response(to_json(body), media_type="application/json")


def created(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=201)


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(
        prefix=prefix, tags=[f"kubeflow {prefix.rsplit('/', 1)[-1]}"], responses=ERRORS
    )

    # -- registered models --
    @router.get("/registered_models", response_model=dict[str, Any])
    async def get_registered_models(
        service: Service, audience: Readers, page: Page, filter_query: Filter = None
    ) -> Response:
        return answer(await service.list_models(audience, page, filter_query))

    @router.post("/registered_models", status_code=201)
    async def create_registered_model(
        service: Service, actor: Submitter, body: Annotated[wire.RegisteredModelIn, Body()]
    ) -> JSONResponse:
        return created(await service.create_model(actor, body))

    @router.get("/registered_model", response_model=dict[str, Any])
    async def find_registered_model(
        service: Service,
        audience: Readers,
        name: str | None = None,
        externalId: str | None = None,
    ) -> Response:
        return answer(await service.find_model(audience, name, externalId))

    @router.get("/registered_models/{model_id}", response_model=dict[str, Any])
    async def get_registered_model(model_id: str, service: Service, audience: Readers) -> Response:
        return answer(await service.get_model(audience, model_id))

    @router.patch("/registered_models/{model_id}")
    async def update_registered_model(
        model_id: str,
        service: Service,
        actor: Editor,
        body: Annotated[wire.RegisteredModelIn, Body()],
    ) -> dict[str, Any]:
        return await service.update_model(actor, model_id, body)

    @router.get("/registered_models/{model_id}/versions", response_model=dict[str, Any])
    async def get_registered_model_versions(
        model_id: str,
        service: Service,
        audience: Readers,
        page: Page,
        filter_query: Filter = None,
        name: str | None = None,
        externalId: str | None = None,
    ) -> Response:
        return answer(
            await service.list_versions(
                audience, page, filter_query, model_id=model_id, name=name, external_id=externalId
            )
        )

    @router.post("/registered_models/{model_id}/versions", status_code=201)
    async def create_registered_model_version(
        model_id: str,
        service: Service,
        actor: Submitter,
        body: Annotated[wire.ModelVersionIn, Body()],
    ) -> JSONResponse:
        return created(await service.create_version(actor, body, model_id))

    # -- model versions --
    @router.get("/model_versions", response_model=dict[str, Any])
    async def get_model_versions(
        service: Service, audience: Readers, page: Page, filter_query: Filter = None
    ) -> Response:
        return answer(await service.list_versions(audience, page, filter_query))

    @router.post("/model_versions", status_code=201)
    async def create_model_version(
        service: Service, actor: Submitter, body: Annotated[wire.ModelVersionIn, Body()]
    ) -> JSONResponse:
        return created(await service.create_version(actor, body))

    @router.get("/model_version", response_model=dict[str, Any])
    async def find_model_version(
        service: Service,
        audience: Readers,
        name: str | None = None,
        externalId: str | None = None,
        parentResourceId: str | None = None,
    ) -> Response:
        return answer(await service.find_version(audience, name, externalId, parentResourceId))

    @router.get("/model_versions/{version_id}", response_model=dict[str, Any])
    async def get_model_version(version_id: str, service: Service, audience: Readers) -> Response:
        return answer(await service.get_version(audience, version_id))

    @router.patch("/model_versions/{version_id}")
    async def update_model_version(
        version_id: str,
        service: Service,
        actor: Editor,
        body: Annotated[wire.ModelVersionIn, Body()],
    ) -> dict[str, Any]:
        return await service.update_version(actor, version_id, body)

    @router.get("/model_versions/{version_id}/artifacts", response_model=dict[str, Any])
    async def get_model_version_artifacts(
        version_id: str,
        service: Service,
        audience: Readers,
        page: Page,
        filter_query: Filter = None,
        name: str | None = None,
        externalId: str | None = None,
        artifactType: str | None = None,
    ) -> Response:
        return answer(
            await service.list_artifacts(
                audience,
                page,
                filter_query,
                version_id=version_id,
                name=name,
                external_id=externalId,
                artifact_type=artifactType,
            )
        )

    @router.post("/model_versions/{version_id}/artifacts")
    async def upsert_model_version_artifact(
        version_id: str,
        service: Service,
        actor: Submitter,
        body: Annotated[wire.ArtifactIn, Body()],
    ) -> JSONResponse:
        artifact, is_new = await service.upsert_version_artifact(actor, version_id, body)
        return JSONResponse(artifact, status_code=201 if is_new else 200)

    # -- model artifacts and artifacts --
    for path, kind in (("model_artifacts", "model-artifact"), ("artifacts", None)):
        _artifact_routes(router, path, kind)
    return router


def _artifact_routes(router: APIRouter, path: str, kind: str | None) -> None:
    single = path[:-1]  # model_artifacts -> model_artifact, artifacts -> artifact

    @router.get(f"/{path}", name=f"get_{path}", response_model=dict[str, Any])
    async def list_artifacts(
        service: Service,
        audience: Readers,
        page: Page,
        filter_query: Filter = None,
        artifactType: str | None = None,
    ) -> Response:
        return answer(
            await service.list_artifacts(
                audience, page, filter_query, artifact_type=kind or artifactType
            )
        )

    @router.post(f"/{path}", status_code=201, name=f"create_{single}")
    async def create_artifact(
        service: Service, actor: Submitter, body: Annotated[wire.ArtifactIn, Body()]
    ) -> JSONResponse:
        return created(await service.create_artifact(actor, body))

    @router.get(f"/{single}", name=f"find_{single}", response_model=dict[str, Any])
    async def find_artifact(
        service: Service,
        audience: Readers,
        name: str | None = None,
        externalId: str | None = None,
        parentResourceId: str | None = None,
    ) -> Response:
        return answer(
            await service.find_artifact(audience, name, externalId, parentResourceId, kind)
        )

    @router.get(f"/{path}/{{artifact_id}}", name=f"get_{single}", response_model=dict[str, Any])
    async def get_artifact(artifact_id: str, service: Service, audience: Readers) -> Response:
        return answer(await service.get_artifact(audience, artifact_id, kind))

    @router.patch(f"/{path}/{{artifact_id}}", name=f"update_{single}")
    async def update_artifact(
        artifact_id: str, service: Service, actor: Editor, body: Annotated[wire.ArtifactIn, Body()]
    ) -> dict[str, Any]:
        return await service.update_artifact(actor, artifact_id, body)


def routers() -> list[APIRouter]:
    return [build_router(prefix) for prefix in PREFIXES]
