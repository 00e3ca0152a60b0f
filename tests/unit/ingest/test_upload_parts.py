"""An upload's parts: file names (paths inside the artifact) and the metadata part."""

from __future__ import annotations

import pytest

from modelgate_ingest.submissions import check_file_name, parse_metadata
from modelgate_shared.errors import ApiError


@pytest.mark.parametrize(
    "name",
    [None, "", " ", "\t", "   ", "dir/ /model.safetensors", " model.safetensors", "a\x01b", "../x"],
)
def test_blank_padded_or_unsafe_names_are_a_400(name: str | None) -> None:
    with pytest.raises(ApiError) as refused:
        check_file_name(name)
    assert refused.value.status == 400


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer/vocab.json", "my model.gguf"])
def test_ordinary_names_pass(name: str) -> None:
    assert check_file_name(name) == name


def test_a_metadata_part_with_an_escaped_nul_is_a_400() -> None:
    with pytest.raises(ApiError) as refused:
        parse_metadata(b'{"name": "a", "version": "1.0.0", "labels": {"k": "\\u0000"}}')
    assert refused.value.status == 400
    assert "NUL" in refused.value.message
