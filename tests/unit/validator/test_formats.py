"""Format inspectors on real files: they find what is wrong and never execute anything."""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from modelgate_testkit.gguf_model import write_tiny_llama
from modelgate_testkit.models import malicious_pickle, tiny_safetensors
from modelgate_validator.formats import gguf, onnx_model, pickles, safetensors, serde_json
from modelgate_validator.formats.range_cursor import RangeCursor
from tests.unit.validator.differential.memory_reader import MemoryReader


def _drop_last_tensor(header: dict[str, object]) -> None:
    last = max(
        (k for k in header if k != "__metadata__"),
        key=lambda k: header[k]["data_offsets"][1],  # type: ignore[index]
    )
    del header[last]


def _header(data: bytes) -> tuple[dict[str, object], int]:
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), len(data) - 8 - length


def _check(header: object, data_bytes: int) -> list[str]:
    return safetensors.check_header(serde_json.loads(json.dumps(header)), data_bytes)[0]


def test_real_safetensors_header_is_consistent() -> None:
    header, data_bytes = _header(tiny_safetensors())
    problems, tensors = safetensors.check_header(serde_json.loads(json.dumps(header)), data_bytes)
    assert problems == []
    assert tensors == 3


@pytest.mark.parametrize(
    ("dtype", "shape", "size"),
    [
        ("F4", [2, 3], 3),
        ("F6_E2M3", [4], 3),
        ("F6_E3M2", [8], 6),
        ("F8_E4M3FNUZ", [5], 5),
        ("F8_E5M2FNUZ", [1], 1),
        ("C64", [2], 16),
        ("F8_E8M0", [3], 3),
    ],
)
def test_newer_dtypes_are_accepted_with_their_byte_sizes(
    dtype: str, shape: list[int], size: int
) -> None:
    header = {"t": {"dtype": dtype, "shape": shape, "data_offsets": [0, size]}}
    assert _check(header, size) == []
    header["t"]["data_offsets"] = [0, size + 1]
    assert _check(header, size + 1) != []


def test_a_sub_byte_tensor_must_fill_whole_bytes() -> None:
    header = {"t": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}}
    assert any("whole bytes" in p for p in _check(header, 2))


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda h: h["embed.weight"].update(dtype="F128"), "unknown dtype 'F128'"),
        (lambda h: h["embed.weight"].update(shape=[32, -1]), "is not a list of sizes"),
        (lambda h: h["embed.weight"].update(data_offsets=[0, 10**9]), "expected 2048"),
        (lambda h: h["embed.weight"].update(shape=[32, 15]), "expected 1920"),
        (lambda h: h["layer.0.bias"].update(data_offsets=[0, 64]), "overlaps"),
        (_drop_last_tensor, "data bytes"),
    ],
)
def test_corrupted_safetensors_headers_are_refused(mutate: object, problem: str) -> None:
    header, data_bytes = _header(tiny_safetensors())
    mutate(header)  # type: ignore[operator]
    problems = _check(header, data_bytes)
    assert any(problem in p for p in problems), problems


async def _gguf(data: bytes) -> tuple[list[str], str]:
    return await gguf.inspect(MemoryReader({"m": data}), "m", len(data))


async def test_a_real_gguf_model_passes(tmp_path: Path) -> None:
    data = write_tiny_llama(tmp_path / "tiny.gguf", layers=1).read_bytes()
    problems, note = await _gguf(data)
    assert problems == []
    assert "GGUF v3" in note
    assert "all inside the file" in note


async def test_gguf_header_damage_is_refused(tmp_path: Path) -> None:
    data = write_tiny_llama(tmp_path / "tiny.gguf", layers=1).read_bytes()
    assert "magic" in (await _gguf(b"GGML" + data[4:]))[0][0]
    assert "version 9" in (await _gguf(data[:4] + struct.pack("<I", 9) + data[8:]))[0][0]
    assert "cannot fit" in (await _gguf(data[:8] + struct.pack("<Q", 2**40) + data[16:]))[0][0]
    # The first key's length, corrupted: it now runs past the end of the file.
    corrupt = data[:24] + struct.pack("<Q", len(data)) + data[32:]
    assert "truncated" in (await _gguf(corrupt))[0][0]
    # Tensor data cut short by one byte.
    assert "run past the end" in (await _gguf(data[:-1]))[0][0]
    assert (await _gguf(b"GGU"))[0]


