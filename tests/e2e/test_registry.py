"""The gate, part 2: the registry on the real stack, from submission to production and back."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from modelgate_shared.events import (
    ModelRegistered,
    ModelTransitioned,
    ModelValidated,
    RegistryEvent,
)
from modelgate_testkit.kafka import Seen, TopicTap, produce, provision_topics
from modelgate_testkit.models import malicious_pickle, tiny_safetensors
from modelgate_testkit.namespace import Namespace, create_namespace, drop_namespace
from modelgate_testkit.services import ServiceProcess
from tests.support.gate import (
    Gate,
    metadata,
    register,
    submission_state,
    upload,
    wait_for_status,
)

pytestmark = pytest.mark.e2e


def _registry_events(tap: TopicTap, name: str) -> list[tuple[str, RegistryEvent]]:
    """(topic, event data) of every registry event about model `name`, in arrival order."""
    return [
        (s.topic, s.event.data)
        for s in tap.seen
        if s.event is not None
        and isinstance(s.event.data, RegistryEvent)
        and s.event.data.name == name
    ]


def _events_of(tap: TopicTap, name: str, kind: type) -> list[Any]:
    return [
        s.event.data
        for s in tap.seen
        if s.event is not None
        and isinstance(s.event.data, kind)
        and getattr(s.event.data, "name", None) == name
    ]


async def _client(gate: Gate) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=gate["registry"].url, timeout=30)


async def test_submission_is_registered_with_its_report_and_event(
    gate: Gate, namespace: Namespace, tap: TopicTap
) -> None:
    version = await register(gate, namespace, "catalog-entry", "2.1.0")
    assert version["status"] == "REGISTERED"
    assert version["stage"] == "development"
    assert version["submitter"] == "ai-scientist"
    assert version["model_card"]["license"] == "apache-2.0"
    assert [c["name"] for c in version["validation"]["checks"]] == [
        "policy",
        "integrity",
        "signature",
        "format-safety",
        "benchmark",
        "pinning",
    ]
    assert version["artifact"]["files"][0]["path"] == "model.safetensors"
    assert [t["to_value"] for t in version["transitions"]] == ["VALIDATING", "REGISTERED"]

    await tap.wait_for(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelRegistered)
            and s.event.data.name == "catalog-entry"
        )
    )
    (registered,) = _events_of(tap, "catalog-entry", ModelRegistered)
    assert registered.version == "2.1.0"
    assert registered.actor == "modelgate-validator"
    assert registered.sequence >= 1

    state = await submission_state(
        gate,
        namespace,
        f"/api/v1/submissions/{version['submission_id']}",
        lambda s: s["status"] == "registered",
    )
    assert state["status"] == "registered", state
    assert state["version_id"] == version["id"]


async def test_rejected_submission_is_kept_out_of_the_catalog(
    gate: Gate, namespace: Namespace, tap: TopicTap, tmp_path: Path
) -> None:
    answer = await upload(
        gate,
        namespace,
        metadata("bad-weights"),
        [("pytorch_model.bin", malicious_pickle(f"touch {tmp_path}/x"))],
    )
    assert answer.status_code == 202
    version = await wait_for_status(gate, namespace, "bad-weights", "1.0.0", {"REJECTED"})
    assert "format-safety: pytorch_model.bin: dangerous pickle imports" in version["status_reason"]
    async with await _client(gate) as client:
        hidden = await client.get(
            "/api/v1/models/bad-weights/versions/1.0.0", headers=namespace.auth("developer")
        )
        assert hidden.status_code == 404
        listed = await client.get(
            "/api/v1/versions", params={"model": "bad-weights"}, headers=namespace.auth("developer")
        )
        assert listed.json()["items"] == []
        not_allowed = await client.get(
            "/api/v1/versions", params={"status": "REJECTED"}, headers=namespace.auth("developer")
        )
        assert not_allowed.status_code == 403
    await tap.wait_for(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelTransitioned)
            and s.event.data.name == "bad-weights"
            and s.event.data.to_value == "REJECTED"
        )
    )


async def test_a_duplicate_version_is_refused_with_the_reason(
    gate: Gate, namespace: Namespace
) -> None:
    first = await register(gate, namespace, "twice", "1.0.0")
    assert first["status"] == "REGISTERED"
    again = await upload(
        gate, namespace, metadata("twice", "1.0.0"), [("model.safetensors", tiny_safetensors(7))]
    )
    assert again.status_code == 202
    state = await submission_state(
        gate, namespace, again.json()["status_url"], lambda s: s["status"] == "rejected"
    )
    assert state["status"] == "rejected", state
    assert "version 1.0.0 of twice already exists" in state["detail"]


async def test_lifecycle_from_development_to_production_and_rollback(
    gate: Gate, namespace: Namespace, tap: TopicTap
) -> None:
    name = "lifecycle"
    await register(gate, namespace, name, "1.0.0", seed=1)
    await register(gate, namespace, name, "1.1.0", seed=2)
    admin = namespace.auth("admin")
    async with await _client(gate) as client:

        async def move(version: str, stage: str, who: dict[str, str] = admin) -> httpx.Response:
            return await client.post(
                f"/api/v1/models/{name}/versions/{version}/transitions",
                json={"to_stage": stage, "reason": f"to {stage}"},
                headers=who,
            )

        skip = await move("1.0.0", "production")
        assert skip.status_code == 409
        assert "cannot move from development to production" in skip.json()["message"]
        assert (await move("1.0.0", "staging")).status_code == 200
        scientist = await move("1.0.0", "production", namespace.auth("data-scientist"))
        assert scientist.status_code == 403
        promoted = await move("1.0.0", "production")
        assert promoted.status_code == 200, promoted.text
        assert promoted.json()["stage"] == "production"

        for stage in ("staging", "canary", "production"):
            assert (await move("1.1.0", stage)).status_code == 200
        detail = (await client.get(f"/api/v1/models/{name}", headers=admin)).json()
        assert {a["alias"]: a["version"] for a in detail["aliases"]} == {"production": "1.1.0"}
        old = (await client.get(f"/api/v1/models/{name}/versions/1.0.0", headers=admin)).json()
        assert old["stage"] == "deprecated"

        # Rollback: the previous version goes back to production; the alias follows.
        assert (await move("1.0.0", "production")).status_code == 200
        detail = (await client.get(f"/api/v1/models/{name}", headers=admin)).json()
        assert {a["alias"]: a["version"] for a in detail["aliases"]} == {"production": "1.0.0"}

        champion = await client.put(
            f"/api/v1/models/{name}/aliases/champion",
            json={"version": "1.1.0", "reason": "best eval"},
            headers=admin,
        )
        assert champion.status_code == 200
        bad_alias = await client.put(
            f"/api/v1/models/{name}/aliases/Not Valid", json={"version": "1.1.0"}, headers=admin
        )
        assert bad_alias.status_code == 422

        deployed = await client.post(
            f"/api/v1/models/{name}/versions/1.0.0/deployments",
            json={"environment": "prod-eu", "note": "rollout"},
            headers=namespace.auth("developer"),
        )
        assert deployed.status_code == 201, deployed.text
        assert deployed.json()["actor"] == "ai-developer"
        detail = (await client.get(f"/api/v1/models/{name}", headers=admin)).json()
        assert [(r["environment"], r["version"]) for r in detail["running"]] == [
            ("prod-eu", "1.0.0")
        ]

        blocked = await client.post(
            f"/api/v1/models/{name}/versions/1.1.0/archive",
            json={"reason": "superseded"},
            headers=admin,
        )
        assert blocked.status_code == 409
        assert "champion" in blocked.json()["message"]
        await client.delete(f"/api/v1/models/{name}/aliases/champion", headers=admin)
        archived = await client.post(
            f"/api/v1/models/{name}/versions/1.1.0/archive",
            json={"reason": "superseded"},
            headers=admin,
        )
        assert archived.json()["status"] == "ARCHIVED"
        gone = await client.get(
            f"/api/v1/models/{name}/versions/1.1.0", headers=namespace.auth("viewer")
        )
        assert gone.status_code == 404
        kept = await client.get(f"/api/v1/models/{name}/versions/1.1.0", headers=admin)
        assert kept.json()["status"] == "ARCHIVED"
        restored = await client.post(
            f"/api/v1/models/{name}/versions/1.1.0/restore",
            json={"reason": "needed again"},
            headers=admin,
        )
        assert restored.json()["status"] == "REGISTERED"

    def done(seen: Seen) -> bool:
        data = seen.event.data if seen.event is not None else None
        return (
            isinstance(data, ModelTransitioned)
            and data.name == name
            and data.from_value == "ARCHIVED"
            and data.to_value == "REGISTERED"
        )

    await tap.wait_for(done)
    events = _registry_events(tap, name)
    kinds = [e.kind if isinstance(e, ModelTransitioned) else "archived" for _, e in events]
    assert kinds.count("stage") >= 7
    assert {"alias", "deployment", "archived"} <= set(kinds)
    for topic in {t for t, _ in events}:
        sequences = [e.sequence for t, e in events if t == topic]
        assert sequences == sorted(sequences), f"{topic}: one model's events arrive in order"
    everything = [e.sequence for _, e in events]
    assert len(everything) == len(set(everything)), "each event has its own sequence number"
    promotions = [
        e for _, e in events if isinstance(e, ModelTransitioned) and e.to_value == "production"
    ]
    assert promotions
    assert all(p.approver == "ai-admin" for p in promotions)


async def test_four_eyes_stops_an_admin_promoting_their_own_submission(
    gate: Gate, namespace: Namespace
) -> None:
    await register(gate, namespace, "self-approved", role="admin")
    admin = namespace.auth("admin")
    async with await _client(gate) as client:
        base = "/api/v1/models/self-approved/versions/1.0.0/transitions"
        await client.post(base, json={"to_stage": "staging", "reason": "r"}, headers=admin)
        refused = await client.post(
            base, json={"to_stage": "production", "reason": "r"}, headers=admin
        )
    assert refused.status_code == 403
    assert "four-eyes" in refused.json()["message"]


async def test_download_gives_working_presigned_urls(gate: Gate, namespace: Namespace) -> None:
    await register(gate, namespace, "downloadable", seed=5)
    async with await _client(gate) as client:
        answer = await client.get(
            "/api/v1/models/downloadable/versions/1.0.0/download",
            headers=namespace.auth("developer"),
        )
        assert answer.status_code == 200, answer.text
        viewer = await client.get(
            "/api/v1/models/downloadable/versions/1.0.0/download", headers=namespace.auth("viewer")
        )
        assert viewer.status_code == 403
    (item,) = answer.json()["files"]
    assert answer.json()["expires_in"] == 300
    async with httpx.AsyncClient(timeout=30) as plain:
        body = (await plain.get(item["url"])).content
    assert (
        hashlib.sha256(body).hexdigest()
        == item["sha256"]
        == hashlib.sha256(tiny_safetensors(5)).hexdigest()
    )


async def test_redelivered_verdict_changes_nothing(
    gate: Gate, namespace: Namespace, tap: TopicTap
) -> None:
    await register(gate, namespace, "verdict-twice")
    # The registry having registered it does not mean the tap, another consumer, has read the
    # verdict yet: wait for it there.
    (verdict,) = await tap.wait_for(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelValidated)
            and s.event.data.submission.name == "verdict-twice"
        )
    )
    assert verdict.value is not None
    await tap.wait_for(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelRegistered)
            and s.event.data.name == "verdict-twice"
        )
    )
    before = [(t, e) for t, e in _registry_events(tap, "verdict-twice") if e.version == "1.0.0"]
    await produce(
        namespace.infra.kafka,
        namespace.topics.validated,
        verdict.value,
        key=verdict.key,
        headers=verdict.headers,
    )
    # A marker after it on the same partition: once it is registered, the repeat was read.
    await register(gate, namespace, "verdict-twice", "1.0.1")
    version = await wait_for_status(gate, namespace, "verdict-twice", "1.0.0", {"REGISTERED"})
    assert [t["to_value"] for t in version["transitions"]] == ["VALIDATING", "REGISTERED"]
    # A repeat's event would precede the marker's on the model's partition: wait for the marker.
    await tap.wait_for(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelRegistered)
            and s.event.data.name == "verdict-twice"
            and s.event.data.version == "1.0.1"
        )
    )
    after = [(t, e) for t, e in _registry_events(tap, "verdict-twice") if e.version == "1.0.0"]
    assert after == before, "the repeated verdict produced a registry event"


@pytest.mark.slow
async def test_registry_killed_before_publishing_loses_no_event(
    namespace: Namespace, tmp_path: Path
) -> None:
    """State and outbox row commit together; a registry killed before its relay publishes
    still gets the event out: the next registry's relay publishes it."""
    ns = await create_namespace(namespace.infra, tmp_path)
    await provision_topics(ns.infra.kafka, ns.topics)
    tap = await TopicTap(ns.infra.kafka, ns.topics.all_topics()).start()
    logs = tmp_path / "logs"
    services = {n: ServiceProcess(n, ns.env(n), logs) for n in ("ingest", "validator")}
    mute = ServiceProcess(
        "registry", {**ns.env("registry"), "MODELGATE_OUTBOX_RELAY": "false"}, logs
    )
    try:
        for service in (*services.values(), mute):
            await asyncio.to_thread(service.start)
        answer = await upload(
            {**services, "registry": mute},
            ns,
            metadata("unpublished"),
            [("model.safetensors", tiny_safetensors(11))],
        )
        assert answer.status_code == 202
        await wait_for_status(
            {**services, "registry": mute}, ns, "unpublished", "1.0.0", {"REGISTERED"}
        )
        conn = await asyncpg.connect(ns.database_url)
        try:
            pending = await conn.fetchval(
                "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL AND topic = $1",
                ns.topics.registered,
            )
        finally:
            await conn.close()
        assert pending == 1, "the registration is committed, its event not yet published"
        mute.kill()  # kill -9 between the commit and the publish
        assert not [s for s in tap.seen if s.topic == ns.topics.registered]

        relaying = ServiceProcess("registry", ns.env("registry"), logs)
        await asyncio.to_thread(relaying.start)
        (published,) = await tap.wait_for(lambda s: s.topic == ns.topics.registered)
        assert published.event is not None
        assert isinstance(published.event.data, ModelRegistered)
        assert published.event.data.name == "unpublished"
        await asyncio.to_thread(relaying.stop)
    finally:
        await tap.stop()
        for service in services.values():
            await asyncio.to_thread(service.stop)
        await drop_namespace(ns)


async def test_web_catalog_page_is_served_with_a_strict_policy(gate: Gate) -> None:
    async with await _client(gate) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert "Modelgate" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        # Text goes into the page as text, never parsed as HTML (dom.js builds every node).
        script = await client.get("/static/dom.js")
        assert script.status_code == 200
        assert "textContent" in script.text
        assert (await client.get("/static/../main.py")).status_code == 404
        assert (await client.get("/static/secrets.env")).status_code == 404
        # The page holds no data; the data needs a token.
        assert (await client.get("/api/v1/versions")).status_code == 401
