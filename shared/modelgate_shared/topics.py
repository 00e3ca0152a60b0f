"""Kafka topic names. The contract names are fixed; a prefix isolates test runs."""

from __future__ import annotations

from dataclasses import dataclass

SUBMITTED = "model.submitted"
VALIDATED = "model.validated"
REGISTERED = "model.registered"
TRANSITIONED = "model.transitioned"
ARCHIVED = "model.archived"
MODEL_TOPICS = (SUBMITTED, VALIDATED, REGISTERED, TRANSITIONED, ARCHIVED)
AUDIT_CHECKPOINTS = "audit.checkpoints"
DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True, kw_only=True)
class Topics:
    prefix: str = ""

    def name(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def dlq(self, topic: str) -> str:
        return f"{self.prefix}{topic}{DLQ_SUFFIX}"

    @property
    def submitted(self) -> str:
        return self.name(SUBMITTED)

    @property
    def validated(self) -> str:
        return self.name(VALIDATED)

    @property
    def registered(self) -> str:
        return self.name(REGISTERED)

    @property
    def transitioned(self) -> str:
        return self.name(TRANSITIONED)

    @property
    def archived(self) -> str:
        return self.name(ARCHIVED)

    @property
    def checkpoints(self) -> str:
        return self.name(AUDIT_CHECKPOINTS)

    def all_topics(self) -> list[str]:
        """Every topic the gate uses, dead-letter topics included (for provisioning)."""
        names = [self.name(t) for t in MODEL_TOPICS]
        names += [self.dlq(t) for t in MODEL_TOPICS]
        return [*names, self.checkpoints]
