"""MinIO's buckets and per-service users, made with the root credentials before services start.

The services no longer run as MinIO's root: each has a user of its own whose policy
(`modelgate_shared.s3_policies`) allows only what that service does in S3. They may not create
buckets either, so the stack makes them here: the main bucket, and its pinned twin with Object
Lock (which S3 allows only at creation).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from minio import Minio, MinioAdmin
from minio.credentials.providers import StaticProvider

from modelgate_shared.s3_policies import (
    S3_SERVICES,
    pinned,
    policy_name,
    service_policy,
    user_name,
)

STACK_BUCKET = "modelgate"
TEST_BUCKETS = "mg-test-*"
"""The tests' per-run buckets (`modelgate_testkit.namespace`): the stack's users cover them too."""
POLICY_BUCKETS = (STACK_BUCKET, TEST_BUCKETS)


def _host(endpoint: str) -> tuple[str, bool]:
    parts = urlsplit(endpoint)
    return parts.netloc, parts.scheme == "https"


def ensure_buckets(endpoint: str, root_user: str, root_password: str, bucket: str) -> None:
    """`bucket` and its pinned twin (with Object Lock), created if absent."""
    host, secure = _host(endpoint)
    client = Minio(host, access_key=root_user, secret_key=root_password, secure=secure)
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    if not client.bucket_exists(pinned(bucket)):
        client.make_bucket(pinned(bucket), object_lock=True)


def provision_users(
    endpoint: str, root_user: str, root_password: str, passwords: Mapping[str, str]
) -> None:
    """One user per service with its policy (idempotent: re-applied on every `up`, so a
    changed policy reaches a running MinIO). Secrets go in request bodies, never argv."""
    host, secure = _host(endpoint)
    admin = MinioAdmin(
        endpoint=host, credentials=StaticProvider(root_user, root_password), secure=secure
    )
    for service in S3_SERVICES:
        admin.policy_add(policy_name(service), policy=service_policy(service, POLICY_BUCKETS))
        admin.user_add(user_name(service), passwords[service])
        admin.policy_set(policy_name(service), user=user_name(service))
