"""The Kafka client's repeated log lines are thinned; ours never are."""

from __future__ import annotations

import logging
import time

from modelgate_shared.log_setup import KafkaClientRepeats


def _record(logger: str, msg: str) -> logging.LogRecord:
    return logging.LogRecord(logger, logging.ERROR, __file__, 1, msg, ("1",), None)


def test_each_kafka_client_line_passes_once_per_period() -> None:
    repeats = KafkaClientRepeats(period_s=60)
    unable = "Unable connect to node with id %s: connection refused"
    passed = [repeats.filter(_record("aiokafka.client", unable)) for _ in range(100)]
    assert passed.count(True) == 1
    assert passed[0]
    # Another line of the client is a stream of its own.
    assert repeats.filter(_record("aiokafka.client", "Unable to update metadata from %s"))
    # Our own loggers pass every time, however often they repeat.
    assert all(repeats.filter(_record("modelgate.registry", unable)) for _ in range(10))


def test_the_next_line_to_pass_says_how_many_were_skipped() -> None:
    repeats = KafkaClientRepeats(period_s=0.05)
    line = "Failed fetch messages from %s: timed out"
    for _ in range(5):
        repeats.filter(_record("aiokafka.consumer.fetcher", line))
    time.sleep(0.1)
    later = _record("aiokafka.consumer.fetcher", line)
    assert repeats.filter(later)
    assert later.getMessage().startswith("Failed fetch messages from 1: timed out")
    assert "4 more like it" in later.getMessage()
