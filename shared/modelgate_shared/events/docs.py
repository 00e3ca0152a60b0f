"""Generates the published contract documents from the pydantic models (never by hand).

`python -m modelgate_shared.events.docs DIR` writes DIR/events/<type>.schema.json (JSON
Schema 2020-12 of each CloudEvent) and DIR/asyncapi.json (AsyncAPI 3.0). `make docs` runs it;
a test fails when the committed files differ from what the models produce.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from modelgate_shared.events.catalog import EVENT_TYPES, EventType
from modelgate_shared.events.envelope import CONTENT_TYPE
from modelgate_shared.signing.signer import KEY_ID_HEADER, SIGNATURE_HEADER, SIGNED_PREFIX

SIGNATURE_DESCRIPTION = (
    "Base64 Ed25519 signature of the bytes "
    f"{SIGNED_PREFIX.decode().rstrip(chr(0))!r} + NUL + the record value, exactly as sent "
    "(the structured-mode CloudEvent JSON). Every consumer dead-letters an event without a "
    "valid signature by a trusted key allowed to sign its type; binary-mode events cannot "
    "be signed. See docs/event-signatures.md."
)
KEY_ID_DESCRIPTION = (
    "Id of the signing key: hex of the first 8 bytes of SHA-256 of the raw 32-byte Ed25519 "
    "public key, as listed in the trusted-keys file (MODELGATE_TRUSTED_KEYS)."
)


def _title(kind: EventType) -> str:
    return kind.topic.replace(".", "_")


def event_schema(kind: EventType) -> dict[str, Any]:
    schema = kind.envelope.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": kind.dataschema,
        **schema,
        "title": kind.type,
        "description": kind.summary,
    }


def asyncapi() -> dict[str, Any]:
    kinds = list(EVENT_TYPES.values())
    keyed, defs = models_json_schema(
        [(k.envelope, "validation") for k in kinds],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for kind in kinds:
        name = _title(kind)
        ref = keyed[(kind.envelope, "validation")]
        messages[name] = {
            "name": kind.type,
            "title": kind.type,
            "summary": kind.summary,
            "contentType": CONTENT_TYPE,
            "headers": {
                "type": "object",
                "properties": {
                    "content-type": {"const": CONTENT_TYPE},
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                    "tracestate": {"type": "string"},
                    SIGNATURE_HEADER: {
                        "type": "string",
                        "contentEncoding": "base64",
                        "description": SIGNATURE_DESCRIPTION,
                    },
                    KEY_ID_HEADER: {
                        "type": "string",
                        "pattern": "^[0-9a-f]{16}$",
                        "description": KEY_ID_DESCRIPTION,
                    },
                },
                "required": ["content-type", SIGNATURE_HEADER, KEY_ID_HEADER],
            },
            "payload": ref,
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": "Model name (UTF-8 bytes)"},
                    "bindingVersion": "0.5.0",
                }
            },
        }
        channels[name] = {
            "address": kind.topic,
            "description": f"{kind.summary} Dead letters go to `{kind.topic}.dlq`.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"publish_{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
        operations[f"subscribe_{name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Modelgate events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 (structured JSON mode) on Kafka. Key: model name. "
            "Unknown fields are ignored; breaking changes get a new type (`.v2`). Every event "
            "is signed by its publisher (headers `mg-signature`, `mg-key-id`); a "
            "`model.submitted` signed by an external producer's key must name that producer "
            "as its `submitter` (docs/event-signatures.md).",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> dict[str, str]:
    """Relative path -> file content, for every generated document."""
    files = {
        f"events/{k.type}.schema.json": json.dumps(event_schema(k), indent=2, sort_keys=True)
        for k in EVENT_TYPES.values()
    }
    files["asyncapi.json"] = json.dumps(asyncapi(), indent=2, sort_keys=True)
    return {path: text + "\n" for path, text in files.items()}


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "docs")
    for rel, text in render().items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
