"""A submission id belongs to one submission. A registered producer signs whatever it likes as
itself, including an event that reuses an id the registry already knows: such an event must
neither take over someone else's version nor add bytes where a registered version's bytes
are served. (Found by trying it on a running stack after signed events landed.)"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from modelgate_shared.events import ModelSubmitted, ModelValidated, encode
from modelgate_shared.s3 import s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import TopicTap, produce
from modelgate_testkit.namespace import Namespace
from tests.e2e.test_event_signatures import _staged_file, _submission_event
from tests.support.gate import Gate, register, wait_for_status

pytestmark = pytest.mark.e2e


async def _publish_as_producer(namespace: Namespace, sub: ModelSubmitted) -> None:
    await produce(
        namespace.infra.kafka_as("submitter"),
        namespace.topics.submitted,
        encode(_submission_event(sub)),
        key=sub.name.encode(),
        signer=namespace.producer,
    )


async def _verdict_on(tap: TopicTap, namespace: Namespace, sub: ModelSubmitted) -> Any:
    """The validator's verdict on this very submission (the reused id alone matches others)."""
    (seen,) = await tap.wait_for(
        lambda s: (
            s.topic == namespace.topics.validated
            and s.event is not None
            and isinstance(s.event.data, ModelValidated)
            and s.event.data.submission == sub
        ),
        timeout_s=60,
    )
    assert seen.event is not None
    return seen.event.data


async def test_a_reused_submission_id_does_not_take_over_a_pending_version(
    gate: Gate, namespace: Namespace, tap: TopicTap, settings: ServiceSettings
) -> None:
    base = "/api/model_registry/v1"
    scientist = namespace.auth("data-scientist")
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as http:
        made = await http.post(
            f"{base}/registered_models",
            json={"name": "reuse-victim", "owner": "ml-platform", "license": "apache-2.0"},
            headers=scientist,
        )
        assert made.status_code == 201, made.text
        created = await http.post(
            f"{base}/model_versions",
            json={"name": "3.0.0", "registeredModelId": made.json()["id"]},
            headers=scientist,
        )
        assert created.status_code == 201, created.text
        victim = created.json()
    victim_submission = uuid.UUID(
        victim["customProperties"]["modelgate.submission_id"]["string_value"]
    )

    # ci-bot's own, validly signed event, for another model, carrying the victim's id.
    hijack = submitted(
        "reuse-hijacker", files=await _staged_file(namespace, settings, seed=71)
    ).model_copy(update={"submission_id": victim_submission})
    await _publish_as_producer(namespace, hijack)
    await _verdict_on(tap, namespace, hijack)
    # Then a marker on the hijacker's partition: once it is decided, the hijack was read too.
    marker = submitted("reuse-hijacker", "2.0.0", files=await _staged_file(namespace, settings, 72))
    await _publish_as_producer(namespace, marker)
    await wait_for_status(gate, namespace, "reuse-hijacker", "2.0.0", {"REGISTERED"})

    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as http:
        answer = await http.get(f"{base}/model_versions/{victim['id']}", headers=scientist)
        hijacked = await http.get(
            "/api/v1/models/reuse-hijacker/versions/1.0.0", headers=namespace.auth("admin")
        )
    state = answer.json()["customProperties"]
    assert state["modelgate.status"]["string_value"] == "PENDING", state
    assert hijacked.status_code == 404, hijacked.text


async def test_a_reused_submission_id_adds_no_bytes_beside_a_registered_version(
    gate: Gate, namespace: Namespace, tap: TopicTap, settings: ServiceSettings
) -> None:
    await register(gate, namespace, "reuse-pinned", "1.0.0", seed=74)
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as http:
        version = (
            await http.get(
                "/api/v1/models/reuse-pinned/versions/1.0.0", headers=namespace.auth("admin")
            )
        ).json()
    registered_root: str = version["artifact"]["uri"]
    bucket, _, prefix = registered_root.removeprefix("s3://").partition("/")

    other = submitted(
        "reuse-overwriter", files=await _staged_file(namespace, settings, seed=75)
    ).model_copy(update={"submission_id": uuid.UUID(version["submission_id"])})
    await _publish_as_producer(namespace, other)
    verdict = await _verdict_on(tap, namespace, other)

    assert verdict.pinned is None or not verdict.pinned.uri.startswith(registered_root)
    async with s3_client(settings) as s3:
        listed = await s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    # The registered files, and the gate's own signature of them (modelgate.sig): nothing else.
    keys = [v["Key"] for v in listed.get("Versions", []) if not v["Key"].endswith("/modelgate.sig")]
    assert len(keys) == len(set(keys)) == len(version["artifact"]["files"]), keys
