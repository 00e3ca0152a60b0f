"""The native REST API's catalog reads under /api/v1: search, models, versions, downloads.

Reads are open to every role; what is not registered (pending, rejected, archived) is shown
only to roles that submit or administer models (the rule is `visibility.Audience`, shared with
the Kubeflow API). The commands are in `lifecycle_routes.py`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from modelgate_registry import catalog, errors, reads
from modelgate_registry.api.deps import (
    Downloader,
    PoolDep,
    Reader,
    S3Dep,
)
from modelgate_registry.api.schemas import (
    ALIAS_PATTERN,
    Download,
    DownloadFile,
    ModelDetail,
    ModelOut,
    Page,
    VersionDetail,
    VersionOut,
)
from modelgate_registry.records import DeploymentRecord, ModelRecord, VersionRecord
from modelgate_registry.store import history, models, versions
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Principal
from modelgate_shared.errors import ErrorBody
from modelgate_shared.events import VersionStatus
from modelgate_shared.query_types import Moment

router = APIRouter(prefix="/api/v1", tags=["catalog"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}
DOWNLOAD_TTL_S = 300
Limit = Annotated[int, Query(ge=1, le=500)]
AliasName = Annotated[str, Path(pattern=ALIAS_PATTERN)]


async def _model(db: Any, name: str, principal: Principal) -> ModelRecord:
    model = await models.by_name(db, name)
    if model is None or not Audience.of(principal).sees_model(model.state):
        raise errors.not_found(f"model {name!r}")
    return model


async def _version(
    db: Any, model: ModelRecord, version: str, principal: Principal
) -> VersionRecord:
    found = await versions.by_name(db, model.id, version)
    if found is None or not Audience.of(principal).sees_version(model.state, found.status):
        raise errors.not_found(f"version {version!r} of model {model.name!r}")
    return found


def ok(body: BaseModel, status_code: int = 200) -> Response:
    """Serialise once (pydantic-core). FastAPI would validate a returned model against the
    response model again; the route's response_model still documents the shape."""
    return Response(body.model_dump_json(), status_code=status_code, media_type="application/json")


def _version_out(model: ModelRecord, version: VersionRecord) -> VersionOut:
    return VersionOut.model_validate({**version.model_dump(), "model_name": model.name})


