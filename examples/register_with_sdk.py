"""Register a model directory from Python and wait for the gate's verdict.

export MODELGATE_URL=… MODELGATE_INGEST_URL=… MODELGATE_TOKEN=…
python examples/register_with_sdk.py ./model
"""

from __future__ import annotations

import sys

from modelgate import Client, GateRejected

with Client() as mg:
    try:
        submission = mg.register_model(
            "my-model",
            "1.2.0",
            sys.argv[1],
            card={"description": "…", "owner_team": "ml-platform", "license": "apache-2.0"},
            lineage={"source": "hf://org/model@main", "code_commit": "4f2a9c1"},
            labels={"task": "text-generation"},
        )
    except GateRejected as rejected:
        for check in rejected.checks:
            print(f"{check.name}: {check.detail}")
        raise SystemExit(8) from None
    print(mg.get_model("my-model", "1.2.0").status)
