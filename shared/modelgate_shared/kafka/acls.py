"""Who may do what on Kafka: the gate's ACL table, as plain data.

One table feeds every place that grants rights: `make up` and the compose init step (as the
stack's admin), the test harness (LITERAL ACLs on a run's prefixed topics) and, later, the
Helm chart's Strimzi KafkaUser resources. Each principal gets exactly the topics it reads or
writes and its own consumer group; nothing is granted by prefix or wildcard, and nothing
grants CREATE, ALTER or cluster rights (the operator provisions topics).

What it encodes:
- only the validator writes `model.validated`;
- only the registry writes `model.registered`, `model.transitioned`, `model.archived` (and
  `model.submitted`, for versions created through the Kubeflow API, via its outbox relay);
- ingest and the external `submitter` write `model.submitted`; `submitter` nothing else;
- each consumer writes the dead-letter topics of the topics it consumes;
- audit reads every model topic and writes `audit.checkpoints`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from modelgate_shared.topics import (
    ARCHIVED,
    MODEL_TOPICS,
    REGISTERED,
    SUBMITTED,
    TRANSITIONED,
    VALIDATED,
    Topics,
)

SERVICE_PRINCIPALS = ("ingest", "validator", "registry", "audit")
"""One SCRAM user per service, named after it."""
SUBMITTER = "submitter"
"""External producers of `model.submitted` (CI pipelines, notebooks): that topic only."""
PRINCIPALS = (*SERVICE_PRINCIPALS, SUBMITTER)

Operation = Literal["Read", "Write", "Describe"]
ResourceType = Literal["topic", "group"]


@dataclass(frozen=True, kw_only=True)
class PrincipalAcls:
    """What one principal may touch. Topic and group names are complete (prefix included)
    and LITERAL: a right on `model.submitted` is no right on `model.submitted.dlq`."""

    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @property
    def describe(self) -> tuple[str, ...]:
        """Topics whose metadata it may see: those it reads or writes, nothing else."""
        return tuple(dict.fromkeys((*self.read, *self.write)))

    def bindings(self) -> Iterator[tuple[ResourceType, str, Operation]]:
        """Every (resource type, name, operation) to allow, without repeats."""
        seen: set[tuple[ResourceType, str, Operation]] = set()
        wanted: list[tuple[ResourceType, str, Operation]] = [
            *(("topic", t, "Read") for t in self.read),
            *(("topic", t, "Write") for t in self.write),
            *(("topic", t, "Describe") for t in self.describe),
            *(("group", g, "Read") for g in self.groups),
        ]
        for binding in wanted:
            if binding not in seen:
                seen.add(binding)
                yield binding


def consumer_group(topics: Topics, service: str) -> str:
    """A service's consumer group (each service's main.py names it the same way)."""
    return f"{topics.prefix}modelgate-{service}"


def acl_table(topics: Topics | None = None) -> dict[str, PrincipalAcls]:
    """Principal name -> its rights, for the gate's topics under `topics.prefix`."""
    t = topics or Topics()
    consumes = {
        "ingest": (SUBMITTED, VALIDATED, REGISTERED, TRANSITIONED),
        "validator": (SUBMITTED,),
        "registry": (SUBMITTED, VALIDATED),
        "audit": MODEL_TOPICS,
    }
    produces = {
        "ingest": (SUBMITTED,),
        "validator": (VALIDATED,),
        "registry": (REGISTERED, TRANSITIONED, ARCHIVED, SUBMITTED),
        "audit": (),
    }
    table = {
        service: PrincipalAcls(
            read=tuple(t.name(topic) for topic in consumes[service]),
            write=(
                *(t.name(topic) for topic in produces[service]),
                *(t.dlq(topic) for topic in consumes[service]),
                *((t.checkpoints,) if service == "audit" else ()),
            ),
            groups=(consumer_group(t, service),),
        )
        for service in SERVICE_PRINCIPALS
    }
    table[SUBMITTER] = PrincipalAcls(write=(t.submitted,))
    return table
