"""Each service's S3 rights, as IAM policy documents (MinIO's policy language is AWS's).

One S3 user per service, each with only what it does in S3:

- ingest writes (and, for a failed upload, deletes) under its staging prefix;
- the validator reads the artifact buckets and writes the pinned bucket, with retention;
- the registry only reads (the presigned downloads it hands out are signed with its keys);
- audit writes and reads its checkpoints prefix.

No service may bypass governance retention, delete an object version, change a bucket's
Object Lock, versioning or policy, or create or delete a bucket: the buckets exist before the
services start (the stack's provisioning, the test harness, a Helm hook), made by an operator
with the root credentials. Only the validator may write a pinned bucket.

`buckets` are bucket names or patterns (`mg-test-*`): each one's pinned twin is `<name>-pinned`,
the services' default (`ServiceSettings.pinned_bucket`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

S3_SERVICES = ("ingest", "validator", "registry", "audit")

STAGING_PREFIX = "staging"
"""Ingest's MODELGATE_STAGING_PREFIX default: the only place ingest writes."""
AUDIT_PREFIX = "audit"
"""Above the audit service's MODELGATE_AUDIT_CHECKPOINT_PREFIX default (audit/checkpoints)."""

FORBIDDEN_TO_EVERY_SERVICE = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteObjectVersion",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutObjectLegalHold",
    "s3:PutBucketVersioning",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:CreateBucket",
    "s3:DeleteBucket",
)
"""Explicitly denied (a deny wins over any allow, also one added to the user later)."""


def pinned(bucket: str) -> str:
    return f"{bucket}-pinned"


def _arns(buckets: Sequence[str], suffix: str = "") -> list[str]:
    return [f"arn:aws:s3:::{b}{suffix}" for b in buckets]


def _allow(actions: Sequence[str], resources: Sequence[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}


def _deny(actions: Sequence[str], resources: Sequence[str]) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": list(actions), "Resource": list(resources)}


BUCKET_READ = ("s3:ListBucket", "s3:GetBucketLocation")
OBJECT_READ = ("s3:GetObject", "s3:GetObjectVersion")


def service_policy(service: str, buckets: Sequence[str]) -> dict[str, Any]:
    """The policy of `service`'s S3 user over `buckets` (and their pinned twins)."""
    twins = [pinned(b) for b in buckets]
    everything = [*buckets, *twins]
    statements: list[dict[str, Any]]
    if service == "ingest":
        statements = [
            _allow(BUCKET_READ, _arns(buckets)),
            _allow(
                (
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                    "s3:DeleteObject",
                ),
                _arns(buckets, f"/{STAGING_PREFIX}/*"),
            ),
            # `mg-test-*` also matches a pinned twin: no write there, whatever the key.
            _deny(("s3:PutObject", "s3:DeleteObject"), _arns(twins, "/*")),
        ]
    elif service == "validator":
        statements = [
            _allow(
                (*BUCKET_READ, "s3:GetBucketObjectLockConfiguration", "s3:GetBucketVersioning"),
                _arns(everything),
            ),
            _allow(OBJECT_READ, _arns(everything, "/*")),
            _allow(
                (
                    "s3:PutObject",
                    "s3:PutObjectRetention",
                    "s3:GetObjectRetention",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ),
                _arns(twins, "/*"),
            ),
            # It reads submissions, never changes them, and deletes nothing anywhere.
            _deny(("s3:DeleteObject",), _arns(everything, "/*")),
        ]
    elif service == "registry":
        statements = [
            _allow(BUCKET_READ, _arns(everything)),
            _allow(OBJECT_READ, _arns(everything, "/*")),
            _deny(("s3:PutObject", "s3:DeleteObject", "s3:PutObjectRetention"), ["arn:aws:s3:::*"]),
        ]
    elif service == "audit":
        statements = [
            _allow(BUCKET_READ, _arns(buckets)),
            _allow(("s3:PutObject", "s3:GetObject"), _arns(buckets, f"/{AUDIT_PREFIX}/*")),
            _deny(("s3:PutObject", "s3:DeleteObject"), _arns(twins, "/*")),
        ]
    else:
        raise ValueError(f"no S3 policy for {service!r} (one of {', '.join(S3_SERVICES)})")
    statements.append(_deny(FORBIDDEN_TO_EVERY_SERVICE, ["arn:aws:s3:::*"]))
    return {"Version": "2012-10-17", "Statement": statements}


def policy_name(service: str) -> str:
    return f"modelgate-{service}"


def user_name(service: str) -> str:
    """The access key of `service`'s S3 user."""
    return f"modelgate-{service}"
