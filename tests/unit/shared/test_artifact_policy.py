"""The artifact-root rule ingest and the validator's policy check share."""

from __future__ import annotations

import pytest

from modelgate_shared.events import Artifact, ArtifactFile, ArtifactFormat
from modelgate_shared.policy import artifact_problems, is_under

OURS = {"modelgate"}


def _artifact(root: str, *uris: str) -> Artifact:
    files = [ArtifactFile(path=f"f{i}", uri=u) for i, u in enumerate(uris)]
    return Artifact(uri=root, format=ArtifactFormat.OTHER, files=files)


@pytest.mark.parametrize(
    ("uri", "root", "under"),
    [
        ("s3://b/m/x", "s3://b/m/", True),
        ("s3://b/m/x", "s3://b/m", True),
        ("s3://b/m", "s3://b/m", True),
        ("s3://b/mo/x", "s3://b/m", False),
        ("s3://c/m/x", "s3://b/m/", False),
    ],
)
def test_a_file_is_under_a_root_only_by_whole_path_segments(
    uri: str, root: str, under: bool
) -> None:
    assert is_under(uri, root) is under


def test_files_under_their_root_in_our_bucket_are_acceptable() -> None:
    assert artifact_problems(_artifact("s3://modelgate/m/", "s3://modelgate/m/a"), OURS) == []
    one = "s3://modelgate/m/model.safetensors"
    assert artifact_problems(_artifact(one, one), OURS) == []


def test_a_root_in_another_bucket_is_refused() -> None:
    (problem, outside) = artifact_problems(
        _artifact("s3://attacker-bucket/payload/", "s3://modelgate/m/a"), OURS
    )
    assert "bucket 'attacker-bucket', not one submissions may reference" in problem
    assert "not under the artifact uri" in outside


def test_a_root_beside_the_files_is_refused() -> None:
    (problem,) = artifact_problems(_artifact("s3://modelgate/other/", "s3://modelgate/m/a"), OURS)
    assert "'f0' (s3://modelgate/m/a) are not under the artifact uri" in problem


def test_files_in_a_bucket_not_allowed_are_refused_even_under_the_root() -> None:
    problems = artifact_problems(_artifact("s3://elsewhere/m/", "s3://elsewhere/m/a"), OURS)
    assert any("file(s) in bucket(s) 'elsewhere'" in p for p in problems)
