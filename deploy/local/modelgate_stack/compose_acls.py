"""The gate's topics and ACL table as the compose file's Kafka init step reads them
(`deploy/compose/kafka-acls.txt`).

Docker hosts provision with the Kafka image's own tools, which know nothing of our Python
table; this renders it into lines a shell loop reads:
`topic <name> <cleanup.policy>` and `acl <principal> <Read|Write|Describe> <topic|group>
<name> [<name> ...]`. A unit test fails when the file is stale:
`uv run python -m modelgate_stack.compose_acls` rewrites it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from modelgate_shared.kafka.acls import PRINCIPALS, acl_table
from modelgate_shared.topics import Topics

HEADER = (
    "# Generated from modelgate_shared.kafka.acls by `uv run python -m "
    "modelgate_stack.compose_acls`; do not edit.\n"
    "# topic <name> <cleanup.policy> | acl <principal> <operation> <resource type> <names...>\n"
)


def render(topics: Topics | None = None) -> str:
    t = topics or Topics()
    table = acl_table(t)
    lines = [
        f"topic {name} {'compact' if name == t.checkpoints else 'delete'}"
        for name in t.all_topics()
    ]
    for principal in PRINCIPALS:
        grouped: dict[tuple[str, str], list[str]] = {}
        for resource, name, operation in table[principal].bindings():
            grouped.setdefault((operation, resource), []).append(name)
        lines += [
            f"acl {principal} {op} {kind} {' '.join(names)}"
            for (op, kind), names in grouped.items()
        ]
    return HEADER + "\n".join(lines) + "\n"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("deploy/compose/kafka-acls.txt")
    path.write_text(render())


if __name__ == "__main__":
    main()