async def test_gguf_is_checked_a_window_at_a_time_without_its_tensors(tmp_path: Path) -> None:
    path = write_tiny_llama(tmp_path / "tiny.gguf", layers=2)
    reader = MemoryReader({"m": path.read_bytes()})
    size = len(reader.blobs["m"])
    cursor = RangeCursor(reader, "m", size, window=4096)
    assert "all inside the file" in await gguf.check(cursor)
    assert max(length for _, length in reader.reads) <= 4096
    assert reader.bytes_read < size // 4


def test_malicious_pickle_is_named_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "model.pkl"
    path.write_bytes(malicious_pickle(f"touch {marker}"))
    problems, _ = pickles.scan_local(path)
    assert problems
    assert "dangerous pickle imports" in problems[0]
    assert "system" in problems[0]
    assert not marker.exists()


def test_plain_data_pickle_passes(tmp_path: Path) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0], "b": (0, 1)}, protocol=4))
    assert pickles.scan_local(path)[0] == []


def test_protocol_zero_pickle_without_magic_bytes_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b"cos\nsystem\n(S'touch /tmp/x'\ntR.")
    assert not pickles.looks_like_pickle(path.read_bytes())
    problems, _ = pickles.scan_local(path, must_be_pickle=False)
    assert problems
    assert "system" in problems[0]


def test_json_is_not_mistaken_for_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"hidden_size": 16, "architectures": ["Tiny"]}')
    assert pickles.scan_local(path, must_be_pickle=False) == ([], "")


def test_pickle_sniffing() -> None:
    assert pickles.looks_like_pickle(pickle.dumps(1, protocol=2))
    assert pickles.looks_like_pickle(b"PK\x03\x04rest")
    assert not pickles.looks_like_pickle(b'{"json": true}')


def _onnx_model(external_location: str | None = None) -> onnx.ModelProto:
    weight = helper.make_tensor("W", TensorProto.FLOAT, [2, 2], np.eye(2, dtype=np.float32).ravel())
    if external_location is not None:
        weight.ClearField("float_data")
        weight.data_location = TensorProto.EXTERNAL
        weight.external_data.add(key="location", value=external_location)
        weight.external_data.add(key="length", value="16")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "tiny",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
        initializer=[weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_valid_onnx_passes_the_checker(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(_onnx_model(), str(path))
    problems, note = onnx_model.check_local(path, "model.onnx", {"model.onnx"})
    assert problems == []
    assert "valid ONNX" in note


def test_onnx_external_data_must_stay_inside_the_artifact(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(_onnx_model("../../etc/passwd"), str(path))
    problems, _ = onnx_model.check_local(path, "model.onnx", {"model.onnx"})
    assert any("escapes the artifact" in p for p in problems), problems


def test_onnx_external_data_must_be_a_file_of_the_artifact(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(_onnx_model("weights.bin"), str(path))
    (tmp_path / "weights.bin").write_bytes(np.eye(2, dtype=np.float32).tobytes())
    inside = onnx_model.check_local(
        path, "onnx/model.onnx", {"onnx/model.onnx", "onnx/weights.bin"}
    )
    assert inside[0] == []
    missing = onnx_model.check_local(path, "onnx/model.onnx", {"onnx/model.onnx"})
    assert any("not a file of the artifact" in p for p in missing[0])


def test_garbage_is_not_onnx(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x00garbage" * 10)
    problems, _ = onnx_model.check_local(path, "model.onnx", {"model.onnx"})
    assert problems
    assert "onnx checker" in problems[0]
