"""The same naming rules on every path (issue 17, finding 7).

Kubeflow creates answered 201 for registered models named `../../x`, `a/b`, blank, with a
right-to-left override or with a Cyrillic letter beside a real model's name, and for versions
named `latest` or `../1`. Now they get ingest's answer: 422 with the reason, and nothing is made.
"""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest

from modelgate_shared.events import (
    SUBMITTED,
    ArtifactFile,
    ModelValidated,
    Verdict,
    encode,
    new_event,
)
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import TopicTap, produce
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, metadata, register, upload
from tests.support.polling import poll

pytestmark = pytest.mark.e2e
REAL = "Granite-3.1-8b-Instruct-FP8-demo"
BAD_MODEL_NAMES = {
    "../../x": "not a valid model name",
    "a/b": "not a valid model name",
    "   ": "blank",
    "report\u202etxt.exe": "bidirectional control U+202E",
    "Granite-3.1-8b-Instruct-FP8-dem\u043e": "mixes scripts",
    "\uff27ranite": "NFKC",
}
BAD_VERSIONS = {"latest": "reserved", "../1": "not a SemVer", "1.0": "not a SemVer"}


@pytest.mark.parametrize("prefix", ["v1", "v1alpha3"])
async def test_kubeflow_creates_refuse_what_ingest_refuses(
    gate: Gate, namespace: Namespace, prefix: str
) -> None:
    base = f"/api/model_registry/{prefix}"
    scientist = namespace.auth("data-scientist")
    real = f"{REAL}-{prefix}"
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:
        made = await http.post(f"{base}/registered_models", json={"name": real}, headers=scientist)
        assert made.status_code == 201, made.text
        model_id = made.json()["id"]
        for name, why in BAD_MODEL_NAMES.items():
            answer = await http.post(
                f"{base}/registered_models", json={"name": name}, headers=scientist
            )
            assert answer.status_code == 422, (name, answer.text)
            assert why in answer.json()["message"], (name, answer.text)
        for bad, why in BAD_VERSIONS.items():
            for path, body in (
                ("/model_versions", {"name": bad, "registeredModelId": model_id}),
                (f"/registered_models/{model_id}/versions", {"name": bad}),
            ):
                answer = await http.post(f"{base}{path}", json=body, headers=scientist)
                assert answer.status_code == 422, (path, bad, answer.text)
                assert why in answer.json()["message"]
        renamed = await http.patch(
            f"{base}/registered_models/{model_id}", json={"name": "a/b"}, headers=scientist
        )
        assert renamed.status_code == 422
        version = await http.post(
            f"{base}/model_versions",
            json={"name": "1.0.0", "registeredModelId": model_id},
            headers=scientist,
        )
        assert version.status_code == 201, "a good name still passes"
        same = await http.patch(
            f"{base}/model_versions/{version.json()['id']}",
            json={"name": "1.0.0", "description": "repeating the name is fine"},
            headers=scientist,
        )
        assert same.status_code == 200, same.text
        relabel = await http.patch(
            f"{base}/model_versions/{version.json()['id']}",
            json={"name": "latest"},
            headers=scientist,
        )
        assert relabel.status_code == 422

        listed = await http.get(
            f"{base}/registered_models", params={"pageSize": 1000}, headers=scientist
        )
        names = [m["name"] for m in listed.json()["items"]]
        assert real in names
        assert not [n for n in names if not n.isascii() or "/" in n or not n.strip()]
        versions = await http.get(
            f"{base}/registered_models/{model_id}/versions", headers=scientist
        )
        assert [v["name"] for v in versions.json()["items"]] == ["1.0.0"]


async def test_ingest_refuses_a_look_alike_name(gate: Gate, namespace: Namespace) -> None:
    answer = await upload(
        gate,
        namespace,
        metadata("Granite-3.1-8b-Instruct-FP8-dem\u043e", "1.0.0"),
        [("model.safetensors", tiny_safetensors(61))],
    )
    assert answer.status_code == 422, answer.text
    assert "mixes scripts" in answer.json()["message"]


async def test_a_look_alike_published_to_kafka_makes_no_catalog_entry(
    gate: Gate, namespace: Namespace, tap: TopicTap, settings: ServiceSettings
) -> None:
    """Past ingest, straight onto `model.submitted`: the validator fails it by the same rules,
    and the registry makes no model row a reader could mistake for the real one."""
    data = tiny_safetensors(62)
    key = f"direct/{uuid.uuid4()}/model.safetensors"
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, namespace.bucket)
        await s3.put_object(Bucket=namespace.bucket, Key=key, Body=data)
    files = [
        ArtifactFile(
            path="model.safetensors",
            uri=f"s3://{namespace.bucket}/{key}",
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
    ]
    look_alike = "kafka-dem\u043e"
    sub = submitted(look_alike, files=files)
    event = new_event(SUBMITTED, sub, source="urn:test:producer", subject=f"{look_alike}/1.0.0")
    await produce(
        namespace.infra.kafka,
        namespace.topics.submitted,
        encode(event),
        key=look_alike.encode(),
        signer=namespace.producer,
    )
    (seen,) = await tap.wait_for(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelValidated)
            and s.event.data.submission.submission_id == sub.submission_id
        )
    )
    assert seen.event is not None
    verdict = seen.event.data
    assert isinstance(verdict, ModelValidated)
    assert verdict.verdict == Verdict.FAILED
    assert any("mixes scripts" in c.detail for c in verdict.checks if c.name == "policy")

    # The real one, submitted through ingest, is decided after the registry has read both.
    await register(gate, namespace, "kafka-demo", seed=63)
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as http:
        answer = await poll(
            lambda: http.get(
                "/api/v1/models", params={"name_prefix": "kafka-"}, headers=namespace.auth("admin")
            ),
            lambda a: [m["name"] for m in a.json()["items"]] != ["kafka-demo"],
            timeout_s=5,
        )
    assert [m["name"] for m in answer.json()["items"]] == ["kafka-demo"]
