"""Runs under the upstream `model-registry` client's own virtualenv (not this workspace's).

Usage: python model_registry_flow.py URL PORT TOKEN MODEL URI_1 URI_2
Prints one JSON document with what the client read back at each step.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from model_registry import ModelRegistry
from model_registry.types import ModelVersionState

METADATA = {"license": "apache-2.0", "epochs": 10, "accuracy": 0.97, "quantized": True}


def fields(obj: Any) -> dict[str, Any]:
    keep = (
        "id",
        "name",
        "description",
        "owner",
        "state",
        "author",
        "uri",
        "model_format_name",
        "model_format_version",
        "storage_key",
        "storage_path",
        "service_account_name",
        "custom_properties",
        "external_id",
    )
    out = {k: getattr(obj, k, None) for k in keep}
    state = out.get("state")
    out["state"] = getattr(state, "value", state)
    return out


def main() -> None:
    url, port, token, name, first_uri, second_uri = sys.argv[1:7]
    registry = ModelRegistry(
        url, port=int(port), author="ai-scientist", is_secure=False, user_token=token
    )
    result: dict[str, Any] = {}
    registry.register_model(
        name,
        first_uri,
        version="1.0.0",
        model_format_name="safetensors",
        model_format_version="1",
        version_description="first version",
        metadata=METADATA,
        owner="ml-platform",
        storage_key="minio-connection",
        storage_path="models/tiny",
        service_account_name="modelgate-reader",
    )
    result["model"] = fields(registry.get_registered_model(name))
    result["version"] = fields(registry.get_model_version(name, "1.0.0"))
    result["artifact"] = fields(registry.get_model_artifact(name, "1.0.0"))
    registry.register_model(
        name,
        second_uri,
        version="1.1.0",
        model_format_name="safetensors",
        model_format_version="1",
        version_description="second version",
        metadata=METADATA,
    )
    result["paged_versions"] = [v.name for v in registry.get_model_versions(name).page_size(1)]
    result["missing_model"] = registry.get_registered_model(f"{name}-does-not-exist")

    # The versions entered the gate when their artifacts were attached: wait for the verdict.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        gate = registry.get_model_version(name, "1.0.0").custom_properties["modelgate.status"]
        if gate in ("REGISTERED", "REJECTED"):
            break
        time.sleep(0.5)
    result["gate_status"] = gate

    version = registry.get_model_version(name, "1.0.0")
    version.state = ModelVersionState.ARCHIVED
    registry.update(version)
    result["archived"] = fields(registry.get_model_version(name, "1.0.0"))
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
