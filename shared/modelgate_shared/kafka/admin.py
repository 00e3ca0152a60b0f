"""Making sure the gate's topics exist at start-up, where the service may create them.

On a secured cluster the topics are the operator's (`make up` as the stack's admin, or
Strimzi KafkaTopic resources) and no service principal holds CREATE: a refusal then only means
"not ours to create", and the service starts on the topics that are there.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    for_code,
)

from modelgate_shared.kafka.security import KafkaAccess
from modelgate_shared.topics import Topics

log = logging.getLogger(__name__)

# Another service may create a topic between our list and our create; a principal without
# CREATE is told so per topic (or for the cluster).
_TOLERATED = (
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    ClusterAuthorizationFailedError,
)


async def ensure_topics(
    kafka: KafkaAccess, topics: Topics, *, partitions: int = 3, attempts: int = 60
) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=30000)
    for attempt in range(attempts):
        try:
            await admin.start()
            break
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    try:
        # A principal sees only the topics it may describe; the others look missing.
        existing = set(await admin.list_topics())
        compacted = {"cleanup.policy": "compact"}
        wanted = [
            NewTopic(
                name, partitions, 1, topic_configs=compacted if name == topics.checkpoints else {}
            )
            for name in topics.all_topics()
            if name not in existing
        ]
        if not wanted:
            return
        try:
            response = await admin.create_topics(wanted)
        except _TOLERATED as exc:
            log.info("not creating topics %s: %r", [t.name for t in wanted], exc)
            return
        refused = []
        for topic, code, *_ in response.topic_errors:
            if code == 0:
                continue
            error = for_code(code)
            if not issubclass(error, _TOLERATED):
                raise error(f"creating topic {topic}")
            if error is not TopicAlreadyExistsError:
                refused.append(topic)
        if refused:
            log.info("not authorized to create %s; the operator provisions them", refused)
    finally:
        await admin.close()
