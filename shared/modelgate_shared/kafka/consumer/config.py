"""What a consumer is told: its group, topics, accepted event types, and every time bound."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from modelgate_shared.events import EventType


@dataclass(kw_only=True)
class ConsumerConfig:
    group_id: str
    topics: Sequence[str]
    expect: Mapping[str, Sequence[EventType]] = field(default_factory=dict)
    """Topic -> event types accepted on it; others are dead-lettered."""
    max_records: int = 500
    batch_timeout_ms: int = 50
    max_poll_interval_ms: int = 300_000
    session_timeout_ms: int = 30_000
    """How long the group waits for a silent member before handing its partitions to others.
    10 s proved too short with two replicas of each service on a busy two-core machine: a
    starved event loop missed heartbeats, every miss rebalanced the group and cancelled the
    batches in flight, and the gate stopped moving (docs/testing.md). A member killed with
    kill -9 now holds its partitions up to 30 s longer; a clean stop leaves the group at once."""
    revoke_wait_s: float = 8.0
    """How long a rebalance waits for in-flight work on revoked partitions (keep it under the
    session timeout, which is how long the group waits for this member to rejoin)."""
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0
    commit_timeout_s: float = 15.0
    """How long one offset commit may take. aiokafka retries a commit for as long as the
    group coordinator answers with retriable errors or is not found, and a partition stays
    paused until its commit returns: after a broker restart that was a silent stall."""
    commit_attempts: int = 5
    trace_records: bool = True
    """Whether every record gets a process span (with tracing on). Off for consumers whose
    work is bookkeeping nobody follows in a trace (ingest's status follower): spans cost
    CPU per record, and such a consumer then records one only for a dead letter, where
    the trace should show what went wrong."""
    lag_interval_s: float = 5.0
    """How often the consumer lag per partition is measured (0: never)."""
    stall_restart_s: float = 60.0
    """A consumer is stalled when its offset commits have failed for this long, or when its
    partitions have lag while no batch is in flight and none came for this long: its Kafka
    client is wedged (seen after broker restarts: commits hung while fetching went on). It is
    replaced by a new client, which rejoins the group and reads on from the committed
    offsets. Checked at each lag measurement (lag_interval_s > 0); 0: never."""