@router.get("/models", response_model=Page[ModelOut], responses=ERRORS)
async def list_models(
    pool: PoolDep,
    principal: Reader,
    name_prefix: str | None = None,
    label: Annotated[list[str] | None, Query(description="key:value, repeatable")] = None,
    owner: str | None = None,
    include_archived: bool = False,
    sort: str = "name",
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
    """Models in the catalog, filtered and sorted, one cursor page at a time."""
    page = await catalog.search_models(
        pool,
        Audience.of(principal),
        name_prefix=name_prefix,
        labels=label,
        owner=owner,
        include_archived=include_archived,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return ok(Page(items=[ModelOut.of(m) for m in page.items], next_cursor=page.next_cursor))


async def _search_versions(
    db: Any,
    principal: Principal,
    *,
    statuses: list[VersionStatus] | None,
    **filters: Any,
) -> Page[VersionOut]:
    audience = Audience.of(principal)
    wanted = [s.value for s in statuses] if statuses else [VersionStatus.REGISTERED.value]
    if wanted != [VersionStatus.REGISTERED.value] and not audience.everything:
        raise errors.forbidden(f"{principal.subject!r} may list registered versions only")
    page = await catalog.search_versions(db, audience, statuses=wanted, **filters)
    items = [VersionOut.model_validate(v) for v in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get("/versions", response_model=Page[VersionOut], responses=ERRORS)
async def search_versions(
    pool: PoolDep,
    principal: Reader,
    model: str | None = None,
    name_prefix: str | None = None,
    label: Annotated[list[str] | None, Query(description="key:value, repeatable")] = None,
    owner: str | None = None,
    supplied_by: Annotated[
        str | None, Query(description="versions this subject submitted or uploaded")
    ] = None,
    status: Annotated[list[VersionStatus] | None, Query()] = None,
    stage: str | None = None,
    hardware_profile: str | None = None,
    created_after: Moment | None = None,
    created_before: Moment | None = None,
    sort: str = "-created_at",
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
    """Versions across the catalog. Without `status`, registered ones only."""
    return ok(
        await _search_versions(
            pool,
            principal,
            statuses=status,
            model=model,
            name_prefix=name_prefix,
            labels=label,
            owner=owner,
            supplied_by=supplied_by,
            stage=stage,
            hardware_profile=hardware_profile,
            created_after=created_after,
            created_before=created_before,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
    )


@router.get("/models/{name}", response_model=ModelDetail, responses=ERRORS)
async def get_model(name: str, pool: PoolDep, principal: Reader) -> Response:
    visible = Audience.of(principal).version_sql("v")
    async with pool.acquire() as conn:
        model = await _model(conn, name, principal)
        counts = await conn.fetch(
            "SELECT status, count(*) AS n FROM registry.versions v "  # noqa: S608
            f"WHERE model_id = $1 AND {visible} GROUP BY status",
            model.id,
        )
        return ok(
            ModelDetail(
                **ModelOut.of(model).model_dump(),
                aliases=await history.aliases(conn, model.id, visible),
                running=await history.running_where(conn, model.id, visible),
                versions_by_status={r["status"]: r["n"] for r in counts},
            )
        )


@router.get("/models/{name}/versions", response_model=Page[VersionOut], responses=ERRORS)
async def list_model_versions(
    name: str,
    pool: PoolDep,
    principal: Reader,
    status: Annotated[list[VersionStatus] | None, Query()] = None,
    sort: str = "-created_at",
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
    async with pool.acquire() as conn:
        page = await _search_versions(
            conn, principal, statuses=status, model=name, sort=sort, limit=limit, cursor=cursor
        )
        if not page.items:
            await _model(conn, name, principal)  # an unknown (or hidden) model is a 404
        return ok(page)


@router.get("/models/{name}/versions/{version}", response_model=VersionDetail, responses=ERRORS)
async def get_version(name: str, version: str, pool: PoolDep, principal: Reader) -> Response:
    """A version with its model card, metrics, lineage, validation report and benchmark."""
    row = await reads.version_detail(pool, name, version)
    if row is None or not Audience.of(principal).sees_version(
        row["model"]["state"], row["version"]["status"]
    ):
        raise errors.not_found(f"version {version!r} of model {name!r}")
    return ok(VersionDetail.from_row(row))


async def _presigned(s3: Any, name: str, version: str, item: dict[str, Any]) -> DownloadFile:
    """A presigned GET of that very pinned S3 version, with its SHA-256; never the latest
    object under the key."""
    if not item.get("version_id") or not item.get("sha256"):
        raise errors.conflict(
            f"{name} {version}: {item['path']} has no pinned, hashed copy to serve"
        )
    bucket, _, key = item["uri"].removeprefix("s3://").partition("/")
    url = await s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "VersionId": item["version_id"]},
        ExpiresIn=DOWNLOAD_TTL_S,
    )
    return DownloadFile(path=item["path"], url=url, size=item["size"], sha256=item["sha256"])


@router.get("/models/{name}/versions/{version}/download", response_model=Download, responses=ERRORS)
async def download(
    name: str, version: str, pool: PoolDep, s3: S3Dep, principal: Downloader
) -> Download:
    """Short-lived presigned URLs for each file of a registered version's artifact, with its
    SHA-256: the validator's pinned copy (that very S3 version), never the submitted object."""
    model = await _model(pool, name, principal)
    found = await _version(pool, model, version, principal)
    if found.status != VersionStatus.REGISTERED or not found.artifact:
        raise errors.conflict(
            f"{name} {version} is {found.status}: only registered versions can be downloaded"
        )
    files = [await _presigned(s3, name, version, item) for item in found.artifact["files"]]
    sig = found.artifact.get("signature")
    signature = await _presigned(s3, name, version, sig) if sig else None
    return Download(expires_in=DOWNLOAD_TTL_S, files=files, signature=signature)


@router.get(
    "/signing-key",
    response_class=PlainTextResponse,
    responses={**ERRORS, 200: {"content": {"text/plain": {}}}},
)
async def signing_key(request: Request, _: Reader) -> str:
    """The gate's public key (EC P-256, PEM): every registered version's `modelgate.sig`
    (OpenSSF Model Signing, key method) verifies with it. 404 where the gate does not sign."""
    pem: bytes | None = request.app.state.gate_public_key
    if pem is None:
        raise errors.not_found("signing key: this gate does not sign versions")
    return pem.decode()


@router.get("/models/{name}/deployments", response_model=list[DeploymentRecord], responses=ERRORS)
async def list_deployments(name: str, pool: PoolDep, principal: Reader) -> list[DeploymentRecord]:
    model = await _model(pool, name, principal)
    return await history.deployments(pool, model.id, Audience.of(principal).version_sql("v"))
