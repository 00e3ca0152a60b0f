"""No way around the gate over Kafka: only verdicts the validator signed count, and a
submission published straight to Kafka is recorded under the submitter its key proves.

Each forgery is published to the real broker as an attacker who can write the topic would; the
consumers dead-letter it with the reason, and the registry and the audit log record nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgate_shared.events import (
    SUBMITTED,
    VALIDATED,
    ArtifactFile,
    CloudEvent,
    ModelSubmitted,
    ModelValidated,
    RegistryEvent,
    encode,
    new_event,
)
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.signing import EventSigner
from modelgate_testkit.factories import submitted, validated
from modelgate_testkit.kafka import Seen, TopicTap, produce
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import PRODUCER, Namespace
from tests.support.audit import entries, wait_for_entries
from tests.support.gate import Gate, wait_for_status

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).parents[2] / "examples" / "publish_submission.py"


def _dead_letters(ns: Namespace, topic: str, key: bytes) -> Any:
    dlq = ns.topics.dlq(topic)
    return lambda seen: seen.topic == dlq and seen.key == key


def _group(seen: Seen) -> str:
    return seen.headers["dlq-consumer-group"].rsplit("modelgate-", 1)[-1]


async def _version_answer(gate: Gate, ns: Namespace, name: str, version: str) -> int:
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as client:
        answer = await client.get(
            f"/api/v1/models/{name}/versions/{version}", headers=ns.auth("admin")
        )
    return answer.status_code


async def _staged_file(ns: Namespace, settings: ServiceSettings, seed: int) -> list[ArtifactFile]:
    """A real small model in the run's bucket, as a producer's CI job would have uploaded it."""
    data = tiny_safetensors(seed=seed)
    key = f"ci/{uuid.uuid4()}/model.safetensors"
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, ns.bucket)
        await s3.put_object(Bucket=ns.bucket, Key=key, Body=data)
    return [
        ArtifactFile(
            path="model.safetensors",
            uri=f"s3://{ns.bucket}/{key}",
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
    ]


def _submission_event(sub: ModelSubmitted) -> CloudEvent[Any]:
    return new_event(SUBMITTED, sub, source="urn:ci", subject=f"{sub.name}/{sub.version}")


@pytest.mark.parametrize(
    ("forger", "reason"),
    [
        ("nobody", "unsigned event"),
        ("untrusted", "signed by unknown key"),
        ("ingest", "may not sign io.modelgate.model.validated.v1"),
        ("producer", "may not sign io.modelgate.model.validated.v1"),
    ],
)
async def test_a_forged_verdict_is_dead_lettered_and_registers_nothing(
    gate: Gate, namespace: Namespace, tap: TopicTap, forger: str, reason: str
) -> None:
    signer = {
        "nobody": None,
        "untrusted": EventSigner(Ed25519PrivateKey.generate()),
        "ingest": namespace.service_signer("ingest"),
        "producer": namespace.producer,
    }[forger]
    name = f"forged-verdict-{forger}"
    # A "passed" verdict for a submission the validator never saw, certified for an H100.
    verdict = validated(
        submitted(name, submitter="ai-admin"), certified_hardware_profiles=["nvidia-h100-8gpu"]
    )
    # Published as the validator's Kafka user (a stolen password): the broker lets it write
    # the topic, so only the missing validator signature stands between it and the catalog.
    await produce(
        namespace.infra.kafka_as("validator"),
        namespace.topics.validated,
        encode(new_event(VALIDATED, verdict, source="/modelgate/validator", subject=f"{name}/1")),
        key=name.encode(),
        signer=signer,
    )
    dead = await tap.wait_for(
        _dead_letters(namespace, "model.validated", name.encode()), count=3, timeout_s=60
    )
    assert {_group(s) for s in dead} == {"registry", "ingest", "audit"}
    assert all(reason in s.headers["dlq-reason"] for s in dead), [
        s.headers["dlq-reason"] for s in dead
    ]
    assert await _version_answer(gate, namespace, name, "1.0.0") == 404
    assert await entries(gate["audit"].url, namespace, model=name) == []


async def test_a_producer_claiming_another_submitter_is_dead_lettered(
    gate: Gate, namespace: Namespace, tap: TopicTap, settings: ServiceSettings
) -> None:
    name = "claims-to-be-admin"
    files = await _staged_file(namespace, settings, seed=61)
    sub = submitted(name, submitter="ai-admin", files=files)
    await produce(
        namespace.infra.kafka_as("submitter"),
        namespace.topics.submitted,
        encode(_submission_event(sub)),
        key=name.encode(),
        signer=namespace.producer,  # ci-bot's registered key, on a topic it may write
    )
    dead = await tap.wait_for(
        _dead_letters(namespace, "model.submitted", name.encode()), count=4, timeout_s=60
    )
    assert {_group(s) for s in dead} == {"validator", "registry", "ingest", "audit"}
    for record in dead:
        assert "submitter 'ai-admin' is not the signer" in record.headers["dlq-reason"]
        assert f"may submit only as '{PRODUCER}'" in record.headers["dlq-reason"]
    assert await _version_answer(gate, namespace, name, "1.0.0") == 404
    assert await entries(gate["audit"].url, namespace, model=name) == []
    assert not tap.matching(
        lambda s: (
            isinstance(s.event and s.event.data, ModelValidated)
            and s.event is not None
            and s.event.data.submission.name == name
        )
    ), "the validator validated an unproven submission"


def _verdicts_for(tap: TopicTap, submission_id: uuid.UUID) -> list[Seen]:
    return tap.matching(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelValidated)
            and s.event.data.submission.submission_id == submission_id
        )
    )


def _registry_events(tap: TopicTap, name: str, version: str) -> list[tuple[str, Any]]:
    return [
        (s.topic, s.event.data)
        for s in tap.seen
        if s.event is not None
        and isinstance(s.event.data, RegistryEvent)
        and s.event.data.name == name
        and s.event.data.version == version
    ]


async def test_a_signed_producer_submission_is_registered_under_its_proven_subject_once(
    gate: Gate, namespace: Namespace, tap: TopicTap, settings: ServiceSettings
) -> None:
    name = "from-ci"
    sub = submitted(name, submitter=PRODUCER, files=await _staged_file(namespace, settings, 62))
    await produce(
        namespace.infra.kafka_as("submitter"),
        namespace.topics.submitted,
        encode(_submission_event(sub)),
        key=name.encode(),
        signer=namespace.producer,
    )
    version = await wait_for_status(gate, namespace, name, "1.0.0", {"REGISTERED", "REJECTED"})
    assert version["status"] == "REGISTERED", version
    assert version["submitter"] == PRODUCER
    audited = await wait_for_entries(gate["audit"].url, namespace, 3, model=name)
    submitted_entry = next(e for e in audited if e["action"] == "model_submitted")
    assert submitted_entry["actor"] == PRODUCER

    # A replay of the very record (same bytes, same valid signature) creates nothing new.
    (original,) = tap.matching(
        lambda s: s.topic == namespace.topics.submitted and s.key == b"from-ci"
    )
    before = _registry_events(tap, name, "1.0.0")
    audited_before = len(await entries(gate["audit"].url, namespace, model=name))
    assert original.value is not None
    await produce(
        namespace.infra.kafka_as("submitter"),
        namespace.topics.submitted,
        original.value,
        key=original.key,
        headers=original.headers,
    )
    # A marker after it on the same partition: once it is registered, the replay was read.
    marker = submitted(name, "1.0.1", files=await _staged_file(namespace, settings, 63))
    await produce(
        namespace.infra.kafka_as("submitter"),
        namespace.topics.submitted,
        encode(_submission_event(marker)),
        key=name.encode(),
        signer=namespace.producer,
    )
    await wait_for_status(gate, namespace, name, "1.0.1", {"REGISTERED"})
    await wait_for_entries(gate["audit"].url, namespace, audited_before + 3, model=name)
    assert len(_verdicts_for(tap, sub.submission_id)) == 1, "the replay was validated again"
    assert _registry_events(tap, name, "1.0.0") == before, "the replay changed the registry"
    again = await wait_for_status(gate, namespace, name, "1.0.0", {"REGISTERED"})
    assert [t["to_value"] for t in again["transitions"]] == [
        t["to_value"] for t in version["transitions"]
    ]
    audited_after = await entries(gate["audit"].url, namespace, model=name, version="1.0.0")
    assert [e["action"] for e in audited_after].count("model_submitted") == 1
    assert not tap.matching(lambda s: s.topic.endswith(".dlq") and s.key == b"from-ci"), (
        "a proven event was dead-lettered"
    )


async def test_the_example_producer_submits_a_model_that_is_registered(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    model = tmp_path / "model.safetensors"
    model.write_bytes(tiny_safetensors(seed=64))
    env = {
        **namespace.env(),
        **namespace.kafka_user_env("submitter"),  # an external producer's Kafka principal
        "MODELGATE_PRODUCER_KEY": str(namespace.event_keys.producer_key),
        "MODELGATE_PRODUCER_SUBJECT": PRODUCER,
    }
    command = [sys.executable, str(EXAMPLE), "--name", "example-ci", "--version", "0.1.0"]
    done = await asyncio.to_thread(
        subprocess.run, [*command, str(model)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    submission_id = json.loads(done.stdout)["submission_id"]
    version = await wait_for_status(
        gate, namespace, "example-ci", "0.1.0", {"REGISTERED", "REJECTED"}
    )
    assert version["status"] == "REGISTERED", version
    assert version["submitter"] == PRODUCER
    assert version["submission_id"] == submission_id
