"""The Helm chart's data files (deploy/helm/modelgate/files/), rendered from the same Python
sources of truth as the local stack and the compose file (Helm reads only files inside the chart):

- kafka.yaml: the topics of `modelgate_shared.topics` and the ACL table of
  `modelgate_shared.kafka.acls`; the chart's KafkaTopic and KafkaUser templates loop over it,
  so the chart cannot grant a service more (or less) than `make up` does;
- s3-policies.json: each service's S3 policy (`modelgate_shared.s3_policies`) for the
  evaluation MinIO, with `@BUCKET@` where the chart puts the bucket's name;
- dashboards/: the Grafana dashboards of deploy/observability.

A unit test fails when any is stale: `uv run python -m modelgate_stack.chart_data` rewrites them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from modelgate_shared.kafka.acls import PRINCIPALS, acl_table
from modelgate_shared.s3_policies import S3_SERVICES, service_policy
from modelgate_shared.topics import MODEL_TOPICS, Topics

CHART_FILES = Path("deploy/helm/modelgate/files")
DASHBOARDS = Path("deploy/observability/grafana/dashboards")
BUCKET_MARK = "@BUCKET@"
HEADER = (
    "# Generated from modelgate_shared.topics and modelgate_shared.kafka.acls by\n"
    "# `uv run python -m modelgate_stack.chart_data`; do not edit.\n"
    "# topics: each topic with its class (partitions, replicas and retention per class are\n"
    "# values: kafka.topics.<class>); users: each principal's ACLs (LITERAL names).\n"
)


def topic_class(topics: Topics, name: str) -> str:
    if name == topics.checkpoints:
        return "checkpoints"  # compacted: the latest checkpoint per key is what matters
    if name in {topics.dlq(t) for t in MODEL_TOPICS}:
        return "deadLetters"
    return "events"


def kafka_data(topics: Topics | None = None) -> dict[str, Any]:
    t = topics or Topics()
    table = acl_table(t)
    users: dict[str, Any] = {}
    for principal in PRINCIPALS:
        operations: dict[tuple[str, str], list[str]] = {}
        for resource, name, operation in table[principal].bindings():
            operations.setdefault((resource, name), []).append(operation)
        users[principal] = [
            {"type": resource, "name": name, "operations": ops}
            for (resource, name), ops in operations.items()
        ]
    return {
        "topics": [{"name": name, "class": topic_class(t, name)} for name in t.all_topics()],
        "users": users,
    }


def render(root: Path) -> dict[Path, str]:
    """Each file of the chart's files/ folder (relative to it) and its content; `root` is
    the checkout (for the dashboards)."""
    policies = {service: service_policy(service, [BUCKET_MARK]) for service in S3_SERVICES}
    files = {
        Path("kafka.yaml"): HEADER + yaml.safe_dump(kafka_data(), sort_keys=False, width=100),
        Path("s3-policies.json"): json.dumps(policies, indent=2) + "\n",
    }
    for dashboard in sorted((root / DASHBOARDS).glob("*.json")):
        files[Path("dashboards") / dashboard.name] = dashboard.read_text()
    return files


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path()
    for name, text in render(root).items():
        path = root / CHART_FILES / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    main()
