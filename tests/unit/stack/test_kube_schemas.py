"""The conversion of CRDs and Kubernetes' schemas into what kubeconform reads, as
openapi2jsonschema does it: strict objects, int-or-string, standalone references."""

from __future__ import annotations

from typing import Any

import pytest

from modelgate_stack.errors import StackError
from modelgate_stack.kube_schemas import crd_json_schemas, standalone

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "example.com",
        "names": {"kind": "Gadget"},
        "versions": [
            {"name": "v1alpha1", "served": False, "schema": {"openAPIV3Schema": {}}},
            {
                "name": "v1",
                "served": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"x-kubernetes-int-or-string": True,
                                             "anyOf": [{"type": "integer"}, {"type": "string"}]},
                                    "port": {"type": "string", "format": "int-or-string"},
                                    "config": {"type": "object",
                                               "x-kubernetes-preserve-unknown-fields": True,
                                               "properties": {"a": {"type": "string"}}},
                                    "labels": {"type": "object",
                                               "additionalProperties": {"type": "string"}},
                                },
                            }
                        },
                    }
                },
            },
        ],
    },
}  # fmt: skip


def test_served_versions_become_strict_schemas_named_for_kubeconform() -> None:
    ((group, kind, version, schema),) = crd_json_schemas(CRD)
    assert (group, kind, version) == ("example.com", "gadget", "v1")
    assert schema["additionalProperties"] is False
    spec = schema["properties"]["spec"]
    assert spec["additionalProperties"] is False
    either = [{"type": "string"}, {"type": "integer"}]
    assert spec["properties"]["size"]["oneOf"] == either
    assert "anyOf" not in spec["properties"]["size"]
    assert spec["properties"]["port"] == {"oneOf": either}
    # Where the CRD keeps unknown fields, so does the schema; a map keeps its value schema.
    assert "additionalProperties" not in spec["properties"]["config"]
    assert spec["properties"]["labels"]["additionalProperties"] == {"type": "string"}


def test_references_are_inlined_and_a_recursive_one_is_cut() -> None:
    definitions = {
        "Meta": {"type": "object", "properties": {"name": {"type": "string"}}},
        "Props": {"type": "object", "properties": {"items": {"$ref": "/api/x.json#/$defs/Props"}}},
    }
    schema = {
        "properties": {
            "metadata": {"$ref": "/api/_definitions.json#/$defs/Meta", "description": "kept"},
            "schema": {"$ref": "/api/_definitions.json#/$defs/Props"},
        }
    }
    out = standalone(schema, definitions)
    assert out["properties"]["metadata"] == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "description": "kept",
    }
    assert out["properties"]["schema"]["properties"]["items"] == {}


def test_a_reference_to_nothing_is_an_error_not_a_hole() -> None:
    # Replacing it by {} would accept anything there: the validation would pass for nothing.
    with pytest.raises(StackError, match="Missing"):
        standalone({"properties": {"x": {"$ref": "#/$defs/Missing"}}}, {})
