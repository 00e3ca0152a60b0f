"""A submission id names one submission: one model version, supplied by one submitter.

Submitters choose their submission ids (ingest derives them, a producer may pick any), and a
registered producer may sign any event as itself. So an event can reuse an id the registry
already knows, for another model, another version, or someone else's pending version. Such an
event must neither create anything nor decide the version the id belongs to: these rules say
when an event and a stored version do not belong together.
"""

from __future__ import annotations

from modelgate_registry.records import ModelRecord, VersionRecord
from modelgate_shared.events import ModelSubmitted, VersionStatus


def reuse_problem(bound: tuple[str, str] | None, sub: ModelSubmitted) -> str | None:
    """Why `sub` may not be recorded, when its id is already bound to (model, version)."""
    if bound is None or bound == (sub.name, sub.version):
        return None
    return (
        f"submission {sub.submission_id} belongs to {bound[0]} {bound[1]}; an event reusing it "
        f"for {sub.name} {sub.version} is ignored"
    )


def claim_problem(existing: VersionRecord, sub: ModelSubmitted) -> str | None:
    """Why `sub` may not supply the artifact of a PENDING version created with its id: only
    the person who created that version may submit it outside the Kubeflow API."""
    if existing.submitter == sub.submitter:
        return None
    return (
        f"{sub.submitter!r} cannot submit {sub.name} {sub.version}, created by "
        f"{existing.submitter!r}"
    )


def verdict_problem(model: ModelRecord, version: VersionRecord, sub: ModelSubmitted) -> str | None:
    """Why a verdict about `sub` may not decide `version`, found by the same submission id."""
    if (model.name, version.version) != (sub.name, sub.version):
        return (
            f"the verdict is about {sub.name} {sub.version}, but submission "
            f"{sub.submission_id} is {model.name} {version.version}"
        )
    if version.status == VersionStatus.PENDING:
        return f"{sub.name} {sub.version} was never submitted to the gate (still PENDING)"
    supplied_by = version.uploader or version.submitter
    if supplied_by != sub.submitter:
        return (
            f"the verdict names {sub.submitter!r} as submitter, but {supplied_by!r} supplied "
            f"{sub.name} {sub.version}"
        )
    return None
