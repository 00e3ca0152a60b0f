"""The gate's Kafka ACL table: who may write which topic, and nothing more."""

from __future__ import annotations

import pytest

from modelgate_shared.kafka.acls import PRINCIPALS, SUBMITTER, acl_table, consumer_group
from modelgate_shared.topics import MODEL_TOPICS, Topics


def _writers(topic: str, topics: Topics | None = None) -> set[str]:
    return {p for p, acls in acl_table(topics).items() if topic in acls.write}


def test_only_the_validator_writes_verdicts() -> None:
    assert _writers("model.validated") == {"validator"}


@pytest.mark.parametrize("topic", ["model.registered", "model.transitioned", "model.archived"])
def test_only_the_registry_writes_catalog_events(topic: str) -> None:
    assert _writers(topic) == {"registry"}


def test_submissions_come_from_ingest_the_registry_and_external_submitters() -> None:
    # The registry too: versions created through the Kubeflow API leave by its outbox.
    assert _writers("model.submitted") == {"ingest", "registry", SUBMITTER}


def test_the_submitter_writes_model_submitted_and_nothing_else() -> None:
    submitter = acl_table()[SUBMITTER]
    assert submitter.write == ("model.submitted",)
    assert submitter.read == ()
    assert submitter.groups == ()


def test_only_audit_writes_checkpoints() -> None:
    assert _writers("audit.checkpoints") == {"audit"}


def test_each_consumer_writes_the_dead_letters_of_what_it_reads_and_no_others() -> None:
    for principal, acls in acl_table().items():
        dead_letters = {t for t in acls.write if t.endswith(".dlq")}
        assert dead_letters == {f"{t}.dlq" for t in acls.read}, principal


def test_audit_reads_every_model_topic() -> None:
    assert set(acl_table()["audit"].read) == set(MODEL_TOPICS)


def test_names_carry_the_prefix_and_groups_are_the_services_own() -> None:
    topics = Topics(prefix="t1234.")
    table = acl_table(topics)
    assert _writers("t1234.model.validated", topics) == {"validator"}
    assert _writers("model.validated", topics) == set()
    for service in ("ingest", "validator", "registry", "audit"):
        assert table[service].groups == (consumer_group(topics, service),)
        assert table[service].groups == (f"t1234.modelgate-{service}",)


def test_bindings_are_read_write_describe_without_repeats() -> None:
    for principal in PRINCIPALS:
        acls = acl_table()[principal]
        bindings = list(acls.bindings())
        assert len(bindings) == len(set(bindings))
        assert {op for _, _, op in bindings} <= {"Read", "Write", "Describe"}
        described = {name for kind, name, op in bindings if kind == "topic" and op == "Describe"}
        assert described == set(acls.read) | set(acls.write)
