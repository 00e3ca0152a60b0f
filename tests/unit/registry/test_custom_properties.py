"""Kubeflow customProperties: typed, capped, and refused when sent rather than when used."""

from __future__ import annotations

from typing import Any

import pytest

from modelgate_registry.api.kubeflow.wire import custom_properties
from modelgate_shared.errors import ApiError


def _string(value: str) -> dict[str, str]:
    return {"metadataType": "MetadataStringValue", "string_value": value}


def test_typed_values_pass_and_ints_are_normalised() -> None:
    checked = custom_properties(
        {
            "epochs": {"metadataType": "MetadataIntValue", "int_value": "10"},
            "accuracy": {"metadataType": "MetadataDoubleValue", "double_value": 0.97},
            "quantized": {"metadataType": "MetadataBoolValue", "bool_value": True},
            "intended_use": _string("x" * 16384),
            "modelgate.status": _string("forged"),
        }
    )
    assert checked["epochs"]["int_value"] == "10"
    assert "modelgate.status" not in checked


@pytest.mark.parametrize(
    ("props", "why"),
    [
        ({f"p{i}": _string("v") for i in range(129)}, "at most 128"),
        ({"k" * 257: _string("v")}, "keys are 1 to 256"),
        ({"": _string("v")}, "keys are 1 to 256"),
        ({"intended_use": _string("x" * 16385)}, "at most 16384"),
        ({"code_commit": _string("x" * 257)}, "at most 256"),
        ({"n": {"metadataType": "MetadataIntValue", "int_value": str(2**63)}}, "64-bit"),
        ({"n": {"metadataType": "MetadataIntValue", "int_value": "ten"}}, "integer"),
        ({"d": {"metadataType": "MetadataDoubleValue", "double_value": "zzz"}}, "a number"),
        ({"d": {"metadataType": "MetadataDoubleValue", "double_value": True}}, "a number"),
        ({"b": {"metadataType": "MetadataBoolValue", "bool_value": "yes"}}, "true or false"),
        ({"s": {"metadataType": "MetadataStringValue", "string_value": 3}}, "a string"),
        ({"j": {"metadataType": "MetadataStructValue", "struct_value": "x" * 20000}}, "JSON"),
    ],
)
def test_what_breaks_a_type_or_a_cap_is_a_400(props: dict[str, Any], why: str) -> None:
    with pytest.raises(ApiError) as refused:
        custom_properties(props)
    assert refused.value.status == 400
    assert why in refused.value.message
