"""A checkpoint read back from the bucket: anything else under the prefix is refused with a
ValueError (skipped with a warning by the store), never a crash of /verify."""

from __future__ import annotations

import pytest

from modelgate_audit.checkpoints import Checkpoint


def test_a_checkpoint_round_trips() -> None:
    checkpoint = Checkpoint(seq=3, head_hash="ab" * 32, time="t", key_id="k", signature="s")
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint


@pytest.mark.parametrize(
    "data",
    [
        b"{}",
        b"not json",
        b"[1, 2]",
        b'{"seq": "1", "head_hash": "a", "time": "t", "key_id": "k"}',
        b'{"seq": true, "head_hash": "a", "time": "t", "key_id": "k"}',
        b'{"seq": 1, "head_hash": 2, "time": "t", "key_id": "k"}',
        b"\xff\xfe",
    ],
)
def test_anything_else_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a checkpoint"):
        Checkpoint.from_json(data)
