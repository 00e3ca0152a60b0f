"""At-least-once batch consumption with dead letters, on a FastStream subscriber.

A crash anywhere before a partition's commit means redelivery, so handlers must be
idempotent (they are: processed event ids are recorded with their effects). Transient
failures (a dependency is away) are retried for as long as it takes, without committing;
anything else is isolated to the one event that causes it, which becomes a dead letter.

Telemetry: with tracing on, each record gets a `<topic> process` span whose parent is the
record's `traceparent`; a handler makes it current with `item.traced()` around the work it
does for that event. A consumer configured with `trace_records=False` makes that span only
for a record it dead-letters.

One module per job:

- `config.py`: `ConsumerConfig`, the group, topics and every time bound;
- `received.py`: `Received` (what a handler gets), `Rejected`, decoding and proving a record;
- `event_consumer.py`: `EventConsumer`, a task per partition batch, paused until committed;
- `failures.py`: retries with backoff and dead letters, the handler's `Health` for /readyz;
- `offsets.py`: exact bounded commits and the lag behind them;
- `watchdog.py`: replaces a wedged Kafka client;
- `rebalance.py`: what happens to work on partitions taken away.

`modelgate_shared.runtime.consumer` wires one into a service.
"""

from modelgate_shared.kafka.consumer.config import ConsumerConfig
from modelgate_shared.kafka.consumer.event_consumer import CONSUMED, EventConsumer
from modelgate_shared.kafka.consumer.failures import DEAD_LETTERED, RETRIES, Health
from modelgate_shared.kafka.consumer.offsets import COMMITS_ABANDONED
from modelgate_shared.kafka.consumer.received import Handler, Received, Rejected
from modelgate_shared.kafka.consumer.watchdog import RESTARTS

__all__ = [
    "COMMITS_ABANDONED",
    "CONSUMED",
    "DEAD_LETTERED",
    "RESTARTS",
    "RETRIES",
    "ConsumerConfig",
    "EventConsumer",
    "Handler",
    "Health",
    "Received",
    "Rejected",
]
