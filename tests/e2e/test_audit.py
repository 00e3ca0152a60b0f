"""The gate, part 3: the audit log is complete, append-only, and anyone can verify it."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from modelgate_audit.checkpoints import Checkpoint, genuine
from modelgate_audit.hash_chain import link
from modelgate_shared.events import SUBMITTED, encode, new_event
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import TopicTap, produce, provision_topics
from modelgate_testkit.namespace import Namespace, create_namespace, drop_namespace
from modelgate_testkit.services import ServiceProcess
from tests.support.audit import causal_order, entries, verify, wait_for_entries
from tests.support.gate import Gate, register
from tests.support.polling import poll

pytestmark = pytest.mark.e2e


async def test_every_event_of_a_submission_is_audited_once_and_the_chain_verifies(
    gate: Gate, namespace: Namespace, tap: TopicTap
) -> None:
    version = await register(gate, namespace, "audited", "1.0.0", seed=41)
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as registry:
        admin = namespace.auth("admin")
        base = "/api/v1/models/audited/versions/1.0.0/transitions"
        await registry.post(
            base, json={"to_stage": "staging", "reason": "passed QA"}, headers=admin
        )
        await registry.post(
            base, json={"to_stage": "production", "reason": "perf gain"}, headers=admin
        )
    url = gate["audit"].url
    found = await wait_for_entries(url, namespace, 6, model="audited")
    ids = Counter(e["event_id"] for e in found)
    assert all(n == 1 for n in ids.values()), "no event is appended twice"
    published = {
        str(s.event.id)
        for s in tap.seen
        if s.event is not None
        and s.topic
        in [
            namespace.topics.name(t)
            for t in (
                "model.submitted",
                "model.validated",
                "model.registered",
                "model.transitioned",
                "model.archived",
            )
        ]
        and (
            getattr(s.event.data, "name", None) == "audited"
            or getattr(getattr(s.event.data, "submission", None), "name", None) == "audited"
        )
    }
    assert published <= set(ids), f"not audited: {published - set(ids)}"
    # `model.registered` may be appended before the `model.validated` that caused it.
    in_order = sorted(found, key=causal_order)
    actions = [e["action"] for e in in_order]
    assert actions[:3] == ["model_submitted", "validation_passed", "model_registered"]
    promotion = next(e for e in found if e["to_stage"] == "production")
    assert promotion["action"] == "stage_changed"
    assert promotion["from_stage"] == "staging"
    assert promotion["actor"] == "ai-admin"
    assert promotion["approver"] == "ai-admin"
    assert promotion["reason"] == "perf gain"
    assert promotion["model"] == "audited"
    assert promotion["version"] == "1.0.0"
    # The submission's entry names the proven submitter (chain order may put another first).
    assert in_order[0]["actor"] == version["submitter"]

    report = await verify(url, namespace)
    assert report["ok"] is True, report
    assert report["entries_checked"] >= len(found)
    assert report["first_bad_seq"] is None


async def test_audit_query_filters_and_pages(gate: Gate, namespace: Namespace) -> None:
    await register(gate, namespace, "queried", "1.0.0", seed=42)
    url = gate["audit"].url
    by_model = await wait_for_entries(url, namespace, 3, model="queried")
    assert {e["model"] for e in by_model} == {"queried"}
    validator = await entries(url, namespace, model="queried", actor="modelgate-validator")
    # The validator's verdict, and the registration it caused (the registry names the cause);
    # the chain may hold them in either order, as the two topics are read side by side.
    in_order = sorted(validator, key=causal_order)
    assert [e["action"] for e in in_order] == ["validation_passed", "model_registered"]
    typed = await entries(url, namespace, model="queried", type="io.modelgate.model.submitted.v1")
    assert len(typed) == 1
    first = by_model[0]["event_time"]
    later = await entries(url, namespace, model="queried", since=first)
    assert len(later) == len(by_model)
    none = await entries(url, namespace, model="queried", until=first)
    assert none == []
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        page = (
            await client.get(
                "/api/v1/audit/entries",
                headers=namespace.auth("admin"),
                params={"model": "queried", "limit": 1},
            )
        ).json()
        assert len(page["items"]) == 1
        assert page["next_cursor"] == page["items"][0]["seq"]
        forbidden = await client.get("/api/v1/audit/entries", headers=namespace.auth("developer"))
        assert forbidden.status_code == 403
        anyone = await client.get("/api/v1/audit/verify", headers=namespace.auth("developer"))
        assert anyone.status_code == 200


async def test_the_log_refuses_change_even_to_its_owner_and_a_replica_session(
    gate: Gate, namespace: Namespace
) -> None:
    await register(gate, namespace, "immutable", "1.0.0", seed=43)
    await wait_for_entries(gate["audit"].url, namespace, 3, model="immutable")
    owner = await asyncpg.connect(namespace.database_url)
    try:
        for statement in (
            "UPDATE audit.log SET actor = 'mallory' WHERE seq = 1",
            "DELETE FROM audit.log WHERE seq = 1",
            "TRUNCATE audit.log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await owner.execute(statement)
    finally:
        await owner.close()
    if namespace.superuser_url is None:
        pytest.skip("no superuser in this infrastructure (the local stack provides one)")
    superuser = await asyncpg.connect(namespace.superuser_url)
    try:
        await superuser.execute("SET session_replication_role = replica")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await superuser.execute("UPDATE audit.log SET actor = 'mallory' WHERE seq = 1")
    finally:
        await superuser.close()


async def test_the_services_role_may_only_read_and_append(gate: Gate, namespace: Namespace) -> None:
    if namespace.audit_database_url is None:
        pytest.skip("no append-only role in this infrastructure (the local stack provides one)")
    await register(gate, namespace, "role-check", "1.0.0", seed=44)
    await wait_for_entries(gate["audit"].url, namespace, 3, model="role-check")
    role = await asyncpg.connect(namespace.audit_database_url)
    try:
        assert await role.fetchval("SELECT count(*) FROM audit.log") >= 3
        for statement in (
            "UPDATE audit.log SET actor = 'x'",
            "DELETE FROM audit.log",
            "TRUNCATE audit.log",
            "ALTER TABLE audit.log DISABLE TRIGGER USER",
            "SELECT count(*) FROM registry.versions",
        ):
            with pytest.raises(asyncpg.PostgresError) as refused:
                await role.execute(statement)
            assert isinstance(
                refused.value,
                asyncpg.InsufficientPrivilegeError | asyncpg.InsufficientPrivilegeError,
            ), statement
        tx = role.transaction()
        await tx.start()
        await role.execute(
            "INSERT INTO audit.log (seq, event_id, event_type, topic, action, event_time, "
            "recorded_at, canonical, prev_hash, hash) VALUES (1000000, gen_random_uuid(), 't', "
            "'t', 'a', now(), now(), '\\x00', $1, $1)",
            bytes(32),
        )
        await tx.rollback()
    finally:
        await role.close()


@pytest.fixture
async def lone_audit(
    namespace: Namespace, tmp_path: Path
) -> AsyncIterator[tuple[Namespace, ServiceProcess]]:
    """An audit service with a chain of its own, to be tampered with."""
    ns = await create_namespace(namespace.infra, tmp_path)
    await provision_topics(ns.infra.kafka, ns.topics)
    audit = await asyncio.to_thread(ServiceProcess("audit", ns.env("audit"), tmp_path).start)
    try:
        for n in range(12):
            event = new_event(
                SUBMITTED,
                submitted(f"tampered-{n}"),
                source="urn:test",
                subject=f"tampered-{n}/1.0.0",
            )
            await produce(
                ns.infra.kafka,
                ns.topics.submitted,
                encode(event),
                key=f"tampered-{n}".encode(),
                signer=ns.producer,
            )
        assert len(await wait_for_entries(audit.url, ns, 12)) == 12
        yield ns, audit
    finally:
        await asyncio.to_thread(audit.stop)
        await drop_namespace(ns)


async def _wait_for_checkpoint(url: str, ns: Namespace, seq: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:

        async def fetch() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (
                await client.get("/api/v1/audit/checkpoints", headers=ns.auth("viewer"))
            ).json()
            return found

        found = await poll(
            fetch, lambda f: bool(f) and max(int(c["seq"]) for c in f) >= seq, interval_s=0.2
        )
    assert found, f"no checkpoint reached seq {seq}"
    assert max(int(c["seq"]) for c in found) >= seq, f"no checkpoint reached seq {seq}"
    return found


async def test_a_row_changed_behind_the_triggers_is_reported_at_its_seq(
    lone_audit: tuple[Namespace, ServiceProcess],
) -> None:
    ns, audit = lone_audit
    assert (await verify(audit.url, ns))["ok"] is True
    owner = await asyncpg.connect(ns.database_url)
    try:
        await owner.execute("ALTER TABLE audit.log DISABLE TRIGGER log_refuse_update_delete")
        await owner.execute("UPDATE audit.log SET actor = 'mallory' WHERE seq = 5")
        await owner.execute("ALTER TABLE audit.log ENABLE ALWAYS TRIGGER log_refuse_update_delete")
    finally:
        await owner.close()
    report = await verify(audit.url, ns)
    assert report["ok"] is False
    assert report["first_bad_seq"] == 5
    assert "actor" in report["reason"]


async def test_a_consistently_rewritten_chain_is_caught_by_the_signed_checkpoints(
    lone_audit: tuple[Namespace, ServiceProcess],
) -> None:
    ns, audit = lone_audit
    checkpoints = await _wait_for_checkpoint(audit.url, ns, 12)
    async with httpx.AsyncClient(base_url=audit.url, timeout=10) as client:
        pem = (await client.get("/api/v1/audit/public-key", headers=ns.auth("viewer"))).text
    public = serialization.load_pem_public_key(pem.encode())
    assert isinstance(public, Ed25519PublicKey)
    assert all(genuine(Checkpoint(**c), public) for c in checkpoints)

    # Rewrite every row from seq 3 on, recomputing hashes so the chain itself is consistent.
    owner = await asyncpg.connect(ns.database_url)
    try:
        await owner.execute("ALTER TABLE audit.log DISABLE TRIGGER log_refuse_update_delete")
        rows = await owner.fetch("SELECT seq, canonical, prev_hash FROM audit.log ORDER BY seq")
        prev = bytes(rows[2]["prev_hash"])
        for row in rows[2:]:
            document = json.loads(bytes(row["canonical"]))
            if row["seq"] == 3:
                document["event"]["data"]["submitter"] = "mallory"
            canonical = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
            new_hash = link(prev, canonical)
            await owner.execute(
                "UPDATE audit.log SET canonical = $2, prev_hash = $3, hash = $4, actor = "
                "CASE WHEN seq = 3 THEN 'mallory' ELSE actor END WHERE seq = $1",
                row["seq"],
                canonical,
                prev,
                new_hash,
            )
            prev = new_hash
        await owner.execute("ALTER TABLE audit.log ENABLE ALWAYS TRIGGER log_refuse_update_delete")
    finally:
        await owner.close()
    report = await verify(audit.url, ns)
    assert report["ok"] is False
    assert "signed checkpoint" in report["reason"]
    assert report["first_bad_seq"] == min(int(c["seq"]) for c in checkpoints if int(c["seq"]) >= 3)
    assert base64.b64decode(str(checkpoints[0]["signature"]))
