"""Which Prometheus sample names a set of metric families exposes, and which a query uses."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import Metric

# The series each metric type is exposed as (prometheus_client's text format).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "unknown": ("",),
}
METRIC_NAME = re.compile(r"\b(modelgate_[a-z0-9_]+)\b")


def sample_names(families: Iterable[Metric]) -> set[str]:
    return {f.name + suffix for f in families for suffix in SUFFIXES.get(f.type, ("",))}


def names_in_query(expr: str) -> set[str]:
    """Our metric names a PromQL expression reads (label names never start with ours)."""
    return set(METRIC_NAME.findall(expr))


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel of a Grafana dashboard, those inside rows included."""
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def prometheus_queries(dashboard: dict[str, Any]) -> list[str]:
    return [
        target["expr"]
        for panel in panels(dashboard["panels"])
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def dashboard_metrics(path: Path) -> set[str]:
    """Our metric names a dashboard's Prometheus queries read."""
    queries = prometheus_queries(json.loads(path.read_text()))
    return set().union(*(names_in_query(q) for q in queries))
