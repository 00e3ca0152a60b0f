"""Pinned bytes (issue 17, findings 4 and 5): what the validator hashed is what the catalog
serves, from a copy nobody can change, and an artifact URI is never taken from the request."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest

from modelgate_shared.events import (
    SUBMITTED,
    ArtifactFile,
    ModelRegistered,
    encode,
    new_event,
)
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import TopicTap, produce
from modelgate_testkit.kubeflow import model_and_version
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, metadata, wait_for_status

pytestmark = pytest.mark.e2e


async def _stage(settings: ServiceSettings, bucket: str, key: str, data: bytes) -> str:
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, bucket)
        await s3.put_object(Bucket=bucket, Key=key, Body=data)
    return f"s3://{bucket}/{key}"


async def _submit_reference(
    gate: Gate, ns: Namespace, name: str, files: list[dict[str, Any]], **extra: Any
) -> httpx.Response:
    body = {**json.loads(metadata(name)), "files": files, **extra}
    async with httpx.AsyncClient(base_url=gate["ingest"].url, timeout=30) as client:
        return await client.post(
            "/api/v1/submissions", json=body, headers=ns.auth("data-scientist")
        )


async def _download(gate: Gate, ns: Namespace, name: str) -> dict[str, bytes]:
    """Each file of version 1.0.0 as a developer downloads it, checked against its SHA-256."""
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as client:
        answer = await client.get(
            f"/api/v1/models/{name}/versions/1.0.0/download", headers=ns.auth("developer")
        )
        assert answer.status_code == 200, answer.text
        got = {}
        for item in answer.json()["files"]:
            data = (await client.get(item["url"])).content
            assert hashlib.sha256(data).hexdigest() == item["sha256"], item["path"]
            assert len(data) == item["size"]
            got[item["path"]] = data
    return got


async def test_a_reference_without_sha256_is_registered_with_digests_and_served_pinned(
    gate: Gate, namespace: Namespace, settings: ServiceSettings, tap: TopicTap
) -> None:
    name = "pinned-reference"
    data = tiny_safetensors(seed=11)
    key = f"external/{uuid.uuid4()}/model.safetensors"
    staged = await _stage(settings, namespace.bucket, key, data)
    answer = await _submit_reference(
        gate, namespace, name, [{"path": "model.safetensors", "uri": staged}]
    )
    assert answer.status_code == 202, answer.text

    version = await wait_for_status(gate, namespace, name, "1.0.0", {"REGISTERED", "REJECTED"})
    assert version["status"] == "REGISTERED", version["status_reason"]
    artifact = version["artifact"]
    (pinned,) = artifact["files"]
    digest = hashlib.sha256(data).hexdigest()
    assert pinned["sha256"] == digest
    assert pinned["size"] == len(data)
    assert pinned["uri"].startswith(f"s3://{namespace.pinned_bucket}/")
    assert pinned["version_id"]
    assert pinned["submitted_uri"] == staged
    assert artifact["uri"] == pinned["uri"], "a one-file artifact's root is its pinned object"
    (registered,) = await tap.wait_for(
        lambda s: (
            s.topic == namespace.topics.registered
            and s.event is not None
            and isinstance(s.event.data, ModelRegistered)
            and s.event.data.name == name
        )
    )
    assert registered.event is not None
    assert registered.event.data.artifact_uri == artifact["uri"]
    assert await _download(gate, namespace, name) == {"model.safetensors": data}

    # The staging object rewritten, the pinned key written over: what is served stays.
    pinned_key = pinned["uri"].removeprefix(f"s3://{namespace.pinned_bucket}/")
    async with s3_client(settings) as s3:
        await s3.put_object(Bucket=namespace.bucket, Key=key, Body=b"rewritten staging")
        await s3.put_object(Bucket=namespace.pinned_bucket, Key=pinned_key, Body=b"rewritten")
        with pytest.raises(s3.exceptions.ClientError, match=r"WORM|AccessDenied|ObjectLocked"):
            await s3.delete_object(
                Bucket=namespace.pinned_bucket, Key=pinned_key, VersionId=pinned["version_id"]
            )
    assert await _download(gate, namespace, name) == {"model.safetensors": data}


async def test_an_artifact_uri_that_is_not_the_files_root_is_refused_at_ingest(
    gate: Gate, namespace: Namespace, settings: ServiceSettings
) -> None:
    key = f"external/{uuid.uuid4()}/model.safetensors"
    staged = await _stage(settings, namespace.bucket, key, tiny_safetensors(seed=12))
    files = [{"path": "model.safetensors", "uri": staged}]

    elsewhere = await _submit_reference(
        gate, namespace, "uri-elsewhere", files, artifact_uri="s3://attacker-bucket/payload/"
    )
    assert elsewhere.status_code == 422, elsewhere.text
    assert "attacker-bucket" in elsewhere.json()["message"]

    beside = await _submit_reference(
        gate, namespace, "uri-beside", files, artifact_uri=f"s3://{namespace.bucket}/other/"
    )
    assert beside.status_code == 422, beside.text
    assert "not under the artifact uri" in beside.json()["message"]


async def test_a_published_submission_whose_artifact_uri_is_elsewhere_fails_policy(
    gate: Gate, namespace: Namespace, settings: ServiceSettings
) -> None:
    name = "published-elsewhere"
    data = tiny_safetensors(seed=13)
    key = f"direct/{uuid.uuid4()}/model.safetensors"
    staged = await _stage(settings, namespace.bucket, key, data)
    sub = submitted(
        name,
        files=[ArtifactFile(path="model.safetensors", uri=staged, size=len(data))],
        artifact_uri="s3://attacker-bucket/p/",
    )
    event = new_event(SUBMITTED, sub, source="urn:test:producer", subject=f"{name}/1.0.0")
    await produce(
        namespace.infra.kafka,
        namespace.topics.submitted,
        encode(event),
        key=name.encode(),
        headers={"content-type": "application/cloudevents+json"},
        signer=namespace.producer,  # a registered producer, on a topic it may write
    )

    version = await wait_for_status(gate, namespace, name, "1.0.0", {"REGISTERED", "REJECTED"})
    assert version["status"] == "REJECTED"
    assert "policy: artifact uri s3://attacker-bucket/p/" in version["status_reason"]
    assert "not under the artifact uri" in version["status_reason"]


async def test_a_version_created_through_the_kubeflow_api_gets_digests_and_a_pinned_uri(
    gate: Gate, namespace: Namespace, settings: ServiceSettings
) -> None:
    base = f"{gate['registry'].url}/api/model_registry/v1"
    admin = namespace.auth("admin")
    data = tiny_safetensors(seed=14)
    staged = await _stage(settings, namespace.bucket, "kubeflow/pinned/model.safetensors", data)
    async with httpx.AsyncClient(timeout=10) as http:
        _, version_id = await model_and_version(
            http,
            base,
            admin,
            {
                "name": "kf-pinned",
                "owner": "ml-platform",
                "license": "apache-2.0",
                "description": "a model the Kubeflow API brings to the gate",
            },
        )
        attached = await http.post(
            f"{base}/model_versions/{version_id}/artifacts",
            headers=admin,
            json={"artifactType": "model-artifact", "name": "kf-pinned", "uri": staged},
        )
        assert attached.status_code == 201, attached.text

        registered = await wait_for_status(
            gate, namespace, "kf-pinned", "1.0.0", {"REGISTERED", "REJECTED"}
        )
        assert registered["status"] == "REGISTERED", registered["status_reason"]
        (pinned,) = registered["artifact"]["files"]
        assert pinned["sha256"] == hashlib.sha256(data).hexdigest()
        artifacts = await http.get(f"{base}/model_versions/{version_id}/artifacts", headers=admin)
        assert [a["uri"] for a in artifacts.json()["items"]] == [registered["artifact"]["uri"]]
        assert registered["artifact"]["uri"].startswith(f"s3://{namespace.pinned_bucket}/")
    assert await _download(gate, namespace, "kf-pinned") == {"model.safetensors": data}
