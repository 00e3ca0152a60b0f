"""Our safetensors check against the reference implementation (the `safetensors` package):
the same generated and mutated files, the same accept/refuse decision, every time."""

from __future__ import annotations

import json
import random
import re
import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
import safetensors
from safetensors import safe_open

from modelgate_validator.formats import safetensors as ours
from tests.unit.validator.differential import safetensors_files as gen
from tests.unit.validator.differential.memory_reader import MemoryReader

SEED = 18
# The package ships no annotations for it.
deserialize = cast("Callable[[bytes], object]", safetensors.deserialize)
VALID_FILES = 400
MUTATED_FILES = 1400


def package_dtypes() -> list[str]:
    """The dtypes the installed package knows, in its own words: serde's list of variants."""
    header = json.dumps({"t": {"dtype": "?", "shape": [], "data_offsets": [0, 0]}}).encode()
    with pytest.raises(safetensors.SafetensorError) as refused:
        deserialize(struct.pack("<Q", len(header)) + header)
    listed = re.search(r"expected one of (.*?) at line", str(refused.value))
    assert listed, refused.value
    return re.findall(r"`([A-Z0-9_]+)`", listed.group(1))


def test_our_dtypes_are_exactly_the_packages() -> None:
    assert sorted(package_dtypes()) == sorted(ours.DTYPE_BITS)


def _reference_accepts(data: bytes, path: Path) -> bool:
    """Both of the package's readers; they must agree with each other too."""
    try:
        deserialize(data)
        from_bytes = True
    except safetensors.SafetensorError:
        from_bytes = False
    path.write_bytes(data)
    try:
        with safe_open(str(path), framework="numpy"):
            from_file = True
    except safetensors.SafetensorError:
        from_file = False
    assert from_bytes == from_file, "the package's two readers disagree"
    return from_bytes


async def _ours_accepts(data: bytes) -> tuple[bool, list[str]]:
    reader = MemoryReader({"s3://b/m.safetensors": data})
    problems, _ = await ours.inspect(reader, "s3://b/m.safetensors", len(data))
    return not problems, problems


def _files() -> list[tuple[str, bytes]]:
    rng = random.Random(SEED)
    dtypes = dict(ours.DTYPE_BITS)
    files: list[tuple[str, bytes]] = []
    for i in range(VALID_FILES):
        # Every dtype, in turn, in a file of its own besides the random ones.
        forced = sorted(dtypes)[i % len(dtypes)]
        files.append((f"valid {forced}", gen.serialize(gen.valid(rng, dtypes, forced), rng)))
    for _ in range(MUTATED_FILES):
        built = gen.valid(rng, dtypes)
        if rng.random() < 0.6 or not built.header:
            what = gen.mutate_header(built, rng, dtypes)
            if rng.random() < 0.2:
                what += " + " + gen.mutate_header(built, rng, dtypes)
            files.append((what, gen.serialize(built, rng)))
        else:
            data, what = gen.mutate_bytes(gen.serialize(built, rng), rng)
            files.append((what, data))
    return files


async def test_every_file_gets_the_reference_decision(tmp_path: Path) -> None:
    files = _files()
    decisions: Counter[bool] = Counter()
    disagreements = []
    for i, (what, data) in enumerate(files):
        reference = _reference_accepts(data, tmp_path / "model.safetensors")
        accepted, problems = await _ours_accepts(data)
        decisions[reference] += 1
        if accepted != reference:
            disagreements.append(f"#{i} {what}: reference {reference}, ours {problems}")
    assert len(files) >= 1000
    assert disagreements == []
    # Both outcomes are well represented, or the generator has stopped testing anything.
    assert decisions[True] >= 400
    assert decisions[False] >= 400
