"""Creating the gate's topics; every service does it at start so any broker works."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from modelgate_shared.topics import Topics


async def ensure_topics(
    bootstrap: str, topics: Topics, *, partitions: int = 3, attempts: int = 60
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    for attempt in range(attempts):
        try:
            await admin.start()
            break
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    try:
        existing = set(await admin.list_topics())
        compacted = {"cleanup.policy": "compact"}
        wanted = [
            NewTopic(
                name, partitions, 1, topic_configs=compacted if name == topics.checkpoints else {}
            )
            for name in topics.all_topics()
            if name not in existing
        ]
        if wanted:
            # Another service may create them between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
    finally:
        await admin.close()
