"""The SDK in-process, through a model's life on the real stack: submit a directory, wait,
approve in review and promote (another admin: four-eyes), alias, roll back, download
verified, archive."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from modelgate import AsyncClient, ChecksumMismatch, Forbidden, GateRejected
from modelgate_testkit.models import malicious_pickle
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.review import manual_review
from tests.support.client_env import card, client, model_directory, same_tree, settings
from tests.support.gate import Gate

pytestmark = pytest.mark.e2e
NAME = "sdk-life"


class Counted:
    """A progress listener that counts the bytes that actually moved, per file."""

    def __init__(self) -> None:
        self.moved: dict[str, int] = {}

    def begin(self, files: list[tuple[str, int | None]]) -> None:
        pass

    def start_file(self, path: str, done: int = 0) -> None:
        pass

    def advance(self, path: str, nbytes: int) -> None:
        self.moved[path] = self.moved.get(path, 0) + nbytes

    def finish_file(self, path: str) -> None:
        pass


def _a_model_lives_its_whole_life_through_the_sdk(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    with (
        client(gate, namespace, "data-scientist") as scientist,
        client(gate, namespace, "admin") as admin,
        client(gate, namespace, "developer") as developer,
    ):
        first = model_directory(tmp_path / "v1", seed=1)
        second = model_directory(tmp_path / "v2", seed=2)
        with manual_review(namespace.review_policy):
            sub = scientist.register_model(
                NAME,
                "1.0.0",
                first,
                card=card(),
                lineage={"source": "hf://org/sdk-life@main", "code_commit": "4f2a9c1"},
                labels={"task": "test"},
            )
        assert sub.status == "pending_review", sub
        waiting = admin.review_queue(limit=500).items
        assert [(i.model_name, i.version) for i in waiting].count((NAME, "1.0.0")) == 1
        with pytest.raises(Forbidden):
            scientist.approve(NAME, "1.0.0", reason="my own")
        approved = admin.approve(NAME, "1.0.0", reason="card reviewed")
        assert approved.review is not None
        assert approved.review.by == "ai-admin"
        assert scientist.wait(sub.submission_id, through_review=True).status == "registered"
        scientist.register_model(NAME, "1.1.0", second, card=card())

        v1 = developer.get_model(NAME, "1.0.0")
        assert v1.status == "REGISTERED"
        assert sorted(f["path"] for f in (v1.artifact or {})["files"]) == [
            "config.json",
            "model.safetensors",
            "tokenizer/vocab.json",
        ]
        assert v1.lineage["source"] == "hf://org/sdk-life@main"
        assert v1.lineage["code_commit"] == "4f2a9c1"
        assert developer.get_model(NAME).version == "1.1.0"  # the newest registered

        # Four-eyes: the submitter's role may not promote to production; another admin may.
        with pytest.raises(Forbidden):
            scientist.promote(NAME, "1.0.0", reason="my own")
        assert admin.promote(NAME, "1.0.0", reason="first release").stage == "production"
        assert admin.promote(NAME, "1.1.0", reason="better").stage == "production"
        assert developer.get_model(NAME, "1.0.0").stage == "deprecated"

        admin.set_alias(NAME, "champion", "1.1.0", reason="A/B winner")
        assert developer.get_model(NAME, alias="champion").version == "1.1.0"

        back = admin.rollback(NAME, reason="1.1.0 regresses latency")
        assert (back.version, back.stage) == ("1.0.0", "production")
        assert developer.get_model(NAME, alias="production").version == "1.0.0"
        assert developer.get_model(NAME, "1.1.0").stage == "deprecated"
        assert developer.get_model(NAME, stage="production").version == "1.0.0"

        dest = tmp_path / "download"
        developer.download(NAME, "1.0.0", dest)
        assert same_tree(first, dest)

        # Resume: a partial copy is completed, not restarted; a corrupt one is refused.
        weights = dest / "model.safetensors"
        whole = weights.read_bytes()
        weights.unlink()
        (dest / "model.safetensors.part").write_bytes(whole[: len(whole) // 2])
        counted = Counted()
        developer.download(NAME, "1.0.0", dest, progress=counted)
        assert weights.read_bytes() == whole
        # Only the missing half travelled (an HTTP Range), and the finished files not at all.
        assert counted.moved == {"model.safetensors": len(whole) - len(whole) // 2}
        weights.unlink()
        (dest / "model.safetensors.part").write_bytes(b"\0" * (len(whole) // 2))
        with pytest.raises(ChecksumMismatch):
            developer.download(NAME, "1.0.0", dest)
        assert not weights.exists()
        developer.download(NAME, "1.0.0", dest)  # the corrupt part was dropped: a clean rerun
        assert weights.read_bytes() == whole

        deployed = developer.record_deployment(NAME, "1.0.0", "prod-eu", note="rollout 7")
        assert deployed.environment == "prod-eu"
        assert [d.version for d in developer.deployments(NAME)] == ["1.0.0"]

        admin.delete_alias(NAME, "champion", reason="experiment over")  # archiving needs that
        assert "champion" not in {a.alias for a in developer.get_registered_model(NAME).aliases}
        archived = admin.archive(NAME, "1.1.0", reason="superseded")
        assert archived.status == "ARCHIVED"  # type: ignore[union-attr]
        assert [v.version for v in developer.list_versions(NAME)] == ["1.0.0"]


def _a_rejection_raises_with_the_failed_checks(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "pytorch_model.bin").write_bytes(malicious_pickle(f"touch {tmp_path}/pwned"))
    with client(gate, namespace, "data-scientist") as scientist:
        with pytest.raises(GateRejected) as rejected:
            scientist.register_model("sdk-bad", "1.0.0", bad, card=card())
        assert "format-safety" in [c.name for c in rejected.value.checks]
        # wait=False answers at once, before the gate decided
        early = scientist.register_model(
            "sdk-later", "1.0.0", model_directory(tmp_path / "ok", 3), card=card(), wait=False
        )
        assert early.status in {"pending", "validating", "registered"}
        assert scientist.wait(early.submission_id).status == "registered"


async def test_the_async_client_answers_like_the_sync_one(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    async with AsyncClient(settings=settings(gate, namespace, "data-scientist")) as mg:
        sub = await mg.register_model(
            "sdk-async", "2.0.0", model_directory(tmp_path / "m", 4), card=card()
        )
        assert sub.status == "registered"
        found = await mg.get_model("sdk-async", "2.0.0")
        await mg.download("sdk-async", "2.0.0", tmp_path / "d")
    assert same_tree(tmp_path / "m", tmp_path / "d")
    with client(gate, namespace, "data-scientist") as sync:
        assert sync.get_model("sdk-async", "2.0.0") == found


def _the_offline_verifier_agrees_with_the_audit_service(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    with client(gate, namespace, "data-scientist") as scientist:
        scientist.register_model(
            "sdk-audited", "1.0.0", model_directory(tmp_path / "m", 5), card=card()
        )
    with client(gate, namespace, "admin") as admin:
        # The chain grows while events arrive, and a checkpoint over the head is signed
        # just after the head is appended; compare once both saw the same head and the
        # same checkpoints, else one read can land between the entry and its checkpoint.
        deadline = time.monotonic() + 60
        while True:
            ours = admin.verify_audit()
            theirs = admin.server_verify_audit()
            same = (ours.head_seq, ours.head_hash, list(ours.checkpoint_seqs)) == (
                theirs.head_seq,
                theirs.head_hash,
                list(theirs.checkpoint_seqs),
            )
            if (same and ours.checkpoints_checked > 0) or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert ours.ok, ours
    assert theirs.ok, theirs
    assert (ours.head_seq, ours.head_hash) == (theirs.head_seq, theirs.head_hash)
    assert ours.entries_checked == theirs.entries_checked
    assert ours.checkpoints_checked == theirs.checkpoints_checked > 0
    assert ours.checkpoint_seqs == theirs.checkpoint_seqs


async def test_a_model_lives_its_whole_life_through_the_sdk(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    # The synchronous client blocks: in a thread, so the session's loop (and its Kafka tap)
    # keeps running.
    await asyncio.to_thread(
        _a_model_lives_its_whole_life_through_the_sdk, gate, namespace, tmp_path
    )


async def test_a_rejection_raises_with_the_failed_checks(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    # The synchronous client blocks: in a thread, so the session's loop (and its Kafka tap)
    # keeps running.
    await asyncio.to_thread(_a_rejection_raises_with_the_failed_checks, gate, namespace, tmp_path)


async def test_the_offline_verifier_agrees_with_the_audit_service(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    # The synchronous client blocks: in a thread, so the session's loop (and its Kafka tap)
    # keeps running.
    await asyncio.to_thread(
        _the_offline_verifier_agrees_with_the_audit_service, gate, namespace, tmp_path
    )
