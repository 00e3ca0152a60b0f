"""The client's request and response models, and the paths it calls, against the OpenAPI
documents the running services serve: a drift on either side fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from modelgate import operations as ops
from modelgate.models import SCHEMAS, SubmissionMetadata
from modelgate.steps import Call
from tests.support.gate import Gate

pytestmark = pytest.mark.e2e
REQUESTS = {"TransitionIn", "AliasIn", "DeploymentIn", "ReasonIn"}


@pytest.fixture(scope="module")
def documents(gate: Gate) -> dict[str, dict[str, Any]]:
    return {
        service: httpx.get(f"{gate[service].url}/openapi.json", timeout=30).json()
        for service in ("registry", "ingest", "audit")
    }


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    """A named schema, in components or in any `$defs` nested in the document."""
    components = document.get("components", {}).get("schemas", {})
    if name in components:
        found: dict[str, Any] = components[name]
        return found
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if name in node.get("$defs", {}):
                nested: dict[str, Any] = node["$defs"][name]
                return nested
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    raise AssertionError(f"no schema {name!r} in the served document")


@pytest.mark.parametrize(
    ("model", "where"), list(SCHEMAS.items()), ids=[m.__name__ for m in SCHEMAS]
)
def test_each_model_has_the_fields_the_server_serves(
    documents: dict[str, dict[str, Any]], model: type[BaseModel], where: tuple[str, str]
) -> None:
    service, name = where
    schema = _schema(documents[service], name)
    served = set(schema.get("properties", {}))
    ours = set(model.model_fields)
    assert ours == served, f"{model.__name__} vs {service}'s {name}: {ours ^ served}"
    if name in REQUESTS:  # what the server requires, the client must always send
        optional = {k for k, f in model.model_fields.items() if not f.is_required()}
        assert not set(schema.get("required", [])) & optional, f"{name} requires more"


def test_the_submission_metadata_is_what_ingest_accepts(
    documents: dict[str, dict[str, Any]],
) -> None:
    upload = documents["ingest"]["paths"]["/api/v1/submissions"]["post"]["requestBody"]
    metadata = upload["content"]["multipart/form-data"]["schema"]["properties"]["metadata"]
    assert set(SubmissionMetadata.model_fields) == set(metadata["properties"])


def _first_call(op: Any) -> Call:
    step = next(op)
    assert isinstance(step, Call)
    return step


CALLS = [
    ops.submission("00000000-0000-0000-0000-000000000000"),
    ops.registered_model("m"),
    ops.version_detail("m", "1.0.0"),
    ops.search_models(),
    ops.search_versions(),
    ops.list_versions("m"),
    ops.transition("m", "1.0.0", "staging", "r"),
    ops.set_alias("m", "champion", "1.0.0"),
    ops.delete_alias("m", "champion"),
    ops.archive_version("m", "1.0.0", "r"),
    ops.archive_version("m", "1.0.0", "r", restore=True),
    ops.archive_model("m", "r"),
    ops.archive_model("m", "r", restore=True),
    ops.record_deployment("m", "1.0.0", "prod"),
    ops.deployments("m"),
    ops.download("m", "1.0.0", Path("unused")),
    ops.audit_entries(),
    ops.server_verify(),
    ops.public_key(),
    ops.checkpoints(),
    ops.export_audit(),
]


def test_every_path_the_client_calls_is_served(documents: dict[str, dict[str, Any]]) -> None:
    for op in CALLS:
        call = _first_call(op)
        paths = documents[call.service]["paths"]
        matched = [
            template
            for template, methods in paths.items()
            if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), call.path)
            and call.method.lower() in methods
        ]
        assert matched, f"{call.service} serves no {call.method} {call.path}"
