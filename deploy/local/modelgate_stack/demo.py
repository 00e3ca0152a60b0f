"""The demo model `make up` submits: a tiny real safetensors model, with a model card modelled
on the seeds' Granite 3.1 8B Instruct FP8 entry, taken through the whole gate as ai-admin."""

from __future__ import annotations

import json
import random
import struct
import time

import httpx

from modelgate_stack.errors import StackError

NAME = "Granite-3.1-8b-Instruct-FP8-demo"
VERSION = "3.1.0-May2025-Validated"
CARD = {
    "description": "Demo stand-in for Granite 3.1 8B Instruct FP8 (Red Hat AI validated models, "
    "May 2025): a tiny random-weight model with the same card, so the local stack shows a "
    "validated entry end to end.",
    "owner_team": "ai-admin",
    "license": "apache-2.0",
    "vendor": "IBM",
    "quantization": "fp8-dynamic",
    "framework": "vllm",
    "intended_use": "Discovery and deployment demo in the local catalog (GenAI Studio style).",
    "limitations": "Random weights: not a language model. The real Granite weights are not "
    "downloaded by the local stack.",
    "training_data_version": "granite-3.1-release",
    "code_commit": "demo",
    "metrics": {"demo_score": 1.0},
}
LABELS = {
    "task": "text-generation",
    "hardware-target": "nvidia-l4",
    "serving-runtime": "vllm",
    "collection": "red-hat-ai-validated-may-2025",
}


def tiny_model(seed: int = 3118) -> bytes:
    """A valid safetensors file: two F32 tensors of a tiny MLP, seeded random weights."""
    rng = random.Random(seed)  # noqa: S311 (model weights, not secrets)
    shapes = {"mlp.down.weight": (8, 16), "mlp.up.weight": (16, 8)}
    header: dict[str, object] = {"__metadata__": {"format": "pt", "demo": "modelgate"}}
    data = b""
    for name, (rows, cols) in shapes.items():
        values = [rng.gauss(0.0, 0.02) for _ in range(rows * cols)]
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {
            "dtype": "F32",
            "shape": [rows, cols],
            "data_offsets": [len(data), len(data) + len(blob)],
        }
        data += blob
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(head)) + head + data


def submit_demo(env: dict[str, str], timeout_s: float = 90) -> str:
    """Submit the demo model unless it is registered already, and take it through the review
    the way the seeds describe: a data scientist submits, the validator passes it, an admin
    (not the submitter: four-eyes) approves it into the catalog."""
    scientist = {"Authorization": f"Bearer {env['MODELGATE_DATA_SCIENTIST_TOKEN']}"}
    admin = {"Authorization": f"Bearer {env['MODELGATE_ADMIN_TOKEN']}"}
    path = f"{env['REGISTRY_URL']}/api/v1/models/{NAME}/versions/{VERSION}"
    known = httpx.get(path, headers=admin, timeout=10)
    if known.status_code == 200 and known.json()["status"] == "REGISTERED":
        return "already registered"
    if known.status_code == 404:
        meta = {
            "name": NAME,
            "version": VERSION,
            "model_card": CARD,
            "labels": LABELS,
            "source": "hf://RedHatAI/granite-3.1-8b-instruct-FP8-dynamic",
            "hardware_profile": "nvidia-l4-1gpu",
        }
        answer = httpx.post(
            f"{env['INGEST_URL']}/api/v1/submissions",
            headers=scientist,
            timeout=60,
            files=[
                ("metadata", (None, json.dumps(meta), "application/json")),
                ("file", ("model.safetensors", tiny_model(), "application/octet-stream")),
            ],
        )
        if answer.status_code != 202:
            raise StackError(
                f"the demo submission was refused: {answer.status_code} {answer.text[:300]}"
            )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen = httpx.get(path, headers=admin, timeout=10)
        status = seen.json().get("status") if seen.status_code == 200 else None
        if status == "REGISTERED":
            return "registered"
        if status == "REJECTED":
            raise StackError(f"the demo model was rejected: {seen.json()['status_reason']}")
        if status == "PENDING_REVIEW":
            approved = httpx.post(
                f"{path}/review",
                headers=admin,
                timeout=10,
                json={"decision": "approve", "reason": "demo model of `make up`"},
            )
            if approved.status_code != 200:
                raise StackError(f"the demo model's approval was refused: {approved.text[:300]}")
            return "registered (approved by ai-admin)"
        time.sleep(0.5)
    raise StackError(
        f"the demo model was not registered within {timeout_s:.0f}s; see .local/state/logs/*.log"
    )
