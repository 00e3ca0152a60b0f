"""The gate's submission policy, shared so ingest can refuse at once what the validator would.

Ingest applies the rules that need no artifact bytes before it accepts an upload (4xx with the
reason); the validator applies all of them again to every submission, since users may publish
`model.submitted` themselves.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from modelgate_shared.env_values import CsvList
from modelgate_shared.events import Artifact, ModelCard, ModelSubmitted
from modelgate_shared.names import identity_problems

CARD_FIELDS = (
    "description",
    "owner_team",
    "license",
    "intended_use",
    "limitations",
    "training_data_version",
    "code_commit",
)


class PolicySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    required_card_fields: CsvList = Field(
        default_factory=lambda: ["description", "owner_team", "license"],
        validation_alias="MODELGATE_REQUIRED_CARD_FIELDS",
    )
    license_allowlist: CsvList = Field(
        default_factory=lambda: [
            "apache-2.0",
            "mit",
            "bsd-2-clause",
            "bsd-3-clause",
            "llama3.1",
            "llama3.2",
            "gemma",
            "cc-by-4.0",
            "cc-by-sa-4.0",
            "openrail",
            "proprietary-internal",
        ],
        validation_alias="MODELGATE_LICENSE_ALLOWLIST",
    )


def card_problems(card: ModelCard, policy: PolicySettings) -> list[str]:
    missing = [f for f in policy.required_card_fields if not getattr(card, f, None)]
    return [f"model card lacks required field(s): {', '.join(missing)}"] if missing else []


def license_problems(card: ModelCard, policy: PolicySettings) -> list[str]:
    license_id = (card.license or "").lower()
    if license_id and license_id not in policy.license_allowlist:
        allowed = ", ".join(policy.license_allowlist)
        return [f"licence {license_id!r} is not on the allow-list ({allowed})"]
    return []


def _bucket(uri: str) -> str:
    return uri.removeprefix("s3://").split("/", 1)[0]


def is_under(uri: str, root: str) -> bool:
    """Whether an object is the artifact's root object or lies under its root prefix (with
    or without the trailing `/`): `s3://b/m/x` is under `s3://b/m` and `s3://b/m/`, never
    under `s3://b/mo`."""
    return uri == root or uri.startswith(root.rstrip("/") + "/")


def artifact_problems(artifact: Artifact, allowed_buckets: set[str]) -> list[str]:
    """An artifact whose root says something its files do not: every file must lie in a
    bucket submissions may reference, under the root, and so in the root's bucket. A root
    the files do not share would name bytes nobody validated (an attacker's bucket)."""
    problems = []
    allowed = ", ".join(sorted(allowed_buckets))
    root_bucket = _bucket(artifact.uri)
    if root_bucket not in allowed_buckets:
        problems.append(
            f"artifact uri {artifact.uri} is in bucket {root_bucket!r}, not one submissions "
            f"may reference ({allowed})"
        )
    outside = [f for f in artifact.files if not is_under(f.uri, artifact.uri)]
    if outside:
        shown = ", ".join(f"{f.path!r} ({f.uri})" for f in outside[:5])
        more = f" and {len(outside) - 5} more" if len(outside) > 5 else ""
        problems.append(
            f"file(s) {shown}{more} are not under the artifact uri {artifact.uri}: the "
            "artifact uri must be the files' root (same bucket, a prefix of every file)"
        )
    foreign = sorted({_bucket(f.uri) for f in artifact.files} - allowed_buckets)
    if foreign:
        problems.append(
            f"file(s) in bucket(s) {', '.join(map(repr, foreign))}, not one submissions may "
            f"reference ({allowed})"
        )
    return problems


def submission_problems(
    submission: ModelSubmitted, policy: PolicySettings, allowed_buckets: set[str]
) -> list[str]:
    """Everything wrong with a submission that can be known without reading its artifact."""
    return [
        *identity_problems(submission.name, submission.version),
        *card_problems(submission.model_card, policy),
        *license_problems(submission.model_card, policy),
        *artifact_problems(submission.artifact, allowed_buckets),
    ]
