"""JSON logs on stderr, one object per line, so they can be shipped and queried as-is.

A line written inside a span carries that span's `trace_id` and `span_id`, so a trace found
in Grafana or Jaeger leads to its log lines and back.

The Kafka client's repeats are thinned: aiokafka logs every failed reconnect and every request
that fails with it, at ERROR, and one service wrote about 1,800 such lines in a 15 s broker
outage. Each distinct line of its loggers passes once per `KAFKA_CLIENT_REPEAT_S` (the next
one to pass says how many were skipped); our own loggers are never thinned."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from log_rate_limit import StreamRateLimitFilter
from opentelemetry import trace

KAFKA_CLIENT_REPEAT_S = 10.0


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        for key in ("trace_id", "span_id", "event_id", "subject"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class KafkaClientRepeats(logging.Filter):
    """Lets each distinct message of aiokafka's loggers through once per `period_s`; every
    other logger's records pass untouched."""

    def __init__(self, period_s: float = KAFKA_CLIENT_REPEAT_S) -> None:
        super().__init__()
        self._limit = StreamRateLimitFilter(
            period_sec=period_s, summary_msg="(and {numskip} more like it since)"
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka"):
            return True
        return bool(self._limit.filter(record))


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(KafkaClientRepeats())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs every reconnect at WARNING/ERROR; keep them, but not its debug chatter.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
