"""The native REST API's lifecycle commands under /api/v1: reviews (and the queue reviewers
read), stage moves, aliases, deployment records, archive and restore, metadata edits.

Each names its actor; the rules live in the registry's domain (`commands.py`,
`gate_side.py`), which this module only calls and answers for.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from modelgate_registry import errors, review_queue
from modelgate_registry.api.deps import (
    AliasSetter,
    Archivist,
    Deployer,
    Editor,
    PoolDep,
    RegistryDep,
    Reviewer,
    Transitioner,
)
from modelgate_registry.api.native import ERRORS, AliasName, Limit, ok
from modelgate_registry.api.schemas import (
    AliasIn,
    DeploymentIn,
    ModelOut,
    ModelPatch,
    Page,
    ReasonIn,
    ReviewIn,
    ReviewItem,
    ReviewPolicyOut,
    TransitionIn,
    VersionOut,
    VersionPatch,
)
from modelgate_registry.lifecycle import Registry
from modelgate_registry.records import DeploymentRecord, VersionRecord
from modelgate_registry.store import models, versions
from modelgate_registry.visibility import Audience

router = APIRouter(prefix="/api/v1", tags=["catalog"])


async def _answer(registry: Registry, name: str, updated: VersionRecord) -> VersionOut:
    """The version a command changed, as the API shows it (with its model's name)."""
    model = await models.by_name(registry.pool, name)
    assert model is not None
    return VersionOut.model_validate({**updated.model_dump(), "model_name": model.name})


@router.post(
    "/models/{name}/versions/{version}/transitions", response_model=VersionOut, responses=ERRORS
)
async def transition(
    name: str, version: str, body: TransitionIn, registry: RegistryDep, actor: Transitioner
) -> VersionOut:
    """Move a registered version to another stage (with a reason). Production needs an admin
    other than the submitter and the uploader of its artifact when four-eyes is on; the current
    production version becomes deprecated and the `production` alias follows (and leaves with a
    version moved out of production). A rollback promotes the earlier version again."""
    updated = await registry.transition(actor, name, version, body.to_stage, body.reason)
    return await _answer(registry, name, updated)


@router.post(
    "/models/{name}/versions/{version}/review", response_model=VersionOut, responses=ERRORS
)
async def review(
    name: str, version: str, body: ReviewIn, registry: RegistryDep, actor: Reviewer
) -> VersionOut:
    """Approve a version waiting for review into the catalog (REGISTERED, stage development),
    or reject it for good, with a reason. The approver must not have submitted or uploaded it
    (four-eyes: 403); a version not waiting for review answers 409."""
    updated = await registry.review(actor, name, version, body.decision, body.reason)
    return await _answer(registry, name, updated)


@router.get("/review-queue", response_model=Page[ReviewItem], responses=ERRORS)
async def list_review_queue(
    pool: PoolDep, _: Reviewer, limit: Limit = 50, cursor: str | None = None
) -> Response:
    """Versions waiting for review, the longest-waiting first, each with its validation
    report, benchmark, model card and the registered version to compare it against."""
    page = await review_queue.waiting(pool, limit=limit, cursor=cursor)
    items = [
        ReviewItem.model_validate({**row, "waiting_since": row["review_requested_at"]})
        for row in page.items
    ]
    return ok(Page(items=items, next_cursor=page.next_cursor))


@router.get("/review-policy", response_model=ReviewPolicyOut, responses=ERRORS)
async def get_review_policy(registry: RegistryDep, _: Reviewer) -> ReviewPolicyOut:
    """The auto-approval rules in force, where they were read from, and the last error
    reading them (the previous rules stay in force when the file is broken)."""
    state = registry.policy.review.refresh()
    return ReviewPolicyOut(
        source=state.source,
        loaded_at=state.loaded_at,
        error=state.error,
        rules=[r.model_dump(exclude_none=True) for r in state.rules],
    )


@router.put("/models/{name}/aliases/{alias}", response_model=VersionOut, responses=ERRORS)
async def set_alias(
    name: str, alias: AliasName, body: AliasIn, registry: RegistryDep, actor: AliasSetter
) -> VersionOut:
    """Point an alias (`champion`, any name) at a version, atomically. `production` is moved
    only by a promotion (the transitions command), so four-eyes cannot be sidestepped: 409."""
    updated = await registry.set_alias(actor, name, alias, body.version, body.reason)
    return await _answer(registry, name, updated)


@router.delete("/models/{name}/aliases/{alias}", status_code=204, responses=ERRORS)
async def delete_alias(
    name: str, alias: AliasName, registry: RegistryDep, actor: AliasSetter, reason: str = ""
) -> None:
    await registry.delete_alias(actor, name, alias, reason)


@router.post(
    "/models/{name}/versions/{version}/deployments",
    status_code=201,
    response_model=DeploymentRecord,
    responses=ERRORS,
)
async def record_deployment(
    name: str, version: str, body: DeploymentIn, registry: RegistryDep, actor: Deployer
) -> DeploymentRecord:
    """Record that a version was deployed to an environment (by whom, when)."""
    # A deployer may be a developer: a version hidden from them is as absent here as on GET
    # (its status must not leak through the command's refusal).
    model = await models.by_name(registry.pool, name)
    found = await versions.by_name(registry.pool, model.id, version) if model else None
    if (
        model is None
        or found is None
        or not Audience.of(actor).sees_version(model.state, found.status)
    ):
        raise errors.not_found(f"version {version!r} of model {name!r}")  # GET's very answer
    return await registry.deploy(actor, name, version, body.environment, body.note)


@router.post(
    "/models/{name}/versions/{version}/archive", response_model=VersionOut, responses=ERRORS
)
async def archive_version(
    name: str, version: str, body: ReasonIn, registry: RegistryDep, actor: Archivist
) -> VersionOut:
    """Soft-delete: the version leaves the catalog and is kept for compliance."""
    updated = await registry.archive_version(actor, name, version, body.reason)
    return await _answer(registry, name, updated)


@router.post(
    "/models/{name}/versions/{version}/restore", response_model=VersionOut, responses=ERRORS
)
async def restore_version(
    name: str, version: str, body: ReasonIn, registry: RegistryDep, actor: Archivist
) -> VersionOut:
    updated = await registry.restore_version(actor, name, version, body.reason)
    return await _answer(registry, name, updated)


@router.post("/models/{name}/archive", response_model=ModelOut, responses=ERRORS)
async def archive_model(
    name: str, body: ReasonIn, registry: RegistryDep, actor: Archivist
) -> ModelOut:
    return ModelOut.of(await registry.set_model_state(actor, name, "ARCHIVED", body.reason))


@router.post("/models/{name}/restore", response_model=ModelOut, responses=ERRORS)
async def restore_model(
    name: str, body: ReasonIn, registry: RegistryDep, actor: Archivist
) -> ModelOut:
    return ModelOut.of(await registry.set_model_state(actor, name, "LIVE", body.reason))


@router.patch("/models/{name}", response_model=ModelOut, responses=ERRORS)
async def update_model(
    name: str, body: ModelPatch, registry: RegistryDep, actor: Editor
) -> ModelOut:
    """Change description, owner, licence or labels; absent fields stay as they are."""
    fields = body.model_dump(exclude_unset=True)
    return ModelOut.of(await registry.update_model(actor, name, fields))


@router.patch("/models/{name}/versions/{version}", response_model=VersionOut, responses=ERRORS)
async def update_version(
    name: str, version: str, body: VersionPatch, registry: RegistryDep, actor: Editor
) -> VersionOut:
    fields = body.model_dump(exclude_unset=True)
    updated = await registry.update_version(actor, name, version, fields)
    return await _answer(registry, name, updated)
