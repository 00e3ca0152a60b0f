"""What the registry accepts as the validated bytes of a version: the validator's pinned copies.

A `passed` verdict is only as good as the digests it carries. The registry stores the pinned
file list as the version's artifact (path, SHA-256, size, pinned location and S3 VersionId),
serves downloads from it and publishes its root as the artifact URI; what the submission named
is kept beside it for lineage, never served.
"""

from __future__ import annotations

from typing import Any

from modelgate_shared.events.validated import GATE_SIGNATURE_NAME, ModelValidated
from modelgate_shared.policy import is_under

NEVER_HASHED = "bytes never hashed cannot be registered"


def pinning_problem(val: ModelValidated, pinned_bucket: str | None = None) -> str | None:
    """Why a `passed` verdict cannot register its version, or None when every submitted file
    has a digest and a pinned copy under the pinned root (in `pinned_bucket`, when given)."""
    if val.pinned is None:
        return f"{NEVER_HASHED}: the passed verdict carries no pinned files"
    if pinned_bucket is not None and not is_under(val.pinned.uri, f"s3://{pinned_bucket}/"):
        return f"pinned copies at {val.pinned.uri} are not in the pinned bucket {pinned_bucket!r}"
    pinned = {f.path: f for f in val.pinned.files}
    missing = [f.path for f in val.submission.artifact.files if f.path not in pinned]
    if missing:
        return f"{NEVER_HASHED}: no digest for {', '.join(missing[:5])}"
    for declared in val.submission.artifact.files:
        copy = pinned[declared.path]
        if declared.sha256 is not None and declared.sha256 != copy.sha256:
            return (
                f"{declared.path}: pinned SHA-256 {copy.sha256} is not the declared "
                f"{declared.sha256}"
            )
        if copy.version_id is None or not is_under(copy.uri, val.pinned.uri):
            return f"{declared.path}: {copy.uri} is not a pinned version under {val.pinned.uri}"
    signature = val.pinned.signature
    if signature is not None and (
        signature.version_id is None
        or signature.path != GATE_SIGNATURE_NAME
        or signature.path in pinned
        or not is_under(signature.uri, _folder(val.pinned.uri))
    ):
        # The same rule as the files': a pinned version in this version's pinned folder, and
        # under its own name, so a download never writes it over a model file.
        return (
            f"the gate's signature {signature.uri} is not a pinned {GATE_SIGNATURE_NAME} "
            f"under {val.pinned.uri}"
        )
    return None


def _folder(uri: str) -> str:
    """The pinned folder: the root itself, or the folder of a single-file artifact's copy."""
    return uri if uri.endswith("/") else uri.rsplit("/", 1)[0] + "/"


def pinned_artifact(val: ModelValidated) -> dict[str, Any]:
    """The version's `artifact` column: the pinned files, in the submission's order."""
    assert val.pinned is not None
    by_path = {f.path: f for f in val.pinned.files}
    return {
        "uri": val.pinned.uri,
        "format": val.submission.artifact.format.value,
        "files": [by_path[f.path].model_dump(mode="json") for f in val.submission.artifact.files],
        "submitted_uri": val.submission.artifact.uri,
        **(
            {"signature": val.pinned.signature.model_dump(mode="json")}
            if val.pinned.signature
            else {}
        ),
    }
