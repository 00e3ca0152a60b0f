"""Ingest's submission rules without a server: metadata, file names, formats, references."""

from __future__ import annotations

import json

import pytest

from modelgate_ingest.submissions import (
    ReferenceSubmission,
    check_file_name,
    infer_format,
    parse_metadata,
    reference_files,
)
from modelgate_shared.errors import ApiError
from modelgate_shared.events import ArtifactFormat
from modelgate_testkit.factories import GOOD_CARD

CARD = GOOD_CARD.model_dump(exclude_none=True)


def _refused(call: object, status: int, fragment: str) -> None:
    assert callable(call)
    with pytest.raises(ApiError) as refused:
        call()
    assert refused.value.status == status
    assert fragment in refused.value.message


def test_metadata_is_parsed_or_refused_with_the_field() -> None:
    meta = parse_metadata(
        json.dumps({"name": "m", "version": "1.0.0", "model_card": CARD}).encode()
    )
    assert (meta.name, meta.version) == ("m", "1.0.0")
    _refused(lambda: parse_metadata(b'{"name": "m"}'), 422, "version")
    _refused(lambda: parse_metadata(b"not json"), 422, "invalid metadata")
    _refused(lambda: parse_metadata(b'{"name": "m\\u0000"}'), 400, "control character")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        (None, "needs a filename"),
        ("   ", "needs a filename"),
        ("weights/ model.bin", "surrounding spaces"),
        ("a\tb.bin", "control character"),
        ("../escape.bin", "unsafe file name"),
        ("/absolute.bin", "unsafe file name"),
    ],
)
def test_unusable_file_names_are_a_400_with_the_reason(name: str | None, fragment: str) -> None:
    _refused(lambda: check_file_name(name), 400, fragment)


def test_a_relative_path_inside_the_artifact_is_kept() -> None:
    assert check_file_name("tokenizer/vocab.json") == "tokenizer/vocab.json"


@pytest.mark.parametrize(
    ("paths", "declared", "expected"),
    [
        (["model.safetensors"], None, ArtifactFormat.SAFETENSORS),
        (["model.gguf"], None, ArtifactFormat.GGUF),
        (["config.json", "model.safetensors"], None, ArtifactFormat.HF_DIRECTORY),
        (["a.safetensors", "b.gguf"], None, ArtifactFormat.OTHER),
        (["model.safetensors"], ArtifactFormat.OTHER, ArtifactFormat.OTHER),
    ],
)
def test_the_format_is_inferred_from_the_files_unless_declared(
    paths: list[str], declared: ArtifactFormat | None, expected: ArtifactFormat
) -> None:
    assert infer_format(paths, declared) == expected


def _reference(files: list[dict[str, object]], **extra: object) -> ReferenceSubmission:
    return ReferenceSubmission.model_validate(
        {"name": "m", "version": "1.0.0", "model_card": CARD, "files": files, **extra}
    )


def test_references_stay_in_the_allowed_buckets_and_under_their_root() -> None:
    ok = _reference(
        [
            {"path": "model.safetensors", "uri": "s3://models/team/m/model.safetensors"},
            {"path": "config.json", "uri": "s3://models/team/m/config.json"},
        ]
    )
    root, files = reference_files(ok, {"models"})
    assert root == "s3://models/team/m/"
    assert [f.path for f in files] == ["model.safetensors", "config.json"]

    elsewhere = _reference([{"path": "m.bin", "uri": "s3://attacker/m.bin"}])
    _refused(lambda: reference_files(elsewhere, {"models"}), 403, "not one submissions")
    not_s3 = _reference([{"path": "m.bin", "uri": "https://example.com/m.bin"}])
    _refused(lambda: reference_files(not_s3, {"models"}), 422, "s3://bucket/key")
    # The artifact_uri, if given, must be the files' root, never another bucket's.
    moved = _reference(
        [{"path": "m.bin", "uri": "s3://models/team/m/m.bin"}],
        artifact_uri="s3://attacker-bucket/payload/",
    )
    _refused(lambda: reference_files(moved, {"models"}), 422, "not under the artifact uri")
