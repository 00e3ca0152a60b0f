"""Our GGUF check against the reference readers: llama.cpp's parser and the `gguf` package.

A file is accepted only where both would open it (`reference_accepts`); each generated and
mutated file must get that decision from us. The readers disagree with each other on a few
rules (see docs/format-checks.md); `test_where_the_references_disagree_we_refuse` pins them.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import gguf as gguf_package
import pytest

from modelgate_validator.formats import gguf as ours
from modelgate_validator.formats.gguf_types import READER_BLOCK_BYTES, TENSOR_TYPES, ValueType
from modelgate_validator.formats.range_cursor import RangeCursor, Truncated
from tests.unit.validator.differential import gguf_files as gen
from tests.unit.validator.differential.gguf_references import Ggml, gguf_package_accepts
from tests.unit.validator.differential.memory_reader import FileReader, MemoryReader

SEED = 18
VALID_FILES = 300
MUTATED_FILES = 1300
SPARSE_FILES = 12
GiB = 1024**3


@pytest.fixture(scope="module")
def ggml() -> Ggml:
    return Ggml()


def reference_accepts(ggml: Ggml, path: Path) -> bool:
    # llama.cpp first: it refuses a huge array count at once, where GGUFReader would loop.
    return ggml.accepts(path) and gguf_package_accepts(path)


async def ours_accepts(path: Path, size: int) -> tuple[bool, list[str], int]:
    reader = FileReader()
    problems, _ = await ours.inspect(reader, str(path), size)
    return not problems, problems, reader.bytes_read


def _write(path: Path, data: bytes, size: int) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.truncate(size)  # a hole where a sparse file's data would be


def test_tensor_types_match_both_readers(ggml: Ggml) -> None:
    package = {int(t): sizes for t, sizes in gguf_package.GGML_QUANT_SIZES.items()}
    for type_id, kind in TENSOR_TYPES.items():
        assert (ggml.lib.ggml_blck_size(type_id), ggml.lib.ggml_type_size(type_id)) == (
            kind.block,
            kind.block_bytes,
        ), kind.name
        block, block_bytes = package[type_id]
        assert block == kind.block
        assert block_bytes == READER_BLOCK_BYTES.get(type_id, kind.block_bytes), kind.name
    # Every type both know is in the table: nothing valid is refused as "unknown".
    both = {t for t in package if ggml.lib.ggml_blck_size(t) > 0}
    assert set(TENSOR_TYPES) == both


def _files(rng: random.Random) -> list[tuple[str, gen.Model | None, bytes, int]]:
    files: list[tuple[str, gen.Model | None, bytes, int]] = []
    types = sorted(TENSOR_TYPES)
    for i in range(VALID_FILES):
        model = gen.valid(rng, types[i % len(types)])
        data, _, size = gen.serialize(model, rng)
        files.append((f"valid with {TENSOR_TYPES[types[i % len(types)]].name}", model, data, size))
    for i in range(SPARSE_FILES):
        model = gen.valid(rng)
        model.tensors.append(gen.Tensor(b"big", [4096, 65536 * (i % 3 + 1)], 0))
        model.tail = 0
        model.sparse = True
        data, _, size = gen.serialize(model, rng)
        # Some sparse files end a byte short of their last tensor.
        files.append((f"sparse {size / GiB:.1f} GiB", None, data, size - (i % 2)))
    for _ in range(MUTATED_FILES):
        model = gen.valid(rng)
        what = []
        if rng.random() < 0.5:
            what.append(gen.mutate_model(model, rng))
        data, marks, size = gen.serialize(model, rng)
        if rng.random() < 0.5 or not what:
            if rng.random() < 0.75:
                data, change = gen.mutate_marks(data, marks, rng)
            else:
                header_end = max((m.offset + m.width for m in marks), default=len(data))
                data, change = gen.mutate_bytes(data, min(header_end, len(data)), rng)
            what.append(change)
            size = len(data)
        files.append((" + ".join(what), model, data, size))
    return files


async def test_every_file_gets_the_reference_decision(ggml: Ggml, tmp_path: Path) -> None:
    files = _files(random.Random(SEED))
    path = tmp_path / "model.gguf"
    decisions: Counter[bool] = Counter()
    disagreements = []
    for i, (what, _, data, size) in enumerate(files):
        _write(path, data, size)
        reference = reference_accepts(ggml, path)
        accepted, problems, read = await ours_accepts(path, size)
        decisions[reference] += 1
        if accepted != reference:
            disagreements.append(f"#{i} {what}: reference {reference}, ours {problems}")
        # Bounded reads: never the tensor data of a large file.
        assert read <= max(len(data), 1) + 1024 * 1024 or size < 2 * 1024 * 1024
    assert len(files) >= 1000
    assert disagreements == []
    assert decisions[True] >= 300
    assert decisions[False] >= 500


def _case(name: str) -> gen.Model:
    """Files on which llama.cpp and the `gguf` package do not agree."""
    m = gen.Model(tensors=[gen.Tensor(b"w", [4, 2], 0)])
    if name == "nested array":
        m.kvs.append(gen.KV(b"a", ValueType.ARRAY, (ValueType.ARRAY, [(ValueType.UINT8, [1])])))
    elif name == "five dimensions":
        m.tensors = [gen.Tensor(b"w", [2, 1, 1, 1, 1], 0)]
    elif name == "tensors out of data order":
        m.tensors = [gen.Tensor(b"a", [8], 0, offset=32), gen.Tensor(b"b", [8], 0, offset=0)]
    elif name == "empty key":
        m.kvs.append(gen.KV(b"", ValueType.UINT8, 1))
    elif name == "key named GGUF.version":
        m.kvs.append(gen.KV(b"GGUF.version", ValueType.UINT32, 3))
    elif name == "Q8_1 sized by ggml":
        m.tensors = [gen.Tensor(b"q", [32, 2], 9)]
    return m


@pytest.mark.parametrize(
    ("name", "llama_cpp", "gguf_package"),
    [
        ("nested array", False, True),
        ("five dimensions", False, True),
        ("tensors out of data order", False, True),
        ("empty key", False, True),
        ("key named GGUF.version", True, False),
        ("Q8_1 sized by ggml", True, False),
    ],
)
async def test_where_the_references_disagree_we_refuse(
    ggml: Ggml, tmp_path: Path, name: str, llama_cpp: bool, gguf_package: bool
) -> None:
    data, _, size = gen.serialize(_case(name), random.Random(0))
    path = tmp_path / "model.gguf"
    _write(path, data, size)
    assert (ggml.accepts(path), gguf_package_accepts(path)) == (llama_cpp, gguf_package)
    accepted, problems, _ = await ours_accepts(path, size)
    assert not accepted
    assert problems


async def test_the_decision_does_not_depend_on_the_read_window() -> None:
    """Fields and strings that straddle a window's edge are read the same as inside one."""
    files = _files(random.Random(SEED + 1))[::8]
    for what, _, data, size in files:
        if size != len(data):
            continue  # sparse: covered above
        answers = set()
        for window in (9, 64, 1000, 1 << 20):
            reader = MemoryReader({"m": data})
            try:
                answers.add(await ours.check(RangeCursor(reader, "m", size, window=window)))
            except (ours.Refused, Truncated) as exc:
                answers.add(f"refused: {type(exc).__name__}")
        assert len(answers) == 1, (what, answers)
